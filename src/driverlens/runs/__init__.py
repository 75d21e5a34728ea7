"""Scheduled runs: schedule arithmetic, the planner, leases and the run state machine, workers.

Modules: ``schedule`` (pure arithmetic), ``planner`` (materialises due runs), ``manual`` (extra runs
now), ``states`` (the state machine), ``leases`` (claim, renew, guarded commits), ``execution`` (one
run end to end), ``worker`` (loops, graceful stop), ``retention`` (purge of old files and events).
"""
