"""The `driverlens` command line: thin shells over the use cases."""
