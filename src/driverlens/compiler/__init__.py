"""The template compiler: template + partner scope + date window -> SQLGlot tree -> dialect SQL."""

from driverlens.compiler.query import (
    DIALECTS,
    EVENTS_TABLE,
    CompiledQuery,
    UnsupportedQuery,
    compile_template,
)
from driverlens.compiler.window import DataWindow, Scope, window_for

__all__ = [
    "DIALECTS",
    "EVENTS_TABLE",
    "CompiledQuery",
    "DataWindow",
    "Scope",
    "UnsupportedQuery",
    "compile_template",
    "window_for",
]
