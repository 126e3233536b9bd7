"""The model server image: build it, push it to the workspace's ECR repository, pin it by digest.

* :mod:`~mlfargate.image.builders`: which builder runs (docker with buildx, podman, buildah; found
  or named) and its command lines.
* :mod:`~mlfargate.image.context`: the build context, and the content-derived tag (the git commit
  when the context is clean, else a hash of the context); never ``latest``.
* :mod:`~mlfargate.image.build`: ``build`` runs the builder for the spec's CPU architecture and
  records what it built beside the spec (``.mlfargate/image-<prefix>.json``).
* :mod:`~mlfargate.image.registry`: the repository, the ECR login token (``ecr:GetAuthorizationToken``
  through :func:`mlfargate.aws.client`) and the registry HTTP API (tag look-up, digest read-back).
* :mod:`~mlfargate.image.pin`: the workspace's pin (``image.auto.tfvars``: ``image_digest``) and the
  next step ``plan``/``apply`` show while the service waits for it.
* :mod:`~mlfargate.image.push`: ``push`` logs in, refuses an existing (immutable) tag, pushes, reads the
  digest back from the registry and pins the workspace to it.

A first deployment (docs/image.md): ``generate`` -> ``plan``/``apply`` (the repository is created; the
service runs no task while no image is pinned) -> ``image build`` / ``image push`` -> ``plan``/``apply``
(the task definition names ``repository@sha256:...`` and the service starts).
"""
