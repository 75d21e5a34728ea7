"""The partner dashboard: server-rendered pages under ``/ui`` over the same use cases as the API.

Pages are Jinja2 templates shipped in this package; charts are SVG drawn on the server
(``web.charts``); the one style sheet and the one script are this package's own files, served from
``/ui/static``. Nothing is loaded from anywhere else. Sign-in opens a server-side session
(``auth.web_sessions``); every form that changes state carries the session's CSRF token.
"""

from driverlens.web.mount import install_dashboard

__all__ = ["install_dashboard"]
