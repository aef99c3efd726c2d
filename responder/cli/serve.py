"""`responder serve`: the app under gunicorn, a production WSGI server."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
@click.option("--workers", type=int, help="gunicorn workers (default SERVE_WORKERS).")
@click.option("--threads", type=int, help="Threads per worker (default SERVE_THREADS).")
@with_appcontext
def serve(host: str, port: int, workers: int | None, threads: int | None) -> None:
    """Serve the app with gunicorn, a production WSGI server."""
    from flask import current_app
    from gunicorn.app.base import BaseApplication

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    options = {
        "bind": f"{host}:{port}",
        "workers": workers or app.config["SERVE_WORKERS"],
        "threads": threads or app.config["SERVE_THREADS"],
        "accesslog": None,  # URLs can carry tokens: no access log by default
        "errorlog": "-",
        "timeout": 30,
        "graceful_timeout": 10,
        "forwarded_allow_ips": app.config.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    }

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return fresh_context(app)

    Server().run()


def fresh_context(app: Flask) -> Any:
    """Wrap the app so each request starts with no app context of the CLI's.

    The `responder` command runs inside an app context, and workers fork from it;
    Flask reuses an active app context, so without this `g` (the database session,
    the signed-in user, the CSRF token) would be shared by every request a worker
    serves.
    """
    import contextvars

    def wsgi(environ: Any, start_response: Any) -> Any:
        return contextvars.Context().run(app.wsgi_app, environ, start_response)

    return wsgi


def register(app: Flask) -> None:
    """Add this module's commands to the app's CLI."""
    app.cli.add_command(serve)
