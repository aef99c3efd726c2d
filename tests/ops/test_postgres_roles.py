"""PostgreSQL roles per docs/deploy.md: the app adds audit rows, never changes them.

The grants block is read from docs/deploy.md itself, so the guide and this test
cannot drift apart. Each test makes its own owner and app roles and a schema
owned by the owner, as a deployment does, and drops them afterwards.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from plans import audit, versions
from plans.db import create_schema, make_engine, make_session_factory
from responder import ROOT
from tests.conftest import BACKEND, POSTGRES_URL
from tests.plans import factories

pytestmark = pytest.mark.skipif(
    BACKEND != "postgresql",
    reason="database roles and privileges are PostgreSQL's; SQLite has neither "
    "(its audit table is guarded by triggers, tested in tests/plans/test_audit.py)",
)


def grants_sql() -> list[str]:
    """Return the statements of the grants block in docs/deploy.md."""
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    block = re.search(
        r"<!-- grants:begin -->\s*```sql\n(.*?)```\s*<!-- grants:end -->", guide, re.S
    )
    assert block, "docs/deploy.md lost its grants block"
    return [s.strip() for s in block.group(1).split(";") if s.strip()]


@dataclass
class Deployment:
    """A schema owned by an owner role, and an app role granted per the guide."""

    schema: str
    owner: str
    app: str
    owner_engine: Engine
    app_engine: Engine


def url_for(role: str, schema: str) -> str:
    base = make_url(POSTGRES_URL).set(username=role, password=None)
    separator = "&" if "?" in str(base) else "?"
    options = quote(f"-csearch_path={schema},public")
    return base.render_as_string(hide_password=False) + f"{separator}options={options}"


@pytest.fixture
def deployment(postgres_admin: Engine) -> Iterator[Deployment]:
    suffix = uuid.uuid4().hex[:10]
    schema, owner, app = f"r_{suffix}", f"owner_{suffix}", f"app_{suffix}"
    with postgres_admin.connect() as admin:
        admin.execute(text(f"CREATE ROLE {owner} LOGIN"))
        admin.execute(text(f"CREATE ROLE {app} LOGIN"))
        admin.execute(text(f"CREATE SCHEMA {schema} AUTHORIZATION {owner}"))
    owner_engine = make_engine(url_for(owner, schema))
    app_engine = make_engine(url_for(app, schema))
    try:
        # As the owner, like `responder db upgrade`: tables, triggers, head row.
        create_schema(owner_engine)
        with owner_engine.begin() as connection:
            connection.execute(
                text(
                    "CREATE TABLE alembic_version (version_num VARCHAR(32) "
                    "NOT NULL PRIMARY KEY)"
                )
            )
            connection.execute(text("INSERT INTO alembic_version VALUES ('head')"))
            for statement in grants_sql():
                statement = re.sub(r"\bresponder\b(?=\.| TO)", schema, statement)
                statement = statement.replace("responder_app", app)
                connection.execute(text(statement))
        yield Deployment(schema, owner, app, owner_engine, app_engine)
    finally:
        owner_engine.dispose()
        app_engine.dispose()
        with postgres_admin.connect() as admin:
            admin.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            admin.execute(text(f"DROP OWNED BY {app}"))
            admin.execute(text(f"DROP ROLE IF EXISTS {app}"))
            admin.execute(text(f"DROP ROLE IF EXISTS {owner}"))


def refused(engine: Engine, statement: str) -> str:
    """Run `statement` and return PostgreSQL's refusal, failing if it ran."""
    with engine.connect() as connection:
        with pytest.raises(DBAPIError) as raised:
            connection.execute(text(statement))
        connection.rollback()
    return str(raised.value.orig)


def test_the_app_role_publishes_and_appends_audit_rows(
    deployment: Deployment,
) -> None:
    with make_session_factory(deployment.app_engine)() as session:
        person = factories.person(session)
        versions.make_live(session, factories.draft(session, person))
        audit.record(session, action="plan_published", channel="web")
        audit.record(session, action="plan_opened", channel="web")
        session.commit()
        second = factories.draft(session, person, version=2)
        versions.make_live(session, second)
        session.commit()
        assert audit.verify(session).checked == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'someone else'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
        "DROP TRIGGER audit_events_no_change ON audit_events",
        "ALTER TABLE audit_events DISABLE TRIGGER ALL",
        "DELETE FROM audit_head",
        "UPDATE alembic_version SET version_num = 'x'",
    ],
)
def test_the_app_role_cannot_change_or_remove_audit_rows(
    deployment: Deployment, statement: str
) -> None:
    with make_session_factory(deployment.app_engine)() as session:
        audit.record(session, action="plan_opened", channel="web")
        session.commit()
    message = refused(deployment.app_engine, statement)
    assert "permission denied" in message or "must be owner" in message
    with make_session_factory(deployment.owner_engine)() as session:
        report = audit.verify(session)
        assert report.ok and report.checked == 1


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'someone else'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ],
)
def test_the_owner_is_stopped_by_the_triggers(
    deployment: Deployment, statement: str
) -> None:
    with make_session_factory(deployment.app_engine)() as session:
        audit.record(session, action="plan_opened", channel="web")
        session.commit()
    assert "append-only" in refused(deployment.owner_engine, statement)


def test_the_app_role_cannot_create_tables_in_the_schema(
    deployment: Deployment,
) -> None:
    message = refused(deployment.app_engine, "CREATE TABLE sneaky (id integer)")
    assert "permission denied" in message


def test_a_table_added_later_stays_closed_until_granted(
    deployment: Deployment,
) -> None:
    with deployment.owner_engine.begin() as connection:
        connection.execute(text("CREATE TABLE added_later (id serial PRIMARY KEY)"))
    assert "permission denied" in refused(
        deployment.app_engine, "INSERT INTO added_later DEFAULT VALUES"
    )
    with deployment.owner_engine.begin() as connection:
        for statement in grants_sql():
            statement = re.sub(r"\bresponder\b(?=\.| TO)", deployment.schema, statement)
            connection.execute(text(statement.replace("responder_app", deployment.app)))
    with deployment.app_engine.begin() as connection:
        connection.execute(text("INSERT INTO added_later DEFAULT VALUES"))


def test_the_guide_grants_nothing_beyond_what_it_says(deployment: Deployment) -> None:
    with deployment.owner_engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT table_name, string_agg(privilege_type, ',' ORDER BY "
                "privilege_type) FROM information_schema.role_table_grants "
                "WHERE grantee = :app GROUP BY table_name"
            ),
            {"app": deployment.app},
        ).all()
    granted = dict(rows)
    assert granted["audit_events"] == "INSERT,SELECT"
    assert granted["audit_head"] == "SELECT,UPDATE"
    assert granted["alembic_version"] == "SELECT"
    assert granted["plan_versions"] == "DELETE,INSERT,SELECT,UPDATE"
    assert not any("TRUNCATE" in p or "TRIGGER" in p for p in granted.values())
