"""Stage 3, Terraform execution: which engine runs (``engine``), running it as a child process with
streamed ``-json`` progress and graceful Ctrl-C (``process``, the embedded core's ``worker``), turning
its failures into one actionable line (``diagnostics``), the workspace's on-disk state (``state``:
data dir, installed modules, fingerprint, saved plan), the operations (``operations``: init, plan,
apply), the plan's summary (``plan_summary``) and offline checks through the embedded core
(``config_check``: parse, references, variable validation, fmt)."""
