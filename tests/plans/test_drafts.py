"""Drafting, concurrent edits, submission, approval, publishing and retiring."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from plans import drafts, guardrails, versions
from plans.accounts import create_user
from plans.audit import AuditEvent, verify
from plans.db import make_session_factory
from plans.models import Person, PlanVersion, User
from tests.plans import factories

TODAY = dt.date(2026, 11, 23)


def _user(session: Session, email: str, role: str, *teams: str) -> User:
    for code in teams:
        factories.team(session, code)
    return create_user(
        session,
        email,
        role=role,
        display_name=email.split("@")[0].title(),
        team_codes=list(teams),
    )


@pytest.fixture
def mentor(session: Session) -> User:
    return _user(session, "mentor@example.test", "mentor", "TEST-TEAM")


@pytest.fixture
def lead(session: Session) -> User:
    return _user(session, "lead@example.test", "lead_clinician", "TEST-TEAM")


def _doc(**plan: Any) -> dict[str, Any]:
    doc = factories.document("TEST-TEAM/00001", 1, status="draft", **plan)
    for key in ("approved_by", "approved_on"):
        doc["plan"].pop(key, None)
    return doc


def _published(session: Session, mentor: User, lead: User, **plan: Any) -> PlanVersion:
    version = drafts.create_draft(session, _doc(**plan), author=mentor)
    drafts.submit(session, version, mentor=mentor, today=TODAY)
    drafts.publish(session, version, approver=lead, today=TODAY)
    return version


def _agreed_today() -> dict[str, Any]:
    """Return the person's agreement to a new version, recorded today."""
    return {
        "agreed_with_person": True,
        "agreed_on": TODAY.isoformat(),
        "channel": "in_person",
    }


def _actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


# --- diff ---------------------------------------------------------------------


def test_diff_names_each_changed_field() -> None:
    old = {"plan": {"summary": "A", "behaviours": [{"description": "Paces"}]}}
    new = {
        "plan": {
            "summary": "B",
            "behaviours": [{"description": "Paces"}, {"description": "Shouts"}],
            "review_by": "2027-01-01",
        }
    }
    changes = drafts.diff_documents(old, new)
    assert [(c.pointer, c.before, c.after) for c in changes] == [
        ("/plan/summary", "A", "B"),
        ("/plan/behaviours/1", None, {"description": "Shouts"}),
        ("/plan/review_by", None, "2027-01-01"),
    ]
    assert changes[1].label == "Behaviours 2"
    assert drafts.diff_documents(old, copy.deepcopy(old)) == []


def test_empty_and_missing_fields_are_the_same() -> None:
    assert drafts.diff_documents({"a": "", "b": []}, {"c": None}) == []


@pytest.mark.parametrize(
    ("pointer", "label"),
    [
        ("/plan/advice_for/ambulance", "Advice for \u203a Ambulance"),
        ("/plan/boundaries/0/if_breached", "Boundaries 1 \u203a If breached"),
        ("/person/given_name", "Person \u203a Given name"),
        (
            "/plan/coproduction/person_statement",
            "Coproduction \u203a Person's statement",
        ),
    ],
)
def test_pointers_read_as_field_names(pointer: str, label: str) -> None:
    assert drafts.describe_pointer(pointer) == label


# --- drafting -----------------------------------------------------------------


def test_a_draft_for_a_new_person_holds_the_whole_document(
    session: Session, mentor: User
) -> None:
    doc = _doc(summary="Kind words.", approved_by="Someone")
    doc["plan"]["version"] = 7
    version = drafts.create_draft(session, doc, author=mentor)
    session.commit()
    assert version.status == "draft"
    assert version.version == 1
    assert version.person.ref == "TEST-TEAM/00001"
    assert version.document["plan"]["summary"] == "Kind words."
    assert "approved_by" not in version.document["plan"]
    assert version.document["team"]["code"] == "TEST-TEAM"
    assert (version.review_by, version.sharing_basis) == (
        dt.date(2027, 6, 1),
        "consent",
    )
    assert version.agreed_with_person is True
    assert _actions(session) == ["draft_saved"]


def test_a_new_person_without_a_ref_gets_one(session: Session, mentor: User) -> None:
    doc = _doc()
    doc["person"]["ref"] = ""
    version = drafts.create_draft(session, doc, author=mentor)
    assert version.person.ref == "TEST-TEAM/00001"


def test_a_second_version_follows_the_live_one(
    session: Session, mentor: User, lead: User
) -> None:
    first = _published(session, mentor, lead)
    second = drafts.start_from_live(session, first.person, author=mentor)
    assert second.version == 2
    assert second.document["plan"]["summary"] == first.document["plan"]["summary"]
    assert "approved_by" not in second.document["plan"]
    with pytest.raises(drafts.DraftError, match="already has a draft"):
        drafts.start_from_live(session, first.person, author=mentor)


def test_mentors_of_other_teams_cannot_draft(session: Session, mentor: User) -> None:
    other = _user(session, "other@example.test", "mentor", "OTHER-TEAM")
    with pytest.raises(drafts.NotAllowed):
        drafts.create_draft(session, _doc(), author=other)
    version = drafts.create_draft(session, _doc(), author=mentor)
    with pytest.raises(drafts.NotAllowed):
        drafts.edit_draft(
            session, version, _doc(), editor=other, based_on=version.edit_count
        )


def test_responders_cannot_draft(session: Session) -> None:
    medic = _user(session, "medic@example.test", "ambulance", "TEST-TEAM")
    with pytest.raises(drafts.NotAllowed):
        drafts.create_draft(session, _doc(), author=medic)


# --- concurrent edits ---------------------------------------------------------


def test_an_edit_from_an_older_copy_is_refused_with_the_differences(
    session: Session, mentor: User
) -> None:
    colleague = _user(session, "colleague@example.test", "mentor", "TEST-TEAM")
    version = drafts.create_draft(session, _doc(summary="First."), author=mentor)
    session.commit()
    opened_at = version.edit_count
    drafts.edit_draft(
        session,
        version,
        _doc(summary="Colleague's words."),
        editor=colleague,
        based_on=opened_at,
    )
    session.commit()
    with pytest.raises(drafts.EditConflict) as refused:
        drafts.edit_draft(
            session, version, _doc(summary="Mine."), editor=mentor, based_on=opened_at
        )
    session.rollback()
    # The colleague's new words took the person's agreement back with them.
    assert [(c.pointer, c.before, c.after) for c in refused.value.changes] == [
        ("/plan/summary", "Colleague's words.", "Mine."),
        ("/plan/coproduction/agreed_with_person", None, True),
        ("/plan/coproduction/agreed_on", None, "2026-05-20"),
        ("/plan/coproduction/channel", None, "in_person"),
    ]
    assert session.get(PlanVersion, version.id).summary == "Colleague's words."


def test_a_simultaneous_save_is_caught_by_the_database(
    engine: Engine, session: Session, mentor: User
) -> None:
    version = drafts.create_draft(session, _doc(summary="First."), author=mentor)
    session.commit()
    factory = make_session_factory(engine)
    with factory() as first, factory() as second:
        mine = first.get(PlanVersion, version.id)
        theirs = second.get(PlanVersion, version.id)
        assert mine is not None and theirs is not None
        started = mine.edit_count
        drafts.edit_draft(
            second,
            theirs,
            _doc(summary="Theirs."),
            editor=second.get(User, mentor.id),  # type: ignore[arg-type]
            based_on=started,
        )
        second.commit()
        with pytest.raises(drafts.EditConflict):
            drafts.edit_draft(
                first,
                mine,
                _doc(summary="Mine."),
                editor=first.get(User, mentor.id),  # type: ignore[arg-type]
                based_on=started,
            )
        first.rollback()
    session.expire_all()
    assert session.get(PlanVersion, version.id).summary == "Theirs."


def test_editing_a_submitted_draft_takes_it_back(
    session: Session, mentor: User
) -> None:
    version = drafts.create_draft(session, _doc(), author=mentor)
    drafts.submit(session, version, mentor=mentor, today=TODAY)
    drafts.edit_draft(
        session,
        version,
        _doc(summary="Changed."),
        editor=mentor,
        based_on=version.edit_count,
    )
    assert version.submitted_at is None


# --- submitting and publishing ------------------------------------------------


def test_publishing_records_approval_and_supersedes_the_live_version(
    session: Session, mentor: User, lead: User
) -> None:
    first = _published(session, mentor, lead)
    second = drafts.start_from_live(session, first.person, author=mentor)
    drafts.edit_draft(
        session,
        second,
        _doc(summary="Updated.", coproduction=_agreed_today()),
        editor=mentor,
        based_on=second.edit_count,
    )
    drafts.submit(session, second, mentor=mentor, today=TODAY)
    drafts.publish(session, second, approver=lead, today=TODAY)
    session.commit()
    assert (first.status, second.status) == ("superseded", "live")
    assert second.approved_by_id == lead.id
    assert second.approved_by_name == "Lead"
    assert second.approved_on == TODAY
    plan = second.document["plan"]
    assert (plan["approved_by"], plan["approved_on"], plan["status"]) == (
        "Lead",
        "2026-11-23",
        "live",
    )
    assert versions.live_version(session, first.person) is second
    assert _actions(session).count("published") == 2
    assert verify(session).ok


def test_publishing_needs_a_submission_first(
    session: Session, mentor: User, lead: User
) -> None:
    version = drafts.create_draft(session, _doc(), author=mentor)
    with pytest.raises(drafts.DraftError, match="submit"):
        drafts.publish(session, version, approver=lead, today=TODAY)


@pytest.mark.parametrize(
    ("role", "team"),
    [
        ("mentor", "TEST-TEAM"),
        ("lead_clinician", "OTHER-TEAM"),
        ("police", "TEST-TEAM"),
    ],
)
def test_only_a_lead_clinician_of_the_team_publishes(
    session: Session, mentor: User, role: str, team: str
) -> None:
    version = drafts.create_draft(session, _doc(), author=mentor)
    drafts.submit(session, version, mentor=mentor, today=TODAY)
    someone = _user(session, "someone@example.test", role, team)
    with pytest.raises(drafts.NotAllowed):
        drafts.publish(session, version, approver=someone, today=TODAY)
    assert version.status == "draft"


def _without(path: list[str], **plan: Any) -> dict[str, Any]:
    doc = _doc(**plan)
    target = doc
    for step in path[:-1]:
        target = target[step]
    target.pop(path[-1])
    return doc


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        (_without(["plan", "review_by"]), "Review by"),
        (_doc(review_by="2026-11-23"), "must be after the approval date"),
        (_without(["plan", "sharing_basis"]), "Sharing basis"),
        (_without(["plan", "coproduction"]), "person agreed this version"),
        (
            _doc(coproduction={"agreed_with_person": False, "agreed_on": "2026-05-20"}),
            "person agreed this version",
        ),
        (_doc(coproduction={"agreed_with_person": True}), "date it was agreed"),
        (_doc(summary=""), "Summary"),
        (_doc(advice_for={"ambulance": "Do not convey."}), "withholds care"),
    ],
)
def test_submitting_refuses_without_the_recorded_fields(
    session: Session, mentor: User, doc: dict[str, Any], words: str
) -> None:
    version = drafts.create_draft(session, doc, author=mentor)
    with pytest.raises(drafts.PublishRefused) as refused:
        drafts.submit(session, version, mentor=mentor, today=TODAY)
    assert any(words in problem for problem in refused.value.problems)
    assert version.submitted_at is None


def test_publishing_refuses_a_care_withholding_directive(
    session: Session, mentor: User, lead: User
) -> None:
    version = drafts.create_draft(session, _doc(), author=mentor)
    drafts.submit(session, version, mentor=mentor, today=TODAY)
    # A directive slipped in after submission (say, by a direct edit) still stops.
    version.document = _doc(advice_for={"ambulance": "Not to be conveyed."})
    session.flush()
    with pytest.raises(drafts.PublishRefused) as refused:
        drafts.publish(session, version, approver=lead, today=TODAY)
    assert [f.phrase for f in refused.value.findings] == ["Not to be conveyed"]
    assert "Advice for \u203a Ambulance" in refused.value.problems[0]
    assert version.status == "draft"
    assert "published" not in _actions(session)


def test_sanction_words_need_a_reasoned_acknowledgement(
    session: Session, mentor: User, lead: User
) -> None:
    doc = _doc(
        boundaries=[
            {
                "boundary": "Keeps to the criminal behaviour order.",
                "if_breached": "Police may arrest; call the team as well.",
            }
        ]
    )
    version = drafts.create_draft(session, doc, author=mentor)
    drafts.submit(session, version, mentor=mentor, today=TODAY)
    findings = guardrails.to_acknowledge(guardrails.check_plan(version.document))
    assert {f.code for f in findings} == {"sanction_order", "sanction_arrest"}
    with pytest.raises(drafts.PublishRefused) as refused:
        drafts.publish(
            session,
            version,
            approver=lead,
            acknowledgements={findings[0].key: "ok"},
            today=TODAY,
        )
    assert len(refused.value.problems) == 2
    reasons = {
        f.key: f"Court order in force; {f.code} stays factual." for f in findings
    }
    drafts.publish(
        session, version, approver=lead, acknowledgements=reasons, today=TODAY
    )
    session.commit()
    assert version.status == "live"
    assert {a["code"] for a in version.acknowledgements} == {
        "sanction_order",
        "sanction_arrest",
    }
    assert all(a["by_id"] == lead.id and a["reason"] for a in version.acknowledgements)
    assert len(version.findings) == 2
    assert _actions(session).count("acknowledgement") == 2


def test_the_audit_never_holds_plan_text(
    session: Session, mentor: User, lead: User
) -> None:
    secret = "Zebra-unique-phrase"
    version = _published(session, mentor, lead, summary=f"{secret} summary.")
    drafts.retire_plan(
        session, version.person, by=mentor, reason="moved", person_told="by letter"
    )
    session.commit()
    details = [str(event.detail) for event in session.scalars(select(AuditEvent)).all()]
    assert details and not any(secret in detail for detail in details)
    assert _actions(session) == [
        "draft_saved",
        "submitted",
        "published",
        "retired",
    ]


def test_publishing_updates_the_person_from_the_document(
    session: Session, mentor: User, lead: User
) -> None:
    first = _published(session, mentor, lead)
    second = drafts.start_from_live(session, first.person, author=mentor)
    doc = copy.deepcopy(second.document)
    doc["person"]["preferred_name"] = "Alex"
    doc["plan"]["coproduction"] = _agreed_today()
    drafts.edit_draft(session, second, doc, editor=mentor, based_on=second.edit_count)
    assert first.person.preferred_name is None  # not until it is approved
    drafts.submit(session, second, mentor=mentor, today=TODAY)
    drafts.publish(session, second, approver=lead, today=TODAY)
    assert first.person.display_name == "Alex Testperson"


def test_returning_a_draft_lets_mentors_carry_on(
    session: Session, mentor: User, lead: User
) -> None:
    version = drafts.create_draft(session, _doc(), author=mentor)
    drafts.submit(session, version, mentor=mentor, today=TODAY)
    assert drafts.team_drafts(session, lead.team_ids, submitted=True) == [version]
    drafts.return_to_mentor(session, version, approver=lead)
    assert drafts.team_drafts(session, lead.team_ids, submitted=True) == []
    assert drafts.team_drafts(session, lead.team_ids, submitted=False) == [version]


def test_review_shows_changes_against_the_live_version(
    session: Session, mentor: User, lead: User
) -> None:
    first = _published(session, mentor, lead)
    second = drafts.start_from_live(session, first.person, author=mentor)
    drafts.edit_draft(
        session,
        second,
        _doc(
            summary="New words.",
            behaviours=[{"description": "Frequent flyer"}],
            coproduction=_agreed_today(),
        ),
        editor=mentor,
        based_on=second.edit_count,
    )
    seen = drafts.review(session, second, today=TODAY)
    pointers = [c.pointer for c in seen.changes]
    assert "/plan/summary" in pointers
    assert "/plan/behaviours" in pointers
    assert not [p for p in pointers if p.startswith(("/plan/version", "/plan/appr"))]
    assert seen.publishable
    assert [f.code for f in seen.to_acknowledge] == ["stigma_frequent_flyer"]


# --- retiring -----------------------------------------------------------------


@pytest.mark.parametrize("reason", sorted(drafts.RETIRE_REASONS))
def test_retiring_stops_the_plan_being_live(
    session: Session, mentor: User, lead: User, reason: str
) -> None:
    version = _published(session, mentor, lead)
    drafts.retire_plan(
        session, version.person, by=mentor, reason=reason, person_told="in person"
    )
    session.commit()
    assert version.status == "retired"
    assert versions.live_version(session, version.person) is None
    assert version.end_reason == f"{reason}: person told in person"


@pytest.mark.parametrize(
    ("reason", "told", "words"),
    [("bored", "in person", "choose why"), ("moved", "  ", "how the person was told")],
)
def test_retiring_needs_a_reason_and_how_the_person_was_told(
    session: Session, mentor: User, lead: User, reason: str, told: str, words: str
) -> None:
    version = _published(session, mentor, lead)
    with pytest.raises(drafts.DraftError, match=words):
        drafts.retire_plan(
            session, version.person, by=mentor, reason=reason, person_told=told
        )
    assert version.status == "live"


def test_discarding_a_draft_leaves_the_live_version(
    session: Session, mentor: User, lead: User
) -> None:
    first = _published(session, mentor, lead)
    second = drafts.start_from_live(session, first.person, author=mentor)
    drafts.discard_draft(session, second, by=mentor)
    session.commit()
    person = session.scalar(select(Person))
    assert person is not None
    assert [v.version for v in person.versions] == [1]
    assert first.status == "live"


def test_discarding_a_new_persons_only_draft_forgets_them(
    session: Session, mentor: User
) -> None:
    version = drafts.create_draft(session, _doc(), author=mentor)
    assert drafts.discard_draft(session, version, by=mentor) is True
    session.commit()
    assert session.scalar(select(Person)) is None
    assert _actions(session) == ["draft_saved", "draft_discarded"]
