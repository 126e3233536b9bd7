"""Docker HEALTHCHECK / ECS container health check: ``python -m mlserve.healthcheck``.

Exit 0 when ``GET http://127.0.0.1:$PORT/health`` answers 200, else 1. Uses only the standard library
so the image needs no curl.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def main(path: str = "/health") -> int:
    port = os.environ.get("PORT", "8080")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as resp:
            return 0 if resp.status == 200 else 1
    except (urllib.error.URLError, OSError):
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "/health"))
