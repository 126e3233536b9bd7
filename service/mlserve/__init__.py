"""mlserve: the model server image (FastAPI + uvicorn, dynamic batching, readiness, SIGTERM drain).

Relative imports only, so the package runs both as ``service.mlserve`` (repo checkout, tests) and as
``mlserve`` (the container copies it to /app/mlserve).
"""

__version__ = "0.1.0"
