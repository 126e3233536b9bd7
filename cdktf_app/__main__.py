"""``python -m cdktf_app``: synthesize the workspace of a spec (what cdktf.json's ``app`` runs)."""

from __future__ import annotations

import sys

from cdktf_app.app import main

if __name__ == "__main__":
    sys.exit(main())
