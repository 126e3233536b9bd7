"""Stage 4, the policy gate: checkov in-process on a workspace and its saved plan (``gate``), the
speed-ups and module loading it patches into checkov (``checkov_patches``), and the offline check of
a workspace against the AWS provider's schema (``provider_schema``)."""
