"""WSGI guards that must run before Flask sees the request."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

# RFC 3986 reg-name characters we serve (letters, digits, dots, dashes), an IPv6
# literal in brackets, and an optional port. Werkzeug fails with a UnicodeError on
# some malformed hosts (an over-long label), which would surface as a 500.
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$")
_LABEL_MAX = 63

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _host_ok(host: str) -> bool:
    if not _HOST.match(host):
        return False
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else ""
    return all(len(label) <= _LABEL_MAX for label in name.split("."))


class RejectMalformedHost:
    """Answer 400 to a request whose Host header is not a plausible host name."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST")
        if host is not None and not _host_ok(host):
            body = b"Bad Request: malformed Host header\n"
            start_response(
                "400 Bad Request",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    ("Cache-Control", "no-store"),
                ],
            )
            return [body]
        return self.app(environ, start_response)
