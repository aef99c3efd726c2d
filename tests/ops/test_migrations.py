"""Migrations build the same schema as the models, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import inspect

from plans.db import Base, make_engine


def test_upgrade_builds_the_models_schema(database_url: str) -> None:
    from responder import create_app

    app: Flask = create_app({"TESTING": True, "DATABASE_URL": database_url})
    runner: FlaskCliRunner = app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": False}
            )
            differences = [
                d
                for d in compare_metadata(context, Base.metadata)
                if not (isinstance(d, tuple) and "search" in str(d[1]))
            ]
            tables = set(inspect(connection).get_table_names())
        assert differences == []
        assert {"audit_events", "plan_versions", "people"} <= tables
        result = runner.invoke(args=["audit", "verify"])
        assert result.exit_code == 0
    finally:
        engine.dispose()
        app.extensions["responder.engine"].dispose()
