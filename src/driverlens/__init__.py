"""DriverLens: driver failure reports compatible with the Windows Hardware Dev Center API."""

__version__ = "0.1.0"
