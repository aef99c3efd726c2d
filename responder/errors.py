"""Error pages: generic words, no stack traces; JSON for the API, bare for webhooks."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, InternalError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

logger = logging.getLogger(__name__)

MESSAGES = {
    400: "The request could not be understood.",
    401: "Please sign in.",
    403: "You do not have access to this.",
    404: "Not found.",
    405: "That method is not allowed here.",
    409: "Someone else changed this first.",
    413: "That upload is too large.",
    429: "Too many requests: please wait a moment and try again.",
    500: "Something went wrong on our side. It has been logged.",
    503: "The service is temporarily unavailable. Please try again shortly; "
    "in an emergency, phone the team.",
    507: "Changes cannot be saved at the moment: the database is full or read-only. "
    "Nothing already saved has been lost. In an emergency, phone the team.",
}

# SQLSTATEs and SQLite messages that mean "stored data is safe, but no writes".
_NO_WRITES_SQLSTATES = frozenset({"53100", "25006"})
_NO_WRITES_WORDS = (
    "readonly database",
    "read-only",
    "database or disk is full",
    "no space left",
)


def _cannot_write(error: DBAPIError) -> bool:
    if getattr(error.orig, "sqlstate", None) in _NO_WRITES_SQLSTATES:
        return True
    text = str(error.orig).lower()
    return any(words in text for words in _NO_WRITES_WORDS)


def wants_json() -> bool:
    """Say whether the client should get JSON errors (the API)."""
    return request.path.startswith("/api/")


def is_webhook() -> bool:
    """Say whether the request came to a webhook (answered with bare statuses)."""
    return request.path.startswith("/hooks/")


def render_error(code: int, message: str | None = None) -> tuple[Response | str, int]:
    """Render an error in the form the caller expects."""
    text = message or MESSAGES.get(code, "Error.")
    if is_webhook():
        return Response(status=code), code
    if wants_json():
        return jsonify({"error": text, "status": code}), code
    return render_template("errors/error.html", code=code, message=text), code


def _rollback() -> None:
    from flask import g

    session = g.get("db")
    if session is not None:
        try:
            session.rollback()
        except DBAPIError:  # the database may be the thing that failed
            logger.warning("rollback failed after an error", exc_info=False)


def handle_http(error: HTTPException) -> tuple[Response | str, int]:
    """Render an HTTP error generically."""
    code = error.code or 500
    message = error.description if code == 400 and wants_json() else None
    response, status = render_error(code, message)
    if code == 405 and isinstance(response, Response):
        response.headers["Allow"] = ", ".join(error.valid_methods or [])  # type: ignore[attr-defined]
    return response, status


def handle_database_down(error: DBAPIError) -> tuple[Response | str, int]:
    """Answer 507 when writes are impossible, 503 when the database is away."""
    _rollback()
    if _cannot_write(error):
        logger.error("database refuses writes: %s", type(error.orig).__name__)
        return render_error(507)
    if isinstance(error, InternalError):
        # A failover to a read-only replica surfaces as InternalError; any other
        # InternalError is a bug.
        return handle_unexpected(error)
    logger.error("database unavailable: %s", type(error.orig).__name__)
    return render_error(ServiceUnavailable.code)


def handle_unexpected(error: Exception) -> tuple[Response | str, int]:
    """Log an unexpected error and answer a generic 500."""
    logger.exception("unhandled error on %s %s", request.method, request.path)
    _rollback()
    return render_error(InternalServerError.code)


def init_app(app: Flask) -> None:
    """Register the error handlers."""
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(OperationalError, handle_database_down)
    app.register_error_handler(InternalError, handle_database_down)
    app.register_error_handler(Exception, handle_unexpected)
