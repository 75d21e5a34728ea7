"""Fixtures borrowed from the runs and callbacks tests: the report factory, an ended run with a
callback to send, and the local HTTP receiver."""

from tests.callbacks.conftest import receiver
from tests.callbacks.test_dispatcher import ended_run
from tests.runs.conftest import make_report

__all__ = ["ended_run", "make_report", "receiver"]
