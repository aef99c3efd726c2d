"""Small builders of synthetic teams, people and plan documents for tests."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans.models import Person, PlanVersion, Team

BASE_DOCUMENT: dict[str, Any] = {
    "format": "response-plan/2",
    "team": {
        "code": "TEST-TEAM",
        "name": "Test High Intensity Team",
        "phone": "+44 1632 960000",
        "hours": "Mon-Fri 09:00-17:00",
    },
    "person": {
        "ref": "TEST-TEAM/00001",
        "given_name": "Alexandra",
        "family_name": "Testperson",
        "aliases": [],
        "date_of_birth": "1988-03-14",
        "sex": "female",
        "description": "Woman in her 30s, short, red hair.",
        "address": {
            "name": "Home",
            "address": "1 Example Street, Testtown",
            "lat": 50.9,
            "lon": -1.4,
        },
    },
    "plan": {
        "version": 1,
        "status": "live",
        "review_by": "2027-06-01",
        "approved_by": "Dr Example",
        "approved_on": "2026-06-01",
        "summary": "Alexandra has a plan agreed with the test team.",
        "capacity": {
            "assessed_on": "2026-05-20",
            "communicate": True,
            "understand": True,
            "retain": True,
            "employ": True,
        },
        "coproduction": {
            "agreed_with_person": True,
            "agreed_on": "2026-05-20",
            "channel": "in_person",
            "person_statement": "Please tell me your name.",
        },
        "sharing_basis": "consent",
    },
}


def document(
    ref: str = "TEST-TEAM/00001", version: int = 1, **plan: Any
) -> dict[str, Any]:
    """Return a valid synthetic document with overrides in the plan object."""
    doc = copy.deepcopy(BASE_DOCUMENT)
    doc["person"]["ref"] = ref
    doc["plan"]["version"] = version
    if version > 1:
        # Each version is approved, and agreed with the person, on its own day:
        # an agreement is never carried over from the version before.
        day = dt.date(2026, 6, 1) + dt.timedelta(days=version - 1)
        doc["plan"]["approved_on"] = day.isoformat()
        doc["plan"]["coproduction"]["agreed_on"] = day.isoformat()
    doc["plan"].update(plan)
    _approve_before_review(doc, plan)
    return doc


def _approve_before_review(doc: dict[str, Any], overrides: dict[str, Any]) -> None:
    """Date the approval before a past review date a test asked for.

    A plan whose review is overdue was approved (and agreed, and its capacity
    assessed) well before that date; the publish rules judge an imported plan
    on its approval date, so the dates must hang together.
    """
    review = overrides.get("review_by")
    if "approved_on" in overrides or not isinstance(review, str):
        return
    try:
        review_on = dt.date.fromisoformat(review)
    except ValueError:
        return
    if review_on > dt.date.fromisoformat(doc["plan"]["approved_on"]):
        return
    approved = review_on - dt.timedelta(days=180)
    plan = doc["plan"]
    plan["approved_on"] = approved.isoformat()
    if "coproduction" not in overrides:
        plan["coproduction"]["agreed_on"] = approved.isoformat()
    if "capacity" not in overrides:
        plan["capacity"]["assessed_on"] = approved.isoformat()


def team(session: Session, code: str = "TEST-TEAM") -> Team:
    """Return the team with this code, creating it if needed."""
    found = session.scalar(select(Team).where(Team.code == code))
    if found is None:
        found = Team(code=code, name=f"{code} team", phone="+44 1632 960000")
        session.add(found)
        session.flush()
    return found


def person(
    session: Session, ref: str = "TEST-TEAM/00001", code: str = "TEST-TEAM"
) -> Person:
    """Return a stored synthetic person."""
    found = Person(
        ref=ref,
        team=team(session, code),
        given_name="Alexandra",
        family_name="Testperson",
        aliases=[],
    )
    session.add(found)
    session.flush()
    return found


def draft(session: Session, who: Person, version: int = 1, **plan: Any) -> PlanVersion:
    """Return a stored draft version of `who`'s plan."""
    row = PlanVersion(
        person=who,
        version=version,
        status="draft",
        document=document(who.ref, version, status="draft", **plan),
    )
    row.sync_recorded_fields()
    session.add(row)
    session.flush()
    return row


def meeting_publish_rules(doc: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of a response-plan document written before the publish rules,
    completed as its team would: how the person agreed, and a C-U-R-E assessment
    on the day it was approved."""
    doc = copy.deepcopy(doc)
    plan = doc["plan"]
    approved_on = plan.get("approved_on")
    plan.setdefault("coproduction", {}).setdefault("channel", "in_person")
    capacity = plan.setdefault("capacity", {})
    capacity.setdefault("assessed_on", approved_on)
    for answer in ("communicate", "understand", "retain", "employ"):
        capacity.setdefault(answer, True)
    return doc
