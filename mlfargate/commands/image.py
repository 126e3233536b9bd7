"""``mlfargate image build SPEC`` and ``mlfargate image push SPEC WORKSPACE``: the model server image,
built for the spec's architecture, pushed to the workspace's ECR repository and pinned there by digest."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlfargate.commands._common import (
    Subparsers,
    add_engine_args,
    emit_json,
    engine_from,
    err,
    examples,
    out,
)


def register(sub: Subparsers) -> None:
    p = sub.add_parser(
        "image",
        help="build the model server image; push it to the workspace's ECR repository, pinned by digest",
        description="A first deployment: generate -> plan/apply (creates the ECR repository; the service runs "
        "no task yet) -> image build -> image push (pins the digest in the workspace) -> plan/apply (the "
        "service starts on repository@sha256:...). See docs/image.md.",
        epilog=examples(
            "mlfargate image build mine.yaml",
            "mlfargate image push mine.yaml environments/mine",
        ),
    )
    image = p.add_subparsers(dest="image_command", metavar="SUBCOMMAND")

    b = image.add_parser(
        "build",
        help="build the image for the spec's CPU architecture, with a content-derived tag",
        description="Build the model server image (default context: the packaged service/) with docker "
        "buildx, podman or buildah (the first found, or --builder), for linux/amd64 or linux/arm64 as the "
        "spec's compute.architecture says. The tag is the git commit when the context is clean, else a hash "
        "of the context; never `latest`. What was built is recorded beside the spec for `image push`.",
        epilog=examples(
            "mlfargate image build mine.yaml", "mlfargate image build mine.yaml --builder podman --json"
        ),
    )
    b.add_argument("spec", help="deployment spec (mlfargate.yaml)")
    b.add_argument(
        "--context", metavar="DIR", type=Path, help="build context (default: the packaged service/)"
    )
    b.add_argument("--dockerfile", metavar="F", type=Path, help="Dockerfile (default: DIR/Dockerfile)")
    b.add_argument(
        "--builder", choices=("docker", "podman", "buildah"), help="builder to use (default: the first found)"
    )
    b.add_argument("--json", action="store_true", help="machine-readable output (builder output on stderr)")
    b.set_defaults(handler=run_build)

    u = image.add_parser(
        "push",
        help="push the built image to the workspace's ECR repository and pin its digest",
        description="Log in to ECR with a token from ecr:GetAuthorizationToken (never printed; kept only in "
        "the builder's temporary auth file, removed afterwards), refuse a tag the repository already has "
        "(its tags are immutable), push, read the digest back from the registry and pin the workspace to "
        "it (image.auto.tfvars): the next plan/apply runs repository@sha256:... . The repository comes from "
        "the workspace's state (output image_repository_url) or, before that output exists, from ECR.",
        epilog=examples(
            "mlfargate image push mine.yaml environments/mine",
            "mlfargate image push mine.yaml environments/mine --json",
        ),
    )
    u.add_argument("spec", help="deployment spec (mlfargate.yaml) the image was built for")
    u.add_argument("workspace", help="the workspace generated from the spec (and applied)")
    add_engine_args(u)
    u.add_argument("--json", action="store_true", help="machine-readable output (builder output on stderr)")
    u.set_defaults(handler=run_push)


def run_build(args: argparse.Namespace) -> int:
    from mlfargate.image.build import build
    from mlfargate.spec.rules import load_valid

    built = build(Path(args.spec), args.context, args.dockerfile, args.builder, on_output=err)
    if args.json:
        emit_json(built.to_dict())
        return 0
    out(f"built {built.image} for {built.platform} with {built.builder} (tag from {built.origin})")
    if load_valid(Path(args.spec)).service.image is not None:
        out(
            "note: the spec sets service.image, so `image push` will not push this image: that repository is yours"
        )
    else:
        out(f"next: `mlfargate image push {args.spec} WORKSPACE` pushes it to the workspace's ECR repository")
    return 0


def run_push(args: argparse.Namespace) -> int:
    from mlfargate.image.push import push

    result = push(Path(args.spec), Path(args.workspace), engine_from(args), on_output=err)
    if args.json:
        emit_json(result.to_dict())
        return 0
    out(f"pushed {result.repository}:{result.tag}")
    was = f" (was {result.previous})" if result.previous and result.previous != result.digest else ""
    out(f"pinned {result.image} in {result.pin_file}{was}")
    out(
        f"next: `mlfargate plan {args.workspace}` and `mlfargate apply {args.workspace}` run the service on it"
    )
    return 0
