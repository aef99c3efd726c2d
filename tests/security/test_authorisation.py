"""Walk the whole URL map: every route states who may call it, and nobody else gets in.

The walk reads the rules the views carry (responder.access sets `access_rule`; the
API's `token_required` is recognised by its wrapper), so it covers routes added
after it was written and fails on any route that carries no rule at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import IntegerConverter, Rule

from plans.models import ROLES
from responder.access import public
from tests.conftest import AuthActions

ANONYMOUS = "anonymous"
EVERYONE = (ANONYMOUS, *ROLES)
# Flask's own static files: public by nature, served without a view of ours.
FRAMEWORK_ENDPOINTS = frozenset({"static"})
TOKEN_RULE = "token"


def _wrapper_chain(view: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    seen = 0
    current: Any = view
    while current is not None and seen < 20:
        yield current
        current = getattr(current, "__wrapped__", None)
        seen += 1


def access_rule(view: Callable[..., Any]) -> str | tuple[str, ...] | None:
    """Return a view's access rule: "public", "token", a tuple of roles, or None."""
    rule = getattr(view, "access_rule", None)
    if rule is not None:
        return rule  # type: ignore[no-any-return]
    for layer in _wrapper_chain(view):
        code = getattr(layer, "__code__", None)
        if code is not None and code.co_qualname == "token_required.<locals>.wrapped":
            return TOKEN_RULE
    return None


def unguarded_endpoints(app: Flask) -> list[str]:
    """Name every endpoint whose view carries no access rule."""
    return sorted(
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint not in FRAMEWORK_ENDPOINTS and access_rule(view) is None
    )


def sample_url(rule: Rule) -> str:
    """Build a URL for a rule, with values that name nothing that exists."""
    values: dict[str, Any] = {}
    for name in rule.arguments:
        converter = rule._converters[name]  # no public accessor
        values[name] = 987654 if isinstance(converter, IntegerConverter) else "zz"
    if rule.defaults:
        values.update(rule.defaults)
    return rule.build(values, append_unknown=False)[1]  # type: ignore[index]


def guarded_requests(
    app: Flask,
) -> Iterator[tuple[str, str, str, str | tuple[str, ...]]]:
    """Yield (endpoint, method, url, rule) for every non-public route and method."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in FRAMEWORK_ENDPOINTS:
            continue
        access = access_rule(app.view_functions[rule.endpoint])
        if access is None or access == "public":
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, sample_url(rule), access


def test_every_endpoint_declares_who_may_call_it(app: Flask) -> None:
    assert unguarded_endpoints(app) == []


def test_the_walk_notices_a_route_without_a_rule(app: Flask) -> None:
    app.add_url_rule("/forgotten", "forgotten", lambda: "personal data")
    app.add_url_rule("/fine", "fine", public(lambda: "public page"))
    unguarded = unguarded_endpoints(app)
    assert "forgotten" in unguarded
    assert "fine" not in unguarded


def test_the_walk_sees_role_and_token_rules(app: Flask) -> None:
    rules = {endpoint: rule for endpoint, _m, _u, rule in guarded_requests(app)}
    assert rules["users.index"] == ("admin",)
    assert "auth.login" not in rules  # public
    assert TOKEN_RULE in rules.values()


@pytest.mark.parametrize("role", EVERYONE)
def test_no_role_outside_a_routes_rule_gets_in(
    app: Flask, client: FlaskClient, auth: AuthActions, role: str
) -> None:
    if role != ANONYMOUS:
        auth.login(role=role, teams=("DEMO-X",))
    checked = 0
    leaks = []
    for endpoint, method, url, access in guarded_requests(app):
        if access == TOKEN_RULE:
            # A browser session is not a bearer token, whoever holds it.
            response = client.open(url, method=method)
            allowed_codes: tuple[int, ...] = (401,)
        elif role in access:
            continue
        else:
            response = client.open(url, method=method)
            if role == ANONYMOUS:
                allowed_codes = (302, 401)
                if response.status_code == 302:
                    location = response.headers["Location"]
                    if not location.startswith("/login"):
                        leaks.append((endpoint, method, response.status_code, location))
                        continue
            else:
                allowed_codes = (403, 404)
        checked += 1
        if response.status_code not in allowed_codes:
            leaks.append((endpoint, method, response.status_code, url))
    assert leaks == []
    assert checked > 0 or role == "admin"


def test_every_role_lands_on_a_page_it_may_open(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    from responder.auth import home_for

    landed = {}
    for role in ROLES:
        user = auth.login(role=role)
        with app.test_request_context():
            home = home_for(user)
        landed[role] = client.get(home).status_code
        assert client.get("/account").status_code == 200
        auth.logout()
    assert landed == dict.fromkeys(ROLES, 200)
