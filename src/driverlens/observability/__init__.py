"""What operators watch: Prometheus metrics of each process (no client library) and structured logs.

Every process exposes its own counters, labelled with its role (``api``, ``worker``, ``ingest``):
``driverlens serve`` on the API's ``/metrics``, ``driverlens worker --metrics-port`` on its own small
HTTP server, ``driverlens ingest --metrics-file`` as a node_exporter textfile. docs/operations.md lists
every metric.
"""

from driverlens.observability.exposition import Counter, GaugeFamily, Histogram, Registry
from driverlens.observability.process import ProcessMetrics

__all__ = ["Counter", "GaugeFamily", "Histogram", "ProcessMetrics", "Registry"]
