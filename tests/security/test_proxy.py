"""X-Forwarded-* headers count only through the configured number of proxies."""

from __future__ import annotations

import pytest
from flask import Flask, request

from responder import create_app


def _app(database_url: str, hops: int) -> Flask:
    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "TRUSTED_PROXY_HOPS": hops}
    )

    @app.get("/whoami")
    def whoami() -> dict[str, str | None]:
        return {"url": request.url, "remote": request.remote_addr}

    whoami.access_rule = "public"  # type: ignore[attr-defined]
    return app


FORWARDED = {
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "responder.example.nhs.uk",
}


@pytest.mark.parametrize(
    ("hops", "url", "remote"),
    [
        (0, "http://localhost/whoami", "127.0.0.1"),
        (1, "https://responder.example.nhs.uk/whoami", "203.0.113.9"),
    ],
)
def test_forwarded_headers_are_trusted_only_behind_a_configured_proxy(
    database_url: str, hops: int, url: str, remote: str
) -> None:
    app = _app(database_url, hops)
    answer = app.test_client().get(
        "/whoami", headers=FORWARDED, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    )
    assert answer.get_json() == {"url": url, "remote": remote}
    app.extensions["responder.engine"].dispose()


def test_a_spoofed_extra_hop_is_not_believed(database_url: str) -> None:
    app = _app(database_url, 1)
    answer = app.test_client().get(
        "/whoami",
        headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    # The proxy appends the real client; what the client claimed before it is not
    # trusted.
    assert answer.get_json()["remote"] == "203.0.113.9"
    app.extensions["responder.engine"].dispose()
