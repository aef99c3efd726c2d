"""Responder: live crisis response plans for responders at scene."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
logger = logging.getLogger(__name__)


class ConfigurationError(RuntimeError):
    """The app was asked to start with settings that are unsafe or incomplete."""


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure the Responder app."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=os.environ.get("RESPONDER_INSTANCE_PATH")
        or str(ROOT / "instance"),
    )
    app.config.from_object("responder.config")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("RESPONDER")
    if test_config is not None:
        app.config.from_mapping(test_config)
    check_configuration(app)

    import plans.all_models  # noqa: F401  (every table and live-change hook)
    from responder import auth, cli, db, errors, security

    db.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    security.init_app(app)
    auth.init_app(app)

    from responder import (
        api,
        auth,
        cards,
        chat,
        concerns,
        hooks,
        lookup,
        mentor,
        person,
        photos,
        privacy,
    )

    for module in (
        auth,
        lookup,
        mentor,
        privacy,
        cards,
        photos,
        person,
        concerns,
        chat,
        api,
        hooks,
    ):
        app.register_blueprint(module.bp)

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


def is_development(app: Flask) -> bool:
    """Say whether the app runs as a developer's or test instance."""
    return bool(app.testing) or app.config.get("ENVIRONMENT") == "development"


def check_configuration(app: Flask) -> None:
    """Refuse to start outside development with a missing or default secret."""
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
