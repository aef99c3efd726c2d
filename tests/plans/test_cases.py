"""The case workflow in the domain: lists, matches, ranking, permission, consent."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from plans import drafts
from plans.audit import AuditEvent
from plans.cases import guard, intensity, linking, lists, matching, ranking, workflow
from plans.cases.models import AgencyList, ListEntry, MatchProposal
from plans.db import make_session_factory
from tests.plans.case_factories import (
    CURE_ALL,
    MONTH,
    accept,
    allocated_case,
    csv_text,
    decide_to_allocate,
    make_group,
    permit,
    synthetic_nhs_number,
    upload,
)

NHS = synthetic_nhs_number(1234)

# --- reading a list ---------------------------------------------------------------


def test_a_list_in_the_template_is_read_row_by_row() -> None:
    rows, problems = lists.read_list(
        csv_text(
            f"Robert,Smith,1980-04-05,{NHS},3,1,0,0,0",
            "Alice,Jones,05/11/1990,,0,2,1,0,0",
        ),
        month=MONTH,
    )
    assert problems == []
    assert [(r.line, r.given_name, r.date_of_birth) for r in rows] == [
        (2, "Robert", dt.date(1980, 4, 5)),
        (3, "Alice", dt.date(1990, 11, 5)),
    ]
    assert rows[0].nhs_number == NHS
    assert rows[1].contacts["conveyances"] == 1


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (",Smith,1980-04-05,,1,0,0,0,0", "given_name is empty"),
        ("Rob3rt,Smith,1980-04-05,,1,0,0,0,0", "given_name has digits"),
        ("Robert,Smith,31/02/1980,,1,0,0,0,0", "is not a date"),
        ("Robert,Smith,2027-01-01,,1,0,0,0,0", "not a possible birth"),
        ("Robert,Smith,1980-04-05,9991234567,1,0,0,0,0", "not a valid NHS number"),
        ("Robert,Smith,1980-04-05,,-1,0,0,0,0", "is not a count"),
        ("Robert,Smith,1980-04-05,,many,0,0,0,0", "is not a count"),
        ("Robert,Smith,1980-04-05,,0,0,0,0,0", "no contacts this month"),
        ("Robert,Smith,1980-04-05,,1,0", "values for 9 columns"),
    ],
)
def test_every_bad_row_is_reported_with_its_line(line: str, expected: str) -> None:
    rows, problems = lists.read_list(
        csv_text("Alice,Jones,1990-11-05,,1,0,0,0,0", line), month=MONTH
    )
    assert [p.line for p in problems] == [3]
    assert expected in problems[0].message


def test_header_problems_are_on_line_one() -> None:
    _rows, problems = lists.read_list(
        "given_name,surname,date_of_birth\nA,B,1990-01-01\n", month=MONTH
    )
    messages = " ".join(str(p) for p in problems)
    assert all(p.line == 1 for p in problems)
    assert "missing column(s): family_name" in messages
    assert "unknown column(s): surname" in messages
    assert "no contact column" in messages


def test_the_same_person_twice_on_one_list_is_a_problem() -> None:
    _rows, problems = lists.read_list(
        csv_text(
            "Alice,Jones,1990-11-05,,1,0,0,0,0", "alice,jones,1990-11-05,,2,0,0,0,0"
        ),
        month=MONTH,
    )
    assert [str(p) for p in problems] == ["line 3: the same person as line 2"]


def test_progress_is_reported_while_a_large_list_is_read() -> None:
    # Each row a different person: two letters of given name, one of family.
    body = [
        f"P{chr(97 + i // 26 % 26)}{chr(97 + i % 26)},Fam{chr(97 + i // 676)},"
        "1980-01-01,,1,0,0,0,0"
        for i in range(1200)
    ]
    seen: list[int] = []
    rows, problems = lists.read_list(csv_text(*body), month=MONTH, progress=seen.append)
    assert problems == []
    assert seen == [500, 1000, 1200]
    assert len(rows) == 1200


# --- uploading: all or nothing ----------------------------------------------------


def test_a_list_with_one_bad_row_stores_nothing(session: Session) -> None:
    group = make_group(session)
    with pytest.raises(lists.ListRefused) as refused:
        upload(
            session,
            group,
            "police",
            "Alice,Jones,1990-11-05,,1,0,0,0,0",
            "Bob,Jones,not-a-date,,1,0,0,0,0",
        )
    assert [p.line for p in refused.value.problems] == [3]
    assert session.scalar(select(func.count()).select_from(ListEntry)) == 0
    assert session.scalar(select(func.count()).select_from(AgencyList)) == 0


def test_an_agency_uploads_one_list_a_month(session: Session) -> None:
    group = make_group(session)
    upload(session, group, "police", "Alice,Jones,1990-11-05,,1,0,0,0,0")
    with pytest.raises(lists.ListRefused, match="problem"):
        upload(session, group, "police", "Alice,Jones,1990-11-05,,1,0,0,0,0")
    events = session.scalars(
        select(AuditEvent.action).where(AuditEvent.action == "case_list_uploaded")
    ).all()
    assert events == ["case_list_uploaded"]


def test_responders_and_other_teams_cannot_upload(session: Session) -> None:
    group = make_group(session)
    other = make_group(session, "HIU-OTHER")
    with pytest.raises(guard.CaseRefused):
        lists.upload_list(
            session,
            csv_text("Alice,Jones,1990-11-05,,1,0,0,0,0"),
            team=group.team,
            agency="police",
            month=MONTH,
            by=group.responder,
            channel="web",
        )
    with pytest.raises(guard.CaseRefused, match="own group"):
        lists.upload_list(
            session,
            csv_text("Alice,Jones,1990-11-05,,1,0,0,0,0"),
            team=group.team,
            agency="police",
            month=MONTH,
            by=other.mentor,
            channel="web",
        )


# --- matching -------------------------------------------------------------------


def row(
    key: int, given: str, family: str, born: str, nhs: str | None = None
) -> matching.Row:
    return matching.Row(key, given, family, dt.date.fromisoformat(born), nhs, str(key))


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        (
            row(1, "Robert", "Smith", "1980-04-05"),
            row(2, "Bob", "Smith", "1980-04-05"),
            "nickname",
        ),
        (
            row(1, "Katherine", "Smith", "1980-04-05"),
            row(2, "Catherine", "Smith", "1980-04-05"),
            "given name",
        ),
        (
            row(1, "Robert", "Smith", "1980-04-05"),
            row(2, "Robert", "Smith", "1980-05-04"),
            "day and month swapped",
        ),
        (
            row(1, "Robert", "Smith", "1980-04-05"),
            row(2, "Robert", "Smiht", "1980-04-05"),
            "family name",
        ),
        (
            row(1, "Robert", "Smith", "1980-04-05", NHS),
            row(2, "R", "Smyth", "1981-01-01", NHS),
            "same NHS number",
        ),
        (
            row(1, "Robert", "Smith", "1980-04-05"),
            row(2, "Smith", "Robert", "1980-04-05"),
            "other way round",
        ),
    ],
)
def test_rows_that_may_be_one_person_are_proposed_with_reasons(
    a: matching.Row, b: matching.Row, reason: str
) -> None:
    proposals = matching.propose([a], [b])
    assert len(proposals) == 1
    assert any(reason in r for r in proposals[0].reasons), proposals[0].reasons


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # Twins: same family and birthday, different given names.
        (
            row(1, "Robert", "Smith", "1980-04-05"),
            row(2, "Alice", "Smith", "1980-04-05"),
        ),
        # Different NHS numbers are different people whatever the names say.
        (
            row(1, "Robert", "Smith", "1980-04-05", NHS),
            row(2, "Robert", "Smith", "1980-04-05", synthetic_nhs_number(99)),
        ),
        (
            row(1, "Robert", "Smith", "1980-04-05"),
            row(2, "Robert", "Smith", "1962-11-23"),
        ),
    ],
)
def test_different_people_are_not_proposed(a: matching.Row, b: matching.Row) -> None:
    assert matching.propose([a], [b]) == []


def test_rows_of_one_list_are_never_compared() -> None:
    a = matching.Row(1, "Robert", "Smith", dt.date(1980, 4, 5), None, "list-1")
    b = matching.Row(2, "Bob", "Smith", dt.date(1980, 4, 5), None, "list-1")
    assert matching.propose([a, b]) == []


def test_uploads_propose_and_a_person_confirms(session: Session) -> None:
    group = make_group(session)
    upload(session, group, "police", "Robert,Smith,1980-04-05,,3,1,0,0,0")
    upload(session, group, "ambulance", "Bob,Smith,1980-05-04,,0,2,2,0,0")
    proposals = linking.pending(session, group.team.id, by=group.mentor, channel="web")
    assert len(proposals) == 1
    assert "date of birth with day and month swapped" in proposals[0].reasons
    # Nothing is merged until a person says so: two people on the ranked list.
    assert (
        len(
            ranking.ranked_month(
                session, group.team, MONTH, by=group.mentor, channel="web"
            )
        )
        == 2
    )
    decision = linking.decide(
        session, proposals[0].id, confirm=True, by=group.mentor, channel="web"
    )
    assert decision.changed and decision.proposal.status == "confirmed"
    again = linking.decide(
        session, proposals[0].id, confirm=False, by=group.mentor, channel="web"
    )
    assert not again.changed and again.proposal.status == "confirmed"
    ranked = ranking.ranked_month(
        session, group.team, MONTH, by=group.mentor, channel="web"
    )
    assert len(ranked) == 1
    assert ranked[0].contacts["attendances"] == 3
    assert ranked[0].agencies == ("Ambulance", "Police")


def test_two_people_deciding_at_once_count_once(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory() as session:
        group = make_group(session)
        upload(session, group, "police", "Robert,Smith,1980-04-05,,3,1,0,0,0")
        upload(session, group, "ambulance", "Bob,Smith,1980-04-05,,0,2,2,0,0")
        proposal_id = session.scalars(select(MatchProposal.id)).one()
        mentor_id, lead_id = group.mentor.id, group.lead.id
        session.commit()
    barrier = threading.Barrier(2)
    outcomes: list[bool] = []

    def decide(user_id: int, confirm: bool) -> None:
        from plans.models import User

        with factory() as session:
            user = session.get(User, user_id)
            assert user is not None
            barrier.wait()
            outcome = linking.decide(
                session, proposal_id, confirm=confirm, by=user, channel="web"
            )
            session.commit()
            outcomes.append(outcome.changed)

    threads = [
        threading.Thread(target=decide, args=(mentor_id, True)),
        threading.Thread(target=decide, args=(lead_id, False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False, True]
    with factory() as session:
        decided = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "case_match_decided")
        ).all()
        assert len(decided) == 1


# --- ranking ----------------------------------------------------------------------


def test_the_matrix_multiplies_frequency_by_the_worst_contact() -> None:
    assert intensity.intensity({"calls": 2}).score == 1
    assert intensity.intensity({"calls": 12, "detentions": 1}).score == 4 * 4
    assert (
        intensity.intensity({"calls": 30, "serious_incidents": 1}).band == "very high"
    )
    assert intensity.intensity({}).score == 0


def test_the_month_is_ranked_by_intensity_with_a_trend(session: Session) -> None:
    group = make_group(session)
    september = dt.date(2026, 9, 1)
    upload(
        session, group, "police", "Robert,Smith,1980-04-05,,1,0,0,0,0", month=september
    )
    upload(
        session,
        group,
        "police",
        "Robert,Smith,1980-04-05,,9,0,0,1,0",
        "Alice,Jones,1990-11-05,,25,0,0,0,0",
    )
    proposal = session.scalars(select(MatchProposal)).one()
    linking.decide(session, proposal.id, confirm=True, by=group.mentor, channel="web")
    ranked = ranking.ranked_month(
        session, group.team, MONTH, by=group.mentor, channel="web"
    )
    assert [r.name for r in ranked] == ["Robert Smith", "Alice Jones"]
    assert ranked[0].intensity.score == 3 * 4
    assert ranked[0].trend[-2:] == ((september, 1), (MONTH, 12))
    assert ranked[0].trend_words == "rising"
    assert ranked[1].trend_words == "new this month"


# --- allocation, permission, consent and the first plan ----------------------------


def test_mentors_are_allocated_only_after_the_group_decides(session: Session) -> None:
    group = make_group(session)
    agency_list = upload(session, group, "police", "Ann,Other,1970-02-03,,1,0,0,0,0")
    case = workflow.open_case(
        session,
        agency_list.entries[0].id,
        by=group.mentor,
        channel="web",  # type: ignore[attr-defined]
    )

    def allocate() -> None:
        workflow.allocate(
            session,
            case,
            clinician_mentor_id=group.mentor.id,
            police_mentor_id=group.police_mentor.id,
            lead_clinician_id=group.lead.id,
            by=group.mentor,
            channel="web",
        )

    with pytest.raises(workflow.CaseError, match="not decided to allocate"):
        allocate()
    decide_to_allocate(session, group, case)
    allocate()
    assert case.lead_clinician_id == group.lead.id


def test_the_police_partner_must_be_a_police_mentor(session: Session) -> None:
    group = make_group(session)
    case = allocated_case(session, group)
    with pytest.raises(workflow.CaseError, match="police partner"):
        workflow.allocate(
            session,
            case,
            clinician_mentor_id=group.mentor.id,
            police_mentor_id=group.mentor.id,
            lead_clinician_id=group.lead.id,
            by=group.mentor,
            channel="web",
        )


def test_only_the_named_lead_clinician_gives_permission(session: Session) -> None:
    group = make_group(session)
    case = allocated_case(session, group)
    for someone in (group.other_lead, group.mentor, group.responder):
        with pytest.raises(guard.CaseRefused):
            workflow.record_permission(
                session,
                case,
                capacity=CURE_ALL,
                likely_benefit=True,
                no_disruption=True,
                notes=None,
                by=someone,
                channel="web",
            )
    assert not workflow.permission_granted(case)


def test_permission_needs_every_part_of_capacity(session: Session) -> None:
    group = make_group(session)
    case = allocated_case(session, group)
    workflow.record_permission(
        session,
        case,
        capacity={**CURE_ALL, "retain": False},
        likely_benefit=True,
        no_disruption=True,
        notes=None,
        by=group.lead,
        channel="web",
    )
    assert not workflow.permission_granted(case)


def test_no_plan_without_permission(session: Session) -> None:
    group = make_group(session)
    case = allocated_case(session, group)
    accept(session, group, case)
    with pytest.raises(drafts.DraftError, match="permission"):
        workflow.draft_first_plan(session, case, by=group.mentor, channel="web")


def test_no_plan_without_consent(session: Session) -> None:
    group = make_group(session)
    case = allocated_case(session, group)
    permit(session, group, case)
    with pytest.raises(drafts.DraftError, match="not agreed"):
        workflow.draft_first_plan(session, case, by=group.mentor, channel="web")
    workflow.record_consent(
        session, case, "invited", person_words=None, by=group.mentor, channel="web"
    )
    with pytest.raises(drafts.DraftError, match="not agreed"):
        workflow.draft_first_plan(session, case, by=group.mentor, channel="web")


def test_no_plan_for_a_person_who_declined_until_they_come_back(
    session: Session,
) -> None:
    group = make_group(session)
    case = allocated_case(session, group)
    permit(session, group, case)
    workflow.record_consent(
        session, case, "invited", person_words=None, by=group.mentor, channel="web"
    )
    workflow.record_consent(
        session,
        case,
        "declined",
        person_words="Not now, maybe after Christmas.",
        by=group.mentor,
        channel="web",
    )
    with pytest.raises(drafts.DraftError, match="not taking part"):
        workflow.draft_first_plan(session, case, by=group.mentor, channel="web")
    assert case.consents[-1].person_words == "Not now, maybe after Christmas."
    workflow.record_consent(
        session,
        case,
        "accepted",
        person_words="I'll give it a go.",
        by=group.mentor,
        channel="web",
    )
    version = workflow.draft_first_plan(
        session, case, by=group.police_mentor, channel="web"
    )
    assert version.person.given_name == "Robert"
    assert case.person_id == version.person_id


def test_every_channel_that_drafts_waits_for_the_case(session: Session) -> None:
    group = make_group(session)
    case = allocated_case(session, group)
    permit(session, group, case)
    accept(session, group, case)
    version = workflow.draft_first_plan(session, case, by=group.mentor, channel="web")
    assert drafts.discard_draft(session, version, by=group.mentor)
    # The person's details went with their only draft; the case drafts anew.
    assert case.person_id is None
    version = workflow.draft_first_plan(session, case, by=group.mentor, channel="web")
    person = version.person
    workflow.record_consent(
        session, case, "stopped", person_words="Stop.", by=group.mentor, channel="web"
    )

    def edit() -> None:
        drafts.edit_draft(
            session,
            version,
            {**version.document, "plan": {"summary": "New words."}},
            editor=group.mentor,
            based_on=version.edit_count,
        )

    with pytest.raises(drafts.DraftError, match="not taking part"):
        edit()
    with pytest.raises(drafts.DraftError, match="not taking part"):
        drafts.submit(session, version, mentor=group.mentor)
    with pytest.raises(drafts.DraftError, match="not taking part"):
        drafts.start_from_live(session, person, author=group.mentor)
    # The import channel drafts through the same function.
    outcome = drafts.draft_documents(
        session,
        [
            (
                "1",
                {
                    "person": {
                        "ref": person.ref,
                        "given_name": "R",
                        "family_name": "S",
                    },
                    "plan": {"summary": "x"},
                },
            )
        ],
        author=group.mentor,
    )
    assert outcome[0].version is None
    assert "not taking part" in (outcome[0].problem or "")
    # Coming back is the person's right; a change of capacity lapses permission.
    workflow.record_consent(
        session, case, "accepted", person_words="Back.", by=group.mentor, channel="web"
    )
    workflow.record_capacity_change(
        session, case, by=group.police_mentor, channel="web"
    )
    with pytest.raises(drafts.DraftError, match="permission"):
        edit()
    permit(session, group, case)
    edit()
    assert version.summary == "New words."


def test_people_without_a_case_are_drafted_as_before(session: Session) -> None:
    group = make_group(session)
    version = drafts.create_draft(
        session,
        {
            "person": {"given_name": "Ann", "family_name": "Other"},
            "plan": {"summary": "s"},
        },
        author=group.mentor,
        team=group.team,
    )
    drafts.edit_draft(
        session,
        version,
        {**version.document, "plan": {"summary": "Edited."}},
        editor=group.mentor,
        based_on=version.edit_count,
    )
    assert version.summary == "Edited."


def test_an_answer_needs_an_invitation_and_stop_needs_taking_part(
    session: Session,
) -> None:
    group = make_group(session)
    case = allocated_case(session, group)
    with pytest.raises(workflow.CaseError, match="invite"):
        workflow.record_consent(
            session, case, "accepted", person_words=None, by=group.mentor, channel="web"
        )
    workflow.record_consent(
        session, case, "invited", person_words=None, by=group.mentor, channel="web"
    )
    with pytest.raises(workflow.CaseError, match="taking part"):
        workflow.record_consent(
            session, case, "stopped", person_words=None, by=group.mentor, channel="web"
        )


def test_nominated_people_only_with_the_persons_consent(session: Session) -> None:
    group = make_group(session)
    case = allocated_case(session, group)
    kwargs = dict(
        nominee="Jo Smith",
        relationship="sister",
        may_be_told="That he is safe",
        until=None,
    )
    with pytest.raises(workflow.CaseError, match="not accepted"):
        workflow.record_nominee(session, case, **kwargs, by=group.mentor, channel="web")  # type: ignore[arg-type]
    accept(session, group, case)
    row = workflow.record_nominee(
        session, case, **kwargs, by=group.mentor, channel="web"
    )  # type: ignore[arg-type]
    workflow.withdraw_nominee(session, row.id, by=group.mentor, channel="web")
    assert row.withdrawn_at is not None


def test_responders_never_reach_a_case(session: Session) -> None:
    group = make_group(session)
    case = allocated_case(session, group)
    with pytest.raises(guard.CaseRefused):
        workflow.get_case(session, case.id, by=group.responder, channel="web")
    with pytest.raises(guard.CaseRefused):
        ranking.ranked_month(
            session, group.team, MONTH, by=group.responder, channel="web"
        )


def test_stopping_changes_nothing_a_responder_sees(session: Session) -> None:
    from plans import accounts, lookup, versions
    from tests.plans import factories

    group = make_group(session)
    case = allocated_case(session, group)
    permit(session, group, case)
    accept(session, group, case)
    person = factories.person(
        session, ref=f"{group.team.code}/00001", code=group.team.code
    )
    versions.make_live(session, factories.draft(session, person))
    case.person_id = person.id
    session.flush()
    officer = accounts.create_user(session, "pc@example.test", role="police")
    at = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    before = lookup.find_plans(
        session, officer, "Alexandra Testperson", channel="web", now=at
    )
    workflow.record_consent(
        session,
        case,
        "stopped",
        person_words="Leave me be.",
        by=group.mentor,
        channel="web",
    )
    after = lookup.find_plans(
        session, officer, "Alexandra Testperson", channel="web", now=at
    )
    assert [r.ref for r in before] == [r.ref for r in after] == [person.ref]
    assert person.live_version(session) is not None
