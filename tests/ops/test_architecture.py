"""The direction of imports is the architecture: plans/ depends on nothing above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import Flask

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_IN_PLANS = {
    "flask",
    "flask_login",
    "flask_wtf",
    "flask_limiter",
    "telegram",
    "twilio",
    "responder",
    "bots",
    "werkzeug",
}
FORBIDDEN_IN_BOTS = {"flask", "flask_login", "responder"}


def imported_roots(path: Path) -> set[str]:
    """Return the top-level package of every import in a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("plans", FORBIDDEN_IN_PLANS), ("bots", FORBIDDEN_IN_BOTS)],
)
def test_layer_imports_nothing_above_it(package: str, forbidden: set[str]) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & forbidden)
        for path in sorted((ROOT / package).rglob("*.py"))
        if imported_roots(path) & forbidden
    }
    assert offenders == {}


def test_the_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("from flask import g\nimport twilio.rest\n", encoding="utf-8")
    assert imported_roots(module) >= {"flask", "twilio"}


# Where each URL of the accounts lives: signing in, one's own account, everyone's.
ACCOUNT_SEAMS = (
    ("/admin/users", "users"),
    ("/admin/sign-ins/", "users"),
    ("/account/confirm", "auth"),
    ("/account", "account"),
    ("/login/sso/", "sso"),
    ("/login", "auth"),
    ("/logout", "auth"),
)


def test_account_urls_live_in_the_blueprint_of_their_audience(app: Flask) -> None:
    misplaced = {}
    for rule in app.url_map.iter_rules():
        for prefix, blueprint in ACCOUNT_SEAMS:
            if rule.rule.startswith(prefix):
                if rule.endpoint.split(".")[0] != blueprint:
                    misplaced[rule.rule] = rule.endpoint
                break
    assert misplaced == {}
    assert {"auth", "account", "users"} <= set(app.blueprints)
