"""The rows a view looks up by id or ref: found and in the user's teams, or 404.

One `get_or_404` and a few typed lookups built on it, so every blueprint answers
a missing row and a row of another team alike: 404, learning nothing (the team
check audits the refusal, see `responder.access.require_team`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort
from sqlalchemy import select

from plans.models import Person, PlanVersion
from responder.access import require_team
from responder.db import get_session

T = TypeVar("T")


def get_or_404(
    model: type[T], key: Any, *, team_of: Callable[[T], int] | None = None
) -> T:
    """Return the `model` row with this primary key, or abort 404.

    With `team_of`, the row must also belong to one of the user's teams.
    """
    row = get_session().get(model, key)
    if row is None:
        abort(404)
    if team_of is not None:
        require_team(team_of(row))
    return row


def person_or_404(person_id: int) -> Person:
    """Return a person of the user's teams by id, or abort 404."""
    return get_or_404(Person, person_id, team_of=lambda person: person.team_id)


def person_by_ref_or_404(ref: str, *, in_teams: bool = True) -> Person:
    """Return the person with this ref, or abort 404.

    `in_teams=False` is for the responder lookup, which finds people of any team.
    """
    person = get_session().scalar(select(Person).where(Person.ref == ref))
    if person is None:
        abort(404)
    if in_teams:
        require_team(person.team_id)
    return person


def draft_or_404(version_id: int) -> PlanVersion:
    """Return a draft of the user's teams, or abort 404."""
    version = get_session().get(PlanVersion, version_id)
    if version is None or version.status != "draft":
        abort(404)
    require_team(version.person.team_id)
    return version
