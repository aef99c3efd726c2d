"""The security baseline: CSRF, rate limits, security headers and no-store.

Every response carries a strict Content-Security-Policy (no inline script or
style), HSTS, nosniff, no-referrer, a Permissions-Policy that allows only location
and camera (the lookup page and the card scanner), and COOP. Every response
outside /static/ and the views marked `@cacheable` is `Cache-Control: no-store`:
pages here show personal data, and a shared phone in a station must not keep a
plan in its cache.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, abort, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from plans.lookup import SearchRate
from plans.ratelimit import DatabaseCounter, RedisCounter, parse_limits

logger = logging.getLogger(__name__)

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, strategy="moving-window")

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": (
        "geolocation=(self), camera=(self), microphone=(), payment=(), usb=()"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


F = TypeVar("F", bound=Callable[..., Any])


def cacheable(view: F) -> F:
    """Let a view choose its own Cache-Control (public, personal-data-free pages).

    Every other response is no-store; the after-request hook honours this mark and
    nothing else, so a view cannot cache by setting a header and hoping.
    """
    view.cacheable = True  # type: ignore[attr-defined]
    return view


def may_be_cached() -> bool:
    """Say whether this response may keep the caching its view chose."""
    if request.path.startswith(f"{current_app.static_url_path}/"):
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "cacheable", False))


def add_security_headers(response: Response) -> Response:
    """Add the security headers, and no-store on everything but static files."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if may_be_cached() and "Cache-Control" in response.headers:
        return response
    if not request.path.startswith(f"{current_app.static_url_path}/"):
        no_store(response)
    return response


def no_store(response: Response) -> Response:
    """Keep a response out of every cache (the one place no-store is set).

    Blueprints do not add their own: every response but static files and
    `@cacheable` views passes through `add_security_headers`, which calls this.
    """
    response.headers["Cache-Control"] = "no-store"
    response.headers.pop("Expires", None)
    response.headers.pop("ETag", None)
    response.headers.pop("Last-Modified", None)
    return response


def rate_limit_storage_reachable() -> bool:
    """Say whether the rate-limit store answers (always true for memory)."""
    if not current_app.config.get("REDIS_URL"):
        return True
    try:
        return bool(limiter.storage.check())
    except Exception:  # noqa: BLE001  (any storage failure means "not reachable")
        return False


def require_rate_limit_storage() -> None:
    """Abort 503 when Redis is configured but down: sign-in limits fail closed."""
    if not rate_limit_storage_reachable():
        logger.error("rate-limit storage unreachable; refusing sign-in attempts")
        abort(503)


def search_rate(app: Flask) -> SearchRate:
    """Return how this app counts searches: Redis when configured, else the database."""
    rate: SearchRate | None = app.extensions.get("responder.search_rate")
    if rate is None:
        limits = parse_limits(str(app.config.get("SEARCH_RATE_LIMITS") or ""))
        redis_url = app.config.get("REDIS_URL")
        if redis_url:
            import redis

            counter = RedisCounter(redis.Redis.from_url(str(redis_url)))
            rate = SearchRate(counter=counter, limits=limits)
        else:
            rate = SearchRate(counter=DatabaseCounter(), limits=limits)
        app.extensions["responder.search_rate"] = rate
    return rate


def init_app(app: Flask) -> None:
    """Install CSRF protection, the rate limiter and the response headers."""
    redis_url = app.config.get("REDIS_URL")
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", str(redis_url) if redis_url else "memory://"
    )
    # Elsewhere a Redis outage must not stop a responder reaching a plan, so the
    # limiter falls back to per-process memory limits; sign-in checks the store
    # itself and fails closed (require_rate_limit_storage).
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    # A form left open through a long shift still submits; the token is tied to
    # the session instead of a clock.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config.setdefault("WTF_CSRF_SSL_STRICT", True)
    if app.testing:
        # Test clients post forms directly; tests/security/test_security.py turns
        # this on and proves every form is protected.
        app.config.setdefault("WTF_CSRF_ENABLED", False)
    csrf.init_app(app)
    limiter.init_app(app)
    search_rate(app)  # a malformed SEARCH_RATE_LIMITS stops the start, not a search
    app.after_request(add_security_headers)
    # Callers of these prove themselves another way: bearer tokens (api) and
    # provider signatures (hooks). Neither rides on a browser cookie to forge.

    from responder import api, hooks

    for module in (api, hooks):
        csrf.exempt(module.bp)
