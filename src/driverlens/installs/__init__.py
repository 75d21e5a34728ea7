"""The install base: devices running each driver version per day, the denominator of failure rates.

A second Delta table beside the events (``<data dir>/installs/lake``), written and read with the same
machinery (``events.lake``): validated ingest (``installs.ingest``), one atomic commit per call, 90 days of
retention, and a view ``install_base`` bound with the events in every report's snapshot.
"""
