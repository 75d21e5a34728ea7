"""The HTTP API: FastAPI app factory, envelope, error handler and one router per resource."""

from driverlens.api.app import create_app

__all__ = ["create_app"]
