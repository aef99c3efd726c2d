"""The app the page benches measure: a fresh SQLite app, signed-in cookies, a server.

bench/page_budget.py, lighthouse.py, lighthouse_admin.py and lighthouse_portal.py
each set up different data, then share these steps: build the app on a temporary
database, confirm an account's authenticator app, sign in through the real login
pages for a session cookie, and serve the app on a free local port until done.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def bench_app(folder: str) -> Any:
    """Return the app on a fresh SQLite database in `folder`, schema created."""
    from plans.db import create_schema
    from responder import create_app

    app = create_app(
        {
            "ENVIRONMENT": "development",
            "SECRET_KEY": secrets.token_hex(32),
            "DATABASE_URL": f"sqlite:///{folder}/bench.db",
            "CARD_KEY_FILE": f"{folder}/card-keys.json",
            "ALLOW_HTTP_SESSION_COOKIE": True,
            "RATELIMIT_ENABLED": False,
        }
    )
    create_schema(app.extensions["responder.engine"])
    return app


def session_factory(app: Any) -> Any:
    """Return a session factory on the app's engine."""
    from plans.db import make_session_factory

    return make_session_factory(app.extensions["responder.engine"])


def confirm_totp(session: Any, user: Any, secret_key: str) -> Any:
    """Confirm the account's authenticator app; return its TOTP."""
    import pyotp

    from plans.signin import authenticator

    cipher = authenticator.totp_cipher(secret_key)
    totp = pyotp.parse_uri(authenticator.begin_totp(session, user, cipher))
    # A code from the step before: the login that follows uses the current one,
    # and a code is accepted once only.
    step = int(time.time()) // 30 - 1
    authenticator.confirm_totp(session, user, totp.at(step * 30), cipher)
    return totp


def csrf(client: Any, path: str) -> dict[str, str]:
    """Return the CSRF field of the form at `path`, to post it back."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    return {"csrf_token": match.group(1)} if match else {}


def signed_in_client(app: Any, email: str, password: str, totp: Any) -> Any:
    """Sign in through /login and /login/totp; return the test client."""
    client = app.test_client()
    client.post(
        "/login",
        data={"email": email, "password": password, **csrf(client, "/login")},
    )
    client.post(
        "/login/totp",
        data={"code": totp.now(), **csrf(client, "/login/second-factor")},
    )
    return client


def session_cookie(app: Any, client: Any) -> str:
    """Return the client's session cookie value; fail if signing in gave none."""
    cookie = client.get_cookie(str(app.config["SESSION_COOKIE_NAME"]))
    if cookie is None:
        raise RuntimeError("signing in gave no session cookie")
    return str(cookie.value)


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve the app on a free local port; yield its URL; stop and dispose after."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        app.extensions["responder.engine"].dispose()
