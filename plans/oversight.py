"""Staff reading plans and the access log: each reading checked and audited.

A mentor or lead clinician reads the plans of their own team (their basis is
membership of it); a privacy officer searches who opened which plan. Both are
reads of personal data, so each writes its row here and the views only render.
Nothing here commits.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from plans import access, audit, rules
from plans.models import PlanVersion, User


def read_plan_as_staff(session: Session, user: User, version: PlanVersion) -> None:
    """Record a mentor's reading of a plan version (live or draft) of their team."""
    rules.require(user, "web", "edit_drafts")
    audit.record_for(
        session,
        user,
        action="plan_viewed",
        channel="web",
        person_ref=version.person.ref,
        plan_version_id=version.id,
        detail={"basis": "team_mentor", "status": version.status},
    )


def search_access_log(
    session: Session,
    officer: User,
    *,
    person_ref: str = "",
    user_email: str = "",
    basis: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = 200,
) -> list[access.AccessGrant]:
    """Search who opened which plan within the officer's teams; audit a search.

    Listing the latest openings with no terms is the officer's front page and is
    not recorded; any search is, by the kind of terms, never the terms themselves.
    """
    rules.require(officer, "web", "oversee_privacy")
    grants = access.search_access_log(
        session,
        person_ref=person_ref,
        user_email=user_email,
        basis=basis,
        since=since,
        until=until,
        team_ids=officer.team_ids,
        limit=limit,
    )
    terms = (
        ("person", person_ref),
        ("user", user_email),
        ("basis", basis),
        ("dates", since or until),
    )
    if any(value for _name, value in terms):
        audit.record_for(
            session,
            officer,
            action="access_log_searched",
            channel="web",
            person_ref=person_ref or None,
            detail={
                "query_kind": "+".join(name for name, value in terms if value),
                "result_count": len(grants),
            },
        )
    return grants
