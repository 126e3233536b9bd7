"""Stage 6, the live service: health snapshots and diagnosis of a deployed service (shared by
``mlfargate status``/``doctor SPEC`` and the TUI dashboard)."""
