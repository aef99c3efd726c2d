"""The publish rules hold on every path: the desk, the web import, the CLI import.

Each rule is tried on the desk (submit and approve) and through
`import_documents`, which `responder import` calls; the web import drafts and
lists the same reasons (tests/security/test_hostile_entry_paths.py and
tests/web/test_mentor.py).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from sqlalchemy.orm import Session

from plans import drafts, plan_view, publish_rules
from plans.accounts import create_user
from plans.exchange import import_documents
from plans.models import PlanVersion, User
from plans.publish_rules import PublishRules, add_months, risk_level
from plans.versions import live_version
from tests.plans import factories

TODAY = dt.date(2026, 11, 23)


def _user(session: Session, email: str, role: str) -> User:
    factories.team(session, "TEST-TEAM")
    return create_user(
        session,
        email,
        role=role,
        display_name=email.split("@")[0].title(),
        team_codes=["TEST-TEAM"],
    )


@pytest.fixture
def mentor(session: Session) -> User:
    return _user(session, "mentor@example.test", "mentor")


@pytest.fixture
def lead(session: Session) -> User:
    return _user(session, "lead@example.test", "lead_clinician")


def _desk_doc(**plan: Any) -> dict[str, Any]:
    """Return a draft document agreed and assessed on TODAY, with overrides."""
    doc = factories.document("TEST-TEAM/00001", 1, status="draft")
    for key in ("approved_by", "approved_on"):
        doc["plan"].pop(key)
    doc["plan"]["review_by"] = (TODAY + dt.timedelta(days=180)).isoformat()
    doc["plan"]["coproduction"]["agreed_on"] = TODAY.isoformat()
    doc["plan"]["capacity"]["assessed_on"] = TODAY.isoformat()
    doc["plan"].update(plan)
    return doc


def _submitted(session: Session, mentor: User, **plan: Any) -> PlanVersion:
    version = drafts.create_draft(session, _desk_doc(**plan), author=mentor)
    drafts.submit(session, version, mentor=mentor, today=TODAY)
    return version


def _import(session: Session, doc: dict[str, Any], **kwargs: Any) -> Any:
    return import_documents(session, [doc], actor="cli:test", source="test", **kwargs)


def _warnings(report: Any) -> str:
    return " | ".join(problem.message for problem in report.problems)


# --- the risk matrix ---------------------------------------------------------


@pytest.mark.parametrize(
    ("likelihood", "impact", "level"),
    [
        (1, 1, "low"),
        (1, 3, "low"),
        (2, 2, "medium"),
        (2, 3, "medium"),
        (2, 4, "high"),
        (3, 4, "high"),
        (5, 5, "high"),
        (3, 5, "high"),
    ],
)
def test_the_level_follows_likelihood_times_impact(
    likelihood: int, impact: int, level: str
) -> None:
    assert risk_level(likelihood, impact) == level


def test_low_at_five_by_five_is_refused_at_the_desk(
    session: Session, mentor: User
) -> None:
    version = drafts.create_draft(
        session,
        _desk_doc(risk={"likelihood": 5, "impact": 5, "level": "low"}),
        author=mentor,
    )
    with pytest.raises(drafts.PublishRefused) as refused:
        drafts.submit(session, version, mentor=mentor, today=TODAY)
    assert any("5 x impact 5 = 25 is high" in p for p in refused.value.problems)


def test_low_at_five_by_five_is_kept_a_draft_on_import(session: Session) -> None:
    doc = factories.document(risk={"likelihood": 5, "impact": 5, "level": "low"})
    report = _import(session, doc)
    assert report.drafted == 1 and report.added == 0
    assert "is high on the risk matrix" in _warnings(report)
    right = factories.document(
        "TEST-TEAM/00002", risk={"likelihood": 5, "impact": 5, "level": "high"}
    )
    assert _import(session, right).added == 1


# --- capacity ----------------------------------------------------------------


def test_a_plan_without_a_capacity_assessment_is_refused_everywhere(
    session: Session, mentor: User
) -> None:
    doc = _desk_doc()
    doc["plan"].pop("capacity")
    version = drafts.create_draft(session, doc, author=mentor)
    with pytest.raises(drafts.PublishRefused, match="capacity"):
        drafts.submit(session, version, mentor=mentor, today=TODAY)
    imported = factories.document("TEST-TEAM/00002")
    imported["plan"].pop("capacity")
    report = _import(session, imported)
    assert report.drafted == 1 and "capacity (C-U-R-E)" in _warnings(report)


def test_a_capacity_assessment_older_than_the_configured_age_is_refused(
    session: Session, mentor: User
) -> None:
    old = (TODAY - dt.timedelta(days=400)).isoformat()
    capacity = dict(factories.BASE_DOCUMENT["plan"]["capacity"], assessed_on=old)
    version = drafts.create_draft(session, _desk_doc(capacity=capacity), author=mentor)
    with pytest.raises(drafts.PublishRefused, match="older than 12 months"):
        drafts.submit(session, version, mentor=mentor, today=TODAY)
    # A deployment may allow 18 months.
    drafts.submit(
        session,
        version,
        mentor=mentor,
        today=TODAY,
        rules=PublishRules(max_capacity_age_months=18),
    )
    assert version.submitted_at is not None


def test_a_capacity_no_needs_the_lead_clinicians_s21_review(
    session: Session, mentor: User, lead: User
) -> None:
    capacity = dict(factories.BASE_DOCUMENT["plan"]["capacity"], retain=False)
    capacity["assessed_on"] = TODAY.isoformat()
    version = _submitted(session, mentor, capacity=capacity)
    assert drafts.review(session, version, today=TODAY).capacity_review_needed
    with pytest.raises(drafts.PublishRefused, match="s.21 review"):
        drafts.publish(session, version, approver=lead, today=TODAY)
    assert version.status == "draft"
    drafts.publish(
        session,
        version,
        approver=lead,
        today=TODAY,
        acknowledgements={"capacity": "Reviewed: advice only, assess at the time."},
    )
    acknowledgement = version.document["plan"]["capacity"]["acknowledgement"]
    assert acknowledgement == {
        "by": "Lead",
        "on": TODAY.isoformat(),
        "review": "Reviewed: advice only, assess at the time.",
    }


def test_an_imported_capacity_no_goes_live_only_with_its_review(
    session: Session,
) -> None:
    capacity = dict(factories.BASE_DOCUMENT["plan"]["capacity"], employ=False)
    report = _import(session, factories.document(capacity=capacity))
    assert report.drafted == 1 and "s.21 review" in _warnings(report)
    capacity["acknowledgement"] = {
        "by": "Dr Example",
        "on": "2026-06-01",
        "review": "Reviewed under s.21; the advice stands.",
    }
    assert _import(session, factories.document(capacity=capacity)).updated == 1


# --- review date -------------------------------------------------------------


@pytest.mark.parametrize(
    ("months", "allowed"), [(6, True), (12, True), (13, False), (120, False)]
)
def test_the_review_date_is_at_most_twelve_months_ahead(
    session: Session, mentor: User, months: int, allowed: bool
) -> None:
    review_by = add_months(TODAY, months).isoformat()
    version = drafts.create_draft(
        session, _desk_doc(review_by=review_by), author=mentor
    )
    if allowed:
        drafts.submit(session, version, mentor=mentor, today=TODAY)
        return
    with pytest.raises(drafts.PublishRefused, match="at most 12 months ahead"):
        drafts.submit(session, version, mentor=mentor, today=TODAY)
    doc = factories.document(
        review_by=add_months(dt.date(2026, 6, 1), months).isoformat()
    )
    report = _import(session, doc)
    assert report.drafted == 1 and "at most 12 months ahead" in _warnings(report)


def test_the_review_limit_is_configurable(session: Session, mentor: User) -> None:
    review_by = add_months(TODAY, 9).isoformat()
    version = drafts.create_draft(
        session, _desk_doc(review_by=review_by), author=mentor
    )
    with pytest.raises(drafts.PublishRefused, match="at most 6 months"):
        drafts.submit(
            session,
            version,
            mentor=mentor,
            today=TODAY,
            rules=PublishRules(max_review_months=6),
        )


def test_mentors_are_reminded_from_thirty_days_before_and_on_the_day(
    session: Session, mentor: User
) -> None:
    report = _import(session, factories.document(review_by="2027-01-10"))
    assert report.added == 1
    version = session.scalars(
        PlanVersion.__table__.select().with_only_columns(PlanVersion.id)
    ).first()
    assert version is not None
    team_ids = mentor.team_ids
    assert drafts.review_reminders(session, team_ids, today=dt.date(2026, 12, 10)) == []
    due = drafts.review_reminders(session, team_ids, today=dt.date(2026, 12, 11))
    assert [r.words for r in due] == ["review due in 30 days"]
    on_the_day = drafts.review_reminders(session, team_ids, today=dt.date(2027, 1, 10))
    assert [r.words for r in on_the_day] == ["review due today"]


# --- agreement, for each version ----------------------------------------------


def _published_first(session: Session, mentor: User, lead: User) -> PlanVersion:
    version = _submitted(session, mentor)
    drafts.publish(session, version, approver=lead, today=TODAY)
    return version


def test_a_new_version_never_carries_the_last_ones_agreement(
    session: Session, mentor: User, lead: User
) -> None:
    first = _published_first(session, mentor, lead)
    second = drafts.start_from_live(session, first.person, author=mentor)
    coproduction = second.document["plan"].get("coproduction") or {}
    assert "agreed_with_person" not in coproduction
    assert coproduction.get("person_statement") == "Please tell me your name."
    doc = copy.deepcopy(second.document)
    doc["plan"]["boundaries"] = [
        {"boundary": "Calls the team first.", "if_breached": "Call the team."}
    ]
    drafts.edit_draft(session, second, doc, editor=mentor, based_on=second.edit_count)
    later = TODAY + dt.timedelta(days=7)
    with pytest.raises(drafts.PublishRefused, match="person agreed this version"):
        drafts.submit(session, second, mentor=mentor, today=later)
    # Typing the old agreement back in is caught too.
    doc = copy.deepcopy(second.document)
    doc["plan"]["coproduction"] = dict(first.document["plan"]["coproduction"])
    drafts.edit_draft(session, second, doc, editor=mentor, based_on=second.edit_count)
    with pytest.raises(drafts.PublishRefused, match="previous version's agreement"):
        drafts.submit(session, second, mentor=mentor, today=later)
    # The person agrees to this version, and responders read that date.
    doc = copy.deepcopy(second.document)
    doc["plan"]["coproduction"].update(
        agreed_with_person=True, agreed_on=later.isoformat(), channel="phone"
    )
    drafts.edit_draft(session, second, doc, editor=mentor, based_on=second.edit_count)
    drafts.submit(session, second, mentor=mentor, today=later)
    drafts.publish(session, second, approver=lead, today=later)
    view = plan_view.build(second, "police", today=later)
    about = dict(view.section("about").entries[0].details)  # type: ignore[union-attr]
    assert about["Agreed with the person"] == f"Yes, on {plan_view.long_date(later)}"


def test_new_words_take_the_agreement_back(session: Session, mentor: User) -> None:
    version = drafts.create_draft(session, _desk_doc(), author=mentor)
    assert version.agreed_with_person is True
    doc = copy.deepcopy(version.document)
    doc["plan"]["summary"] = "New words the person has not seen."
    drafts.edit_draft(session, version, doc, editor=mentor, based_on=version.edit_count)
    assert version.agreed_with_person is None
    assert "channel" not in version.document["plan"].get("coproduction", {})


def test_an_import_carrying_the_previous_agreement_stays_a_draft(
    session: Session,
) -> None:
    assert _import(session, factories.document()).added == 1
    carried = factories.document(version=2)
    carried["plan"]["coproduction"] = dict(
        factories.BASE_DOCUMENT["plan"]["coproduction"]
    )
    report = _import(session, carried)
    assert report.drafted == 1
    assert "previous version's agreement" in _warnings(report)


def test_an_agreement_needs_its_channel(session: Session, mentor: User) -> None:
    doc = _desk_doc()
    doc["plan"]["coproduction"].pop("channel")
    version = drafts.create_draft(session, doc, author=mentor)
    with pytest.raises(drafts.PublishRefused, match="record how the person agreed"):
        drafts.submit(session, version, mentor=mentor, today=TODAY)


# --- the approver ---------------------------------------------------------------


def test_a_lead_clinician_never_approves_their_own_version(
    session: Session, lead: User
) -> None:
    version = drafts.create_draft(session, _desk_doc(), author=lead)
    drafts.submit(session, version, mentor=lead, today=TODAY)
    with pytest.raises(drafts.NotAllowed, match="another lead clinician"):
        drafts.publish(session, version, approver=lead, today=TODAY)
    other = _user(session, "lead2@example.test", "lead_clinician")
    drafts.publish(session, version, approver=other, today=TODAY)
    assert version.status == "live"


def test_a_lead_who_submitted_a_mentors_draft_does_not_approve_it(
    session: Session, mentor: User, lead: User
) -> None:
    version = drafts.create_draft(session, _desk_doc(), author=mentor)
    drafts.submit(session, version, mentor=lead, today=TODAY)
    with pytest.raises(drafts.NotAllowed):
        drafts.publish(session, version, approver=lead, today=TODAY)


# --- issue 11: a live import meets the rules or lands a draft with reasons -----


@pytest.mark.parametrize(
    ("drop", "words"),
    [
        ("coproduction", "person agreed this version"),
        ("sharing_basis", "lawful basis"),
        ("approved_by", "lead clinician who approved it"),
        ("review_by", "set the date this plan must be reviewed by"),
    ],
)
def test_a_live_import_missing_a_recorded_field_lands_as_a_draft(
    session: Session, drop: str, words: str
) -> None:
    doc = factories.document()
    doc["plan"].pop(drop)
    report = _import(session, doc)
    assert (report.added, report.drafted) == (0, 1)
    assert words in _warnings(report)
    assert report.outcomes[0].message == "publish rules not met"
    person = session.scalars(
        PlanVersion.__table__.select().with_only_columns(PlanVersion.status)
    ).all()
    assert person == ["draft"]


def test_a_batch_of_new_live_plans_meets_the_rules_too(session: Session) -> None:
    good = [factories.document(f"TEST-TEAM/{n:05d}") for n in range(1, 4)]
    bad = factories.document("TEST-TEAM/00009")
    bad["plan"]["coproduction"]["agreed_with_person"] = False
    report = _import_many(session, [*good, bad])
    assert (report.added, report.drafted) == (3, 1)


def _import_many(session: Session, docs: list[dict[str, Any]]) -> Any:
    return import_documents(session, docs, actor="cli:test", source="test")


def test_the_rules_module_reads_its_configuration() -> None:
    rules = PublishRules.from_config(
        {"PUBLISH_MAX_REVIEW_MONTHS": "6", "PUBLISH_MAX_CAPACITY_AGE_MONTHS": 3}
    )
    assert (rules.max_review_months, rules.max_capacity_age_months) == (6, 3)
    assert publish_rules.DEFAULT_RULES.reminder_days == 30


def test_live_version_is_untouched_when_an_import_is_drafted(
    session: Session,
) -> None:
    assert _import(session, factories.document()).added == 1
    worse = factories.document(
        version=2, risk={"likelihood": 4, "impact": 4, "level": "low"}
    )
    assert _import(session, worse).drafted == 1
    person = session.scalars(
        PlanVersion.__table__.select().with_only_columns(PlanVersion.person_id)
    ).first()
    assert person is not None
    from plans.models import Person

    held = session.get(Person, person)
    assert held is not None
    live = live_version(session, held)
    assert live is not None and live.version == 1
