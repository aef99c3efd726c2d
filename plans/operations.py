"""Operator actions run from the CLI, each with its audit row.

Backups, restores, exports and index rebuilds do their work in modules that know
files and indexes; the row that says they happened is written here, by name, so
the CLI never writes audit rows of its own and each action has one shape.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from plans import audit
from plans.search import rebuild_index

DatabaseCopy = Literal["database_backed_up", "database_restored"]


def rebuild_search_index(session: Session, *, actor: str | None = None) -> int:
    """Rebuild the search index from every live plan, audited; return the count."""
    count = rebuild_index(session)
    audit.record(
        session,
        action="search_rebuilt",
        channel="cli",
        actor=actor,
        detail={"count": count},
    )
    return count


def record_export(session: Session, *, count: int, actor: str | None) -> None:
    """Record that `count` plans left the service as response-plan/1 documents."""
    audit.record(
        session,
        action="export",
        channel="cli",
        actor=actor,
        detail={"count": count, "source": "export"},
    )


def record_database_copy(session: Session, action: DatabaseCopy, *, count: int) -> None:
    """Record a checked backup or restore of the database and its plan count."""
    audit.record(session, action=action, channel="cli", detail={"count": count})
