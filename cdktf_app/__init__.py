"""The mlfargate workspace as a CDK Terrain (cdktn) app: same spec, same module calls, as cdk.tf.json.

Run it with ``cdktn synth`` in a workspace written by ``mlfargate generate --format cdktf`` (its
cdktf.json names this app), or directly: ``python -m cdktf_app --spec mlfargate.yaml``. Every module
argument comes from :func:`mlfargate.generate.wiring.plan`, the same code the HCL renderer serializes.
"""
