"""Stage 2, workspace generation: spec -> the plan of a Terraform root workspace (``wiring``: which
modules, with which arguments, and where they come from: ``sources``), serialized as HCL (``hcl`` with
the jinja2 ``templates/``) or as a CDK Terrain app (``cdktf``), written atomically with a manifest of
what was generated (``workspace``)."""
