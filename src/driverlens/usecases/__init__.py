"""Use cases behind the report endpoints: templates, scheduled reports, report data, CABs.

No HTTP here: routes (and the CLI) call these with an explicit caller, database and time.
"""
