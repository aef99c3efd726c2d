"""The request-scoped database session, and the engine behind it."""

from __future__ import annotations

import os

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from plans import nrl
from plans.db import make_engine, make_session_factory


def database_url(app: Flask) -> str:
    """Return the configured database URL, defaulting to the instance folder."""
    url = app.config.get("DATABASE_URL")
    if url:
        return str(url)
    os.makedirs(app.instance_path, exist_ok=True)
    return "sqlite:///" + os.path.join(app.instance_path, "responder.db")


def init_app(app: Flask) -> None:
    """Create the engine and close the request's session when the context ends."""
    engine = make_engine(database_url(app))
    app.extensions["responder.engine"] = engine
    # NRL pointers are queued only by sessions of an app that can send them.
    info = {nrl.SESSION_FLAG: True} if app.config.get("NRL_BASE_URL") else {}
    app.extensions["responder.sessions"] = make_session_factory(engine, info=info)
    app.teardown_appcontext(close_session)


def get_engine() -> Engine:
    """Return the app's engine."""
    engine: Engine = current_app.extensions["responder.engine"]
    return engine


def session_factory() -> sessionmaker[Session]:
    """Return the app's session factory, for work outside a request."""
    factory: sessionmaker[Session] = current_app.extensions["responder.sessions"]
    return factory


def get_session() -> Session:
    """Return the session of the current request, opening it on first use."""
    if "db" not in g:
        g.db = session_factory()()
    session: Session = g.db
    return session


def close_session(_exc: BaseException | None = None) -> None:
    """Close the request's session, rolling back anything uncommitted."""
    session: Session | None = g.pop("db", None)
    if session is not None:
        session.close()
