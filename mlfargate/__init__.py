"""mlfargate: an ML model server on AWS ECS, from an operator's choices to a running, costed service."""

__version__ = "0.1.0"
