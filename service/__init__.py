"""The model server container; the Python package is ``service/mlserve``."""
