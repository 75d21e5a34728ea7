"""Benchmarks (`make bench`): each prints one table of figures and saves them as JSON."""
