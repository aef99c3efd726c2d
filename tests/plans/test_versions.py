"""Exactly one live version per person; published versions never change."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plans import versions
from plans.db import make_session_factory
from plans.models import PlanVersion, PublishedVersionImmutable
from tests.conftest import BACKEND
from tests.plans import factories


def test_going_live_supersedes_the_previous_version(session: Session) -> None:
    who = factories.person(session)
    first = factories.draft(session, who, 1)
    versions.make_live(session, first)
    second = factories.draft(session, who, 2)
    superseded = versions.make_live(session, second)
    session.commit()
    assert superseded is first
    assert (first.status, second.status) == ("superseded", "live")
    assert versions.live_version(session, who) is second
    assert first.ended_at is not None


def test_database_refuses_two_live_versions(session: Session) -> None:
    who = factories.person(session)
    first = factories.draft(session, who, 1)
    second = factories.draft(session, who, 2)
    first.status = "live"
    session.flush()
    second.status = "live"
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_an_older_version_cannot_replace_a_newer_live_one(session: Session) -> None:
    who = factories.person(session)
    old = factories.draft(session, who, 1)
    new = factories.draft(session, who, 2)
    versions.make_live(session, new)
    with pytest.raises(versions.LifecycleError, match="older"):
        versions.make_live(session, old)


def test_published_content_cannot_change(session: Session) -> None:
    who = factories.person(session)
    row = factories.draft(session, who, 1)
    versions.make_live(session, row)
    session.commit()
    row.document = factories.document(who.ref, 1, summary="rewritten after publishing")
    with pytest.raises(PublishedVersionImmutable):
        session.flush()
    session.rollback()


def test_drafts_can_change(session: Session) -> None:
    who = factories.person(session)
    row = factories.draft(session, who, 1)
    session.commit()
    row.document = factories.document(who.ref, 1, summary="better wording")
    session.commit()
    assert row.summary == "better wording"


def test_retiring_leaves_no_live_version(session: Session) -> None:
    who = factories.person(session)
    versions.make_live(session, factories.draft(session, who, 1))
    retired = versions.retire(session, who, reason="moved area")
    session.commit()
    assert retired is not None and retired.status == "retired"
    assert versions.live_version(session, who) is None


def test_live_change_hooks_hear_publish_and_retire(session: Session) -> None:
    heard: list[tuple[str, str]] = []

    def listener(_session: Session, changes: list[tuple[object, str]]) -> None:
        heard.extend((getattr(person, "ref", ""), event) for person, event in changes)

    versions.on_live_change(listener)
    try:
        who = factories.person(session)
        versions.make_live(session, factories.draft(session, who, 1))
        versions.retire(session, who, reason="withdrew")
    finally:
        versions._live_change_hooks.remove(listener)
    assert heard == [(who.ref, "published"), (who.ref, "retired")]


def test_recorded_fields_come_from_the_document(session: Session) -> None:
    who = factories.person(session)
    row = factories.draft(session, who, 1)
    assert row.sharing_basis == "consent"
    assert row.agreed_with_person is True
    assert row.review_by is not None and row.review_by.isoformat() == "2027-06-01"
    assert row.approved_by_name == "Dr Example"


@pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL session settings")
def test_postgresql_sessions_run_without_parallel_workers_or_jit(
    engine: Engine,
) -> None:
    with engine.connect() as connection:
        assert connection.scalar(text("SHOW max_parallel_workers_per_gather")) == "0"
        assert connection.scalar(text("SHOW jit")) == "off"


@pytest.mark.skipif(
    BACKEND != "postgresql", reason="row locks are PostgreSQL's; SQLite serialises"
)
def test_a_publisher_does_not_block_rows_that_refer_to_the_person(
    engine: Engine,
) -> None:
    """make_live locks the person FOR NO KEY UPDATE, so FK inserts go ahead."""
    factory = make_session_factory(engine)
    with factory() as setup:
        who = factories.person(setup)
        draft = factories.draft(setup, who, 1)
        setup.commit()
        person_id, draft_id = who.id, draft.id
    with factory() as publisher, engine.connect() as other:
        versions.make_live(publisher, publisher.get(PlanVersion, draft_id))
        other.execute(text("SET lock_timeout = '2s'"))
        # The row lock a foreign key takes on the person is FOR KEY SHARE.
        locked = other.execute(
            text("SELECT id FROM people WHERE id = :id FOR KEY SHARE"),
            {"id": person_id},
        ).scalar_one()
        assert locked == person_id
        other.rollback()
        publisher.commit()
