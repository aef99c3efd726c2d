"""The portal's domain: demand entry and import, costs, harms, charts, reports."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plans import accounts, clock, rules
from plans.audit import AuditEvent
from plans.models import Person, User
from plans.people import PersonRequest
from plans.portal import assessment, charts, costs, demand, directory, harms, reports
from plans.portal.models import (
    DemandCount,
    DemandRevision,
    HarmEvent,
    ReportImmutable,
    SavedReport,
)
from plans.portal.units import DEFAULT_COSTS_BY_UNIT, MINIMUM_UNITS, UNITS
from tests.plans import factories

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def fixed_clock() -> Iterator[None]:
    with clock.frozen(NOW):
        yield


@pytest.fixture
def mentor(session: Session) -> User:
    factories.team(session)
    return accounts.create_user(
        session, "mentor@example.test", role="mentor", team_codes=["TEST-TEAM"]
    )


@pytest.fixture
def person(session: Session) -> Person:
    return factories.person(session)


def audit_actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def m(text: str) -> dt.date:
    return demand.parse_month(text)


# -- the unit table -------------------------------------------------------------------


def test_the_table_ships_the_minimum_sets_and_over_25_further_units() -> None:
    codes = [u.code for u in UNITS]
    assert len(codes) == len(set(codes))
    assert {u.code for u in MINIMUM_UNITS} == {
        "police_incidents",
        "ambulance_deployments",
        "ed_attendances",
        "mh_bed_days",
        "s136_detentions",
        "mha_assessments",
    }
    assert len(UNITS) - len(MINIMUM_UNITS) >= 25
    # every unit has a default cost with a source that says what it is
    for unit in UNITS:
        cost = DEFAULT_COSTS_BY_UNIT[unit.code]
        assert "illustrative" in cost.source
        assert cost.pounds == cost.pounds.quantize(Decimal(10))  # no invented pence


# -- desk entry and corrections -------------------------------------------------------


def test_desk_entry_then_a_correction_is_revised_and_audited(
    session: Session, mentor: User, person: Person
) -> None:
    tally = demand.set_counts(
        session,
        person,
        m("2026-03"),
        {"police_incidents": 4, "ed_attendances": 2},
        by=mentor,
    )
    assert (tally.added, tally.updated) == (2, 0)
    again = demand.set_counts(
        session, person, m("2026-03"), {"police_incidents": 4}, by=mentor
    )
    assert (again.added, again.updated, again.unchanged) == (0, 0, 1)
    fixed = demand.set_counts(
        session,
        person,
        m("2026-03"),
        {"police_incidents": 3, "ed_attendances": None},
        by=mentor,
    )
    assert fixed.updated == 1
    revision = session.scalars(select(DemandRevision)).one()
    assert (revision.old_count, revision.new_count) == (4, 3)
    assert revision.changed_by_id == mentor.id
    assert audit_actions(session) == ["demand_entered", "demand_corrected"]
    stored = {r.unit: r.count for r in session.scalars(select(DemandCount))}
    assert stored == {"police_incidents": 3, "ed_attendances": 2}


@pytest.mark.parametrize(
    ("month", "counts", "message"),
    [
        ("2026-07", {"police_incidents": 1}, "not happened"),
        ("2026-05", {"tea_breaks": 1}, "not a unit"),
        ("2026-05", {"police_incidents": -1}, "from 0"),
        ("2026-05", {"police_incidents": 10_001}, "from 0"),
    ],
)
def test_desk_entry_refuses_bad_input(
    session: Session,
    mentor: User,
    person: Person,
    month: str,
    counts: dict[str, int],
    message: str,
) -> None:
    with pytest.raises(demand.DemandError, match=message):
        demand.set_counts(session, person, m(month), counts, by=mentor)
    assert session.scalar(select(func.count()).select_from(DemandCount)) == 0


@pytest.mark.parametrize("text", ["2026", "2026-13", "May 2026", "", "1999-01"])
def test_months_are_read_strictly(text: str) -> None:
    with pytest.raises(demand.DemandError):
        demand.parse_month(text)


@pytest.mark.parametrize(
    "role",
    [
        "police",
        "ambulance",
        "control_room",
        "network",
        "team_lead",
        "privacy_officer",
        "admin",
    ],
)
def test_only_mentors_enter_demand(session: Session, person: Person, role: str) -> None:
    factories.team(session)
    user = accounts.create_user(
        session, f"{role}@example.test", role=role, team_codes=["TEST-TEAM"]
    )
    with pytest.raises(rules.NotAllowed):
        demand.set_counts(
            session, person, m("2026-05"), {"police_incidents": 1}, by=user
        )


@pytest.mark.parametrize(
    "role", ["police", "ambulance", "emergency_department", "control_room", "network"]
)
def test_responders_and_the_network_never_see_a_persons_demand(
    session: Session, person: Person, role: str
) -> None:
    user = accounts.create_user(
        session, f"{role}@example.test", role=role, team_codes=["TEST-TEAM"]
    )
    with pytest.raises(rules.NotAllowed):
        reports.person_portal(session, person, user=user)


def test_a_mentor_of_another_team_is_refused(session: Session, person: Person) -> None:
    factories.team(session, "OTHER")
    other = accounts.create_user(
        session, "other@example.test", role="mentor", team_codes=["OTHER"]
    )
    with pytest.raises(demand.NotInTeam):
        demand.set_counts(
            session, person, m("2026-05"), {"police_incidents": 1}, by=other
        )
    with pytest.raises(demand.NotInTeam):
        reports.person_portal(session, person, user=other)


# -- agency import --------------------------------------------------------------------

GOOD = (
    "person_ref,month,police_incidents,s136_detentions\n"
    "TEST-TEAM/00001,2026-01,3,1\n"
    "TEST-TEAM/00001,2026-02,2,\n"
)


def test_import_stores_counts_and_a_reimport_changes_nothing(
    session: Session, mentor: User, person: Person
) -> None:
    team = person.team
    first = demand.import_csv(session, team, GOOD.encode(), agency="Police", by=mentor)
    assert (first.added, first.updated, first.unchanged) == (3, 0, 0)
    again = demand.import_csv(session, team, GOOD.encode(), agency="Police", by=mentor)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    assert session.scalar(select(func.count()).select_from(DemandCount)) == 3
    assert session.scalar(select(func.count()).select_from(DemandRevision)) == 0
    corrected = GOOD.replace("2026-02,2,", "2026-02,5,")
    third = demand.import_csv(session, team, corrected, agency="Police", by=mentor)
    assert third.updated == 1
    assert audit_actions(session).count("demand_imported") == 3


def test_a_bad_file_reports_every_bad_line_and_stores_nothing(
    session: Session, mentor: User, person: Person
) -> None:
    bad = (
        "person_ref,month,police_incidents,s136_detentions\n"
        "TEST-TEAM/00001,2026-01,3,1\n"
        "TEST-TEAM/99999,2026-01,1,0\n"
        "TEST-TEAM/00001,2026-13,1,0\n"
        "TEST-TEAM/00001,2026-02,two,0\n"
        "TEST-TEAM/00001,2026-01,1,0\n"
        "TEST-TEAM/00001,2026-03,1\n"
        "TEST-TEAM/00001,2026-09,1,1\n"
    )
    with pytest.raises(demand.ImportRefused) as refused:
        demand.import_csv(session, person.team, bad, agency="Police", by=mentor)
    lines = [p.line for p in refused.value.problems]
    assert lines == [3, 4, 5, 6, 7, 8]
    messages = " | ".join(str(p) for p in refused.value.problems)
    assert "no person" in messages and "repeats line 2" in messages
    assert "not happened" in messages and "not a whole number" in messages
    assert session.scalar(select(func.count()).select_from(DemandCount)) == 0


@pytest.mark.parametrize(
    "header",
    [
        "ref,month,police_incidents",
        "person_ref,month,tea",
        "person_ref,month",
        "person_ref,month,police_incidents,police_incidents",
    ],
)
def test_a_bad_header_is_refused_on_line_1(
    session: Session, mentor: User, person: Person, header: str
) -> None:
    with pytest.raises(demand.ImportRefused) as refused:
        demand.import_csv(
            session, person.team, header + "\n", agency="Police", by=mentor
        )
    assert refused.value.problems[0].line == 1


def test_a_non_utf8_file_is_refused_in_words(
    session: Session, mentor: User, person: Person
) -> None:
    with pytest.raises(demand.ImportRefused, match="problem"):
        demand.import_csv(
            session, person.team, b"\xff\xfe\x00", agency="Police", by=mentor
        )


# -- baseline -------------------------------------------------------------------------


def test_the_baseline_is_before_the_first_published_plan_or_the_recorded_start(
    session: Session, mentor: User, person: Person
) -> None:
    assert demand.mentoring_start(session, person.id) is None
    version = factories.draft(session, person)
    version.status = "live"
    version.published_at = dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)
    session.flush()
    assert demand.mentoring_start(session, person.id) == dt.date(2026, 3, 10)
    demand.set_mentoring_start(session, person, dt.date(2026, 2, 1), by=mentor)
    assert demand.mentoring_start(session, person.id) == dt.date(2026, 2, 1)
    for month, count in (
        ("2025-12", 4),
        ("2026-01", 6),
        ("2026-02", 1),
        ("2026-03", 1),
    ):
        demand.set_counts(
            session, person, m(month), {"police_incidents": count}, by=mentor
        )
    portal = reports.person_portal(session, person, user=mentor)
    before, after = portal.baseline_and_after("police_incidents")
    # the window is 24 months to June 2026: 19 baseline months hold 10 incidents
    assert before == pytest.approx(10 / 19)
    assert after == pytest.approx(2 / 5)


# -- costs ----------------------------------------------------------------------------


def test_costs_are_dated_and_fall_back_to_the_default_table(
    session: Session, mentor: User, person: Person
) -> None:
    for month in ("2026-01", "2026-02", "2026-03"):
        demand.set_counts(session, person, m(month), {"police_incidents": 2}, by=mentor)
    costs.set_unit_cost(
        session,
        person.team,
        "police_incidents",
        Decimal("250.50"),
        valid_from=dt.date(2026, 2, 14),
        source="Local finance 2026",
        by=mentor,
    )
    book = costs.cost_book(session, person.team_id)
    months = demand.month_range(m("2026-01"), m("2026-03"))
    grid = demand.demand_grid(session, [person.id], months[0], months[-1])
    default = DEFAULT_COSTS_BY_UNIT["police_incidents"].pounds
    assert costs.monthly_cost(grid, book, [person.id], months) == [
        default * 2,
        Decimal(501),
        Decimal(501),
    ]
    assert book.source("police_incidents", m("2026-01")).startswith("illustrative")
    assert costs.yearly([Decimal(1), Decimal(2)], months[:2]) == {2026: Decimal(3)}


@pytest.mark.parametrize("text", ["abc", "-1", "1.005", "NaN", "2000000"])
def test_a_bad_cost_is_refused(text: str) -> None:
    with pytest.raises(demand.DemandError):
        costs.parse_pounds(text)


def test_pounds_are_read_as_people_write_them() -> None:
    assert costs.parse_pounds("£1,250.5") == Decimal("1250.50")


# -- harms ----------------------------------------------------------------------------


def test_harms_are_counted_beside_demand(
    session: Session, mentor: User, person: Person
) -> None:
    with clock.frozen(dt.datetime(2026, 4, 2, 10, tzinfo=dt.UTC)):
        session.add(
            PersonRequest(
                person_id=person.id,
                team_id=person.team_id,
                kind="concern",
                message="synthetic",
                via="web",
            )
        )
        session.add(
            PersonRequest(
                person_id=person.id,
                team_id=person.team_id,
                kind="withdrawal",
                message="",
                via="web",
            )
        )
        session.flush()
    harms.record_harm(session, person, "death", dt.date(2026, 5, 20), by=mentor)
    with pytest.raises(demand.DemandError):
        harms.record_harm(session, person, "sadness", dt.date(2026, 5, 20), by=mentor)
    found = harms.harms_by_month(
        session, [person.id], demand.month_range(m("2026-04"), m("2026-06"))
    )
    assert found.counts["concerns"] == [1, 0, 0]
    assert found.counts["withdrawals"] == [1, 0, 0]
    assert found.counts["deaths"] == [0, 1, 0]
    assert session.scalars(select(HarmEvent)).one().kind == "death"


@pytest.mark.parametrize(("count", "shown"), [(0, "0"), (1, "<5"), (4, "<5"), (5, "5")])
def test_small_numbers_are_suppressed(count: int, shown: str) -> None:
    assert harms.suppressed(count) == shown


def test_network_aggregates_suppress_small_numbers(
    session: Session, mentor: User, person: Person
) -> None:
    demand.set_counts(session, person, m("2026-05"), {"police_incidents": 3}, by=mentor)
    network = accounts.create_user(session, "net@example.test", role="network")
    rows = reports.network_aggregates(session, user=network)
    row = next(r for r in rows if r.team == person.team.name)
    assert row.people == "<5"
    assert row.units["police_incidents"] == "<5"
    assert "TEST-TEAM/00001" not in repr(rows) and "Alexandra" not in repr(rows)


# -- charts ---------------------------------------------------------------------------


def parse(svg: str) -> ET.Element:
    assert "style=" not in svg  # the CSP refuses inline style
    return ET.fromstring(svg)


def test_stacked_bars_are_drawn_from_the_data(
    session: Session, mentor: User, person: Person
) -> None:
    demand.set_mentoring_start(session, person, dt.date(2026, 2, 1), by=mentor)
    entered = {
        "2025-12": {
            "police_incidents": 4,
            "ambulance_deployments": 2,
            "mh_bed_days": 7,
        },
        "2026-01": {"s136_detentions": 1, "ed_attendances": 3},
        "2026-04": {"calls_111": 2, "gp_appointments": 5},
    }
    for month, counts in entered.items():
        demand.set_counts(session, person, m(month), counts, by=mentor)
    chart = reports.person_portal(session, person, user=mentor).demand_chart()
    root = parse(chart.svg)
    plot_h = float(root.get("data-plot-height", "0"))
    y_max = float(root.get("data-y-max", "0"))
    drawn: dict[tuple[str, str], int] = {}
    for rect in root.iter(f"{SVG}rect"):
        if rect.get("class") != "bar":
            continue
        value = int(rect.get("data-value", "0"))
        assert float(rect.get("height", "0")) == pytest.approx(
            value * plot_h / y_max, abs=0.01
        )
        drawn[(rect.get("data-month", ""), rect.get("data-series", ""))] = value
    assert drawn == {
        ("2025-12", "Police"): 4,
        ("2025-12", "Ambulance"): 2,
        ("2025-12", "Mental health"): 7,
        ("2026-01", "Police"): 1,
        ("2026-01", "ED and acute hospital"): 3,
        ("2026-04", "Ambulance"): 2,  # 111 calls; GP appointments are not stacked
    }
    marker = next(e for e in root.iter(f"{SVG}line") if e.get("class") == "marker")
    assert marker.get("data-month") == "2026-02"
    table = {row[0]: row for row in chart.rows}
    assert table["Dec 2025"][-1] == "13"


def test_an_xmr_chart_shows_the_limits_and_special_causes_of_its_data() -> None:
    months = demand.month_range(m("2025-01"), m("2025-12"))
    values = [3, 4, 3, 5, 4, 3, 14, 4, 3, 2, 3, 4]
    limits = charts.xmr(values)
    ranges = [abs(values[i] - values[i - 1]) for i in range(1, 12)]
    assert limits.mean == pytest.approx(sum(values) / 12)
    assert limits.upper == pytest.approx(limits.mean + 2.66 * sum(ranges) / 11)
    assert limits.signals == {6: ("outside",)}
    chart = charts.xmr_chart("ED attendances", months, values)
    root = parse(chart.svg)
    assert float(root.get("data-mean", "")) == pytest.approx(limits.mean, abs=0.01)
    assert float(root.get("data-upper", "")) == pytest.approx(limits.upper, abs=0.01)
    points = [e for e in root.iter() if "point" in (e.get("class") or "")]
    assert [int(p.get("data-value", "")) for p in points] == values
    special = [p.get("data-month") for p in points if "special" in p.get("class", "")]
    assert special == ["2025-07"]
    assert chart.rows[6] == ["Jul 2025", "14", "outside the limits"]


@pytest.mark.parametrize(
    ("values", "rule", "marked"),
    [
        ([5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 4, 4], "shift", range(3, 10)),
        ([1, 2, 3, 4, 5, 6, 7, 3, 3, 3, 3, 3], "trend", range(0, 7)),
    ],
)
def test_runs_are_special_causes(values: list[int], rule: str, marked: range) -> None:
    signals = charts.xmr(values).signals
    assert [i for i, rules_ in signals.items() if rule in rules_] == list(marked)


def test_a_flat_series_has_no_special_cause() -> None:
    assert charts.xmr([2] * 12).signals == {}


# -- reports --------------------------------------------------------------------------


def test_a_saved_report_is_immutable_and_its_pdf_says_what_it_holds(
    session: Session, mentor: User, person: Person
) -> None:
    from io import BytesIO

    from pypdf import PdfReader

    from plans.portal.pdf import render_report_pdf

    demand.set_counts(session, person, m("2026-05"), {"police_incidents": 7}, by=mentor)
    report = reports.build_report(session, person, by=mentor)
    assert report.built_on == dt.date(2026, 6, 15)
    assert report.content["units"][0]["counts"][-2] == 7
    session.commit()
    report.content = {"tampered": True}
    with pytest.raises(ReportImmutable):
        session.flush()
    session.rollback()
    saved = session.scalars(select(SavedReport)).one()
    pdf = render_report_pdf(saved.content, built_on=saved.built_on, report_id=saved.id)
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    assert "Report for Alexandra Testperson" in text
    assert "Advice only: always assess and treat" in text
    assert "What the person experienced" in text
    assert re.search(r"Police incidents\s+7", text)


def test_the_person_comments_on_their_own_report_only(
    session: Session, mentor: User, person: Person
) -> None:
    report = reports.build_report(session, person, by=mentor)
    reports.comment_on_report(session, person, report, "  I disagree with May.  ")
    other = factories.person(session, "TEST-TEAM/00002")
    with pytest.raises(demand.DemandError):
        reports.comment_on_report(session, other, report, "not mine")
    with pytest.raises(demand.DemandError):
        reports.comment_on_report(session, person, report, "   ")
    session.flush()
    assert [c.text for c in report.comments] == ["I disagree with May."]
    assert "report_commented" in audit_actions(session)


def test_a_team_lead_reads_but_does_not_build(session: Session, person: Person) -> None:
    lead = accounts.create_user(
        session, "lead@example.test", role="team_lead", team_codes=["TEST-TEAM"]
    )
    reports.person_portal(session, person, user=lead)
    reports.team_report(session, person.team, user=lead)
    with pytest.raises(rules.NotAllowed):
        reports.build_report(session, person, by=lead)


# -- directory, experience, self-assessment -------------------------------------------


def test_the_directory_finds_who_covers_a_town(session: Session, mentor: User) -> None:
    team = factories.team(session)
    factories.team(session, "ELSEWHERE")
    directory.update_profile(
        session,
        team,
        by=mentor,
        police_force_area="Testshire Police",
        icb="Testshire ICB",
        towns="Testtown\nLittle Example",
        member_agencies="Police",
        mentors="Sam Mentor",
        declared_experience="threatens to jump from bridges",
    )
    found = directory.directory(session, user=mentor, place="little example")
    assert [e.team.code for e in found] == ["TEST-TEAM"]
    assert len(directory.directory(session, user=mentor)) == 2


def test_behaviour_experience_counts_plans_and_never_names_a_person(
    session: Session, mentor: User, person: Person
) -> None:
    version = factories.draft(
        session,
        person,
        behaviours=[{"description": "Climbs onto the bridge and threatens to jump"}],
    )
    version.status = "live"
    session.flush()
    labels, found = directory.behaviour_experience(
        session, "jumping from a bridge", user=mentor
    )
    assert "bridge" in labels
    assert [(e.team, e.plans) for e in found] == [(person.team.name, "<5")]
    assert "Alexandra" not in repr(found)


def test_a_self_assessment_scores_every_measure(session: Session, mentor: User) -> None:
    team = factories.team(session)
    assert len(assessment.MEASURES) == 11
    scores = {m_.code: ("3", "evidence") for m_ in assessment.MEASURES}
    row = assessment.save_assessment(
        session,
        team,
        by=mentor,
        visited_on=dt.date(2026, 6, 1),
        scores=scores,
        worked_well="Joint visits",
        learn_from="OTHER team",
    )
    assert [r.id for r in assessment.history(session, team, user=mentor)] == [row.id]
    chart = assessment.chart(row)
    assert [r[1] for r in chart.rows] == ["3 of 4"] * 11
    scores["exit"] = ("5", "")
    with pytest.raises(demand.DemandError, match="0 to 4"):
        assessment.save_assessment(
            session, team, by=mentor, visited_on=dt.date(2026, 6, 1), scores=scores
        )
