"""Responder: live crisis response plans for responders at scene."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent
logger = logging.getLogger(__name__)


def asset_folder(name: str) -> Path:
    """Return the folder of the templates, static files or migrations.

    A source checkout keeps them at the top of the repository; a wheel carries them
    inside this package (pyproject.toml maps them), so an install runs anywhere.
    """
    packaged = PACKAGE / name
    return packaged if packaged.is_dir() else ROOT / name


def instance_folder() -> str:
    """Return the instance folder: RESPONDER_INSTANCE_PATH, else ./instance.

    Never beside the code: an installed package lives in site-packages, which is
    no place for a database, keys or a developer's settings.
    """
    configured = os.environ.get("RESPONDER_INSTANCE_PATH")
    return os.path.abspath(configured or os.path.join(os.getcwd(), "instance"))


class ConfigurationError(RuntimeError):
    """The app was asked to start with settings that are unsafe or incomplete."""


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure the Responder app."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(asset_folder("templates")),
        static_folder=str(asset_folder("static")),
        instance_path=instance_folder(),
    )
    app.config.from_object("responder.config")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("RESPONDER")
    if test_config is not None:
        app.config.from_mapping(test_config)
    check_configuration(app)
    apply_hash_cost(app)

    import plans.all_models  # noqa: F401  (every table and live-change hook)
    from responder import auth, cli, db, errors, security

    db.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    security.init_app(app)
    auth.init_app(app)
    # base.html shows flashed messages on every page but a cacheable one.
    app.add_template_global(security.may_be_cached, "page_may_be_cached")

    from responder import (
        account,
        api,
        auth,
        cards,
        cases,
        chat,
        concerns,
        hooks,
        lookup,
        mentor,
        person,
        photos,
        portal,
        privacy,
        sso,
        users,
    )

    sso.init_app(app)
    for module in (
        auth,
        account,
        users,
        lookup,
        mentor,
        cases,
        privacy,
        cards,
        photos,
        person,
        concerns,
        portal,
        chat,
        api,
        hooks,
        sso,
    ):
        app.register_blueprint(module.bp)
    app.register_blueprint(portal.own_bp)

    from werkzeug.middleware.proxy_fix import ProxyFix

    from responder.middleware import RejectMalformedHost

    app.wsgi_app = RejectMalformedHost(app.wsgi_app)  # type: ignore[method-assign]
    # Behind a reverse proxy, trust exactly the configured number of hops, so the
    # app (and Twilio's signature check) sees the public URL and client address.
    hops = int(app.config.get("TRUSTED_PROXY_HOPS") or 0)
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    return app


# Environments whose instances hold no real data: only these may relax a check.
DEVELOPMENT_ENVIRONMENTS = frozenset({"development", "test"})
# Switches that relax checks or leak internals; never on where real data lives.
DEVELOPMENT_SWITCHES = ("TESTING", "DEBUG")


def is_development(app: Flask) -> bool:
    """Say whether the app runs as a developer's or test instance.

    Only ENVIRONMENT says so. TESTING once did too, and RESPONDER_TESTING=true
    on a live instance turned off every production check.
    """
    return app.config.get("ENVIRONMENT") in DEVELOPMENT_ENVIRONMENTS


def check_configuration(app: Flask) -> None:
    """Refuse to start outside development with unsafe settings or test switches."""
    if not is_development(app):
        switched_on = [name for name in DEVELOPMENT_SWITCHES if app.config.get(name)]
        if switched_on:
            names = " and ".join(f"RESPONDER_{name}" for name in switched_on)
            raise ConfigurationError(
                f"refusing to start: {names} may only be on when "
                "RESPONDER_ENVIRONMENT is development or test, never with real data"
            )
    if is_development(app):
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = "development-only-secret-key"
        return
    from responder.production import check_production

    check_production(app)  # names every unsafe setting at once
    secret = app.config.get("SECRET_KEY") or ""
    if len(secret) < 32 or "development" in secret or secret in {"dev", "changeme"}:
        raise ConfigurationError(
            "RESPONDER_SECRET_KEY must be set to a long random value outside "
            "development (python -c 'import secrets; print(secrets.token_hex(32))')"
        )


def apply_hash_cost(app: Flask) -> None:
    """Hash passwords and PINs at PASSWORD_HASH_COST; never below production live."""
    from plans import hashing

    text = app.config.get("PASSWORD_HASH_COST")
    if not text:
        return
    cost = hashing.parse_cost(str(text))
    production = hashing.PRODUCTION
    cheaper = (
        cost.time_cost < production.time_cost
        or cost.memory_cost < production.memory_cost
    )
    if cheaper and not is_development(app):
        raise ConfigurationError(
            "PASSWORD_HASH_COST may only be lowered in tests and development"
        )
    hashing.set_cost(cost)
