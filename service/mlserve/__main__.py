"""``python -m mlserve`` (container) or ``python -m service.mlserve`` (repo checkout)."""

from .server import main

raise SystemExit(main())
