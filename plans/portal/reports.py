"""A person's portal page and saved report, and a team's report.

`person_portal` gathers everything a page or a report shows: demand by unit and
service, its cost, the harms beside it, and the charts. `build_report` freezes
that, with the plan's history and how often it was opened, as an immutable dated
`SavedReport`; the PDF is drawn from the saved content alone, so a printed
report always matches the version it came from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plans import audit, rules
from plans.access import AccessGrant
from plans.clock import today
from plans.models import Person, PlanVersion, Team, User
from plans.people import REQUEST_KINDS, REQUEST_STATUSES, PersonRequest
from plans.portal import charts
from plans.portal.costs import cost_book, monthly_cost, yearly
from plans.portal.demand import (
    DemandError,
    Grid,
    demand_grid,
    mentoring_starts,
    month_range,
    require_team_member,
)
from plans.portal.harms import HARM_KINDS, Harms, harms_by_month, suppressed
from plans.portal.models import ReportComment, SavedReport
from plans.portal.units import (
    CHART_SERVICES,
    MINIMUM_UNITS,
    SERVICE_LABELS,
    UNITS,
    UNITS_BY_CODE,
)
from plans.vocabulary import Channel

DEFAULT_MONTHS = 24
COMMENT_MAX = 2000


def window(months: int = DEFAULT_MONTHS, end: dt.date | None = None) -> list[dt.date]:
    """Return the last `months` months up to and including `end` (default: now)."""
    last = (end or today()).replace(day=1)
    year, month = last.year, last.month - (months - 1)
    while month < 1:
        year, month = year - 1, month + 12
    return month_range(dt.date(year, month, 1), last)


@dataclass
class PersonPortal:
    """Everything a person's portal page shows, for one window of months."""

    person: Person
    months: list[dt.date]
    started: dt.date | None
    grid: Grid
    costs: list[Decimal]
    harms: Harms

    def count(self, unit: str, month: dt.date) -> int:
        """Return the stored count (0 when none)."""
        return self.grid.get((self.person.id, month, unit), 0)

    def unit_series(self, unit: str) -> list[int]:
        """Return a unit's counts across the months."""
        return [self.count(unit, month) for month in self.months]

    def service_series(self) -> list[tuple[str, list[int]]]:
        """Return the four services' monthly totals, for the stacked bars."""
        out = []
        for service in CHART_SERVICES:
            codes = [u.code for u in UNITS if u.service == service]
            out.append(
                (
                    SERVICE_LABELS[service],
                    [sum(self.count(c, m) for c in codes) for m in self.months],
                )
            )
        return out

    def units_used(self) -> list[str]:
        """Return the codes of the minimum units and any other unit with a count."""
        used = {unit for (_p, _m, unit) in self.grid}
        return [u.code for u in UNITS if u.minimum or u.code in used]

    def baseline_and_after(self, unit: str) -> tuple[float | None, float | None]:
        """Return the monthly mean of a unit before mentoring began and after."""
        if self.started is None:
            return None, None
        start = self.started.replace(day=1)
        before = [self.count(unit, m) for m in self.months if m < start]
        after = [self.count(unit, m) for m in self.months if m >= start]
        return (
            sum(before) / len(before) if before else None,
            sum(after) / len(after) if after else None,
        )

    def demand_chart(self) -> charts.Chart:
        """Return the s.58 stacked bars across the four services."""
        return charts.stacked_bars(
            "Demand by service each month",
            self.months,
            self.service_series(),
            marker=self.started,
        )

    def cost_chart(self) -> charts.Chart:
        """Return the monthly cost line."""
        return charts.line(
            "Cost of demand each month",
            self.months,
            [float(c) for c in self.costs],
            marker=self.started,
        )


def _require_reader(
    session: Session, user: User, team_id: int, channel: Channel
) -> None:
    rules.require(user, channel, "read_demand")
    require_team_member(user, team_id)


def person_portal(
    session: Session,
    person: Person,
    *,
    user: User,
    months: list[dt.date] | None = None,
    channel: Channel = "web",
) -> PersonPortal:
    """Gather a person's demand, costs and harms (mentors and team leads only)."""
    _require_reader(session, user, person.team_id, channel)
    return _gather(session, person, months or window())


def _gather(session: Session, person: Person, months: list[dt.date]) -> PersonPortal:
    grid = demand_grid(session, [person.id], months[0], months[-1])
    costs = monthly_cost(grid, cost_book(session, person.team_id), [person.id], months)
    return PersonPortal(
        person=person,
        months=months,
        started=mentoring_starts(session, [person.id]).get(person.id),
        grid=grid,
        costs=costs,
        harms=harms_by_month(session, [person.id], months),
    )


def _report_content(session: Session, portal: PersonPortal) -> dict[str, Any]:
    person = portal.person
    months = portal.months
    versions = [
        {
            "version": v.version,
            "status": v.status,
            "published": v.published_at.date().isoformat() if v.published_at else None,
            "approved_on": v.approved_on.isoformat() if v.approved_on else None,
            "review_by": v.review_by.isoformat() if v.review_by else None,
            "ended": v.ended_at.date().isoformat() if v.ended_at else None,
        }
        for v in session.scalars(
            select(PlanVersion)
            .where(PlanVersion.person_id == person.id, PlanVersion.status != "draft")
            .order_by(PlanVersion.version)
        )
    ]
    opened = [
        {"by": str(role), "times": int(times)}
        for role, times in session.execute(
            select(User.role, func.count())
            .select_from(AccessGrant)
            .join(User, User.id == AccessGrant.user_id)
            .where(AccessGrant.person_id == person.id)
            .group_by(User.role)
            .order_by(User.role)
        )
    ]
    concerns = [
        {
            "kind": REQUEST_KINDS.get(r.kind, r.kind),
            "raised": r.created_at.date().isoformat(),
            "status": REQUEST_STATUSES.get(r.status, r.status),
            "answer": r.response or "",
        }
        for r in session.scalars(
            select(PersonRequest)
            .where(PersonRequest.person_id == person.id)
            .order_by(PersonRequest.created_at)
        )
    ]
    units = []
    for code in portal.units_used():
        before, after = portal.baseline_and_after(code)
        units.append(
            {
                "code": code,
                "label": UNITS_BY_CODE[code].label,
                "counts": portal.unit_series(code),
                "baseline_mean": None if before is None else round(before, 1),
                "since_mean": None if after is None else round(after, 1),
            }
        )
    return {
        "format": "responder-portal-report/1",
        "person": {"ref": person.ref, "name": person.display_name},
        "team": person.team.name,
        "months": [m.strftime("%Y-%m") for m in months],
        "mentoring_began": portal.started.isoformat() if portal.started else None,
        "services": [
            {"name": name, "counts": values} for name, values in portal.service_series()
        ],
        "units": units,
        "costs": [str(c) for c in portal.costs],
        "yearly_costs": {
            str(year): str(total)
            for year, total in yearly(portal.costs, months).items()
        },
        "harms": [
            {"kind": label, "counts": portal.harms.counts[kind]}
            for kind, label in HARM_KINDS.items()
        ],
        "plan_history": versions,
        "opened_by": opened,
        "concerns": concerns,
    }


def build_report(
    session: Session, person: Person, *, by: User, channel: Channel = "web"
) -> SavedReport:
    """Build, save and audit a dated, immutable report of the last 24 months."""
    rules.require(by, channel, "build_reports")
    require_team_member(by, person.team_id)
    portal = _gather(session, person, window())
    report = SavedReport(
        person_id=person.id,
        built_on=today(),
        built_by_id=by.id,
        content=_report_content(session, portal),
    )
    session.add(report)
    session.flush()
    audit.record_for(
        session,
        by,
        action="report_saved",
        channel=channel,
        person_ref=person.ref,
        detail={"version": report.id},
    )
    return report


def saved_reports(session: Session, person_id: int) -> list[SavedReport]:
    """Return a person's saved reports, newest first."""
    return list(
        session.scalars(
            select(SavedReport)
            .where(SavedReport.person_id == person_id)
            .order_by(SavedReport.id.desc())
        )
    )


def read_report(
    session: Session,
    report: SavedReport,
    *,
    user: User | None = None,
    person: Person | None = None,
    channel: Channel = "web",
) -> SavedReport:
    """Let a team reader, or the person themselves, read a saved report; audit it."""
    if person is not None:
        if person.id != report.person_id:
            raise DemandError("that report is not yours")
        audit.record(
            session,
            action="report_viewed",
            channel=channel,
            person_ref=person.ref,
            detail={"version": report.id, "source": "person"},
        )
        return report
    if user is None:
        raise rules.NotAllowed("anonymous", channel, "read_demand")
    _require_reader(session, user, report.person.team_id, channel)
    audit.record_for(
        session,
        user,
        action="report_viewed",
        channel=channel,
        person_ref=report.person.ref,
        detail={"version": report.id},
    )
    return report


def comment_on_report(
    session: Session, person: Person, report: SavedReport, text: str
) -> ReportComment:
    """Add the person's comment to one of their own reports."""
    if report.person_id != person.id:
        raise DemandError("that report is not yours")
    text = (text or "").strip()
    if not text:
        raise DemandError("write your comment first")
    if len(text) > COMMENT_MAX:
        raise DemandError(f"please keep it under {COMMENT_MAX} characters")
    comment = ReportComment(report_id=report.id, text=text)
    session.add(comment)
    audit.record(
        session,
        action="report_commented",
        channel="web",
        person_ref=person.ref,
        detail={"version": report.id},
    )
    return comment


# -- a team's report ----------------------------------------------------------------


@dataclass
class TeamReport:
    """A team's monthly totals per minimum data set, costs, harms and XmR charts."""

    team: Team
    months: list[dt.date]
    people: int
    totals: dict[str, list[int]]
    costs: list[Decimal]
    harms: Harms

    def xmr_charts(self) -> list[charts.Chart]:
        """Return one XmR chart per minimum data set."""
        return [
            charts.xmr_chart(
                f"{unit.label}: team total each month",
                self.months,
                [float(v) for v in self.totals[unit.code]],
            )
            for unit in MINIMUM_UNITS
        ]

    def cost_chart(self) -> charts.Chart:
        """Return the team's monthly cost line."""
        return charts.line(
            "Team cost of demand each month",
            self.months,
            [float(c) for c in self.costs],
        )


def team_report(
    session: Session,
    team: Team,
    *,
    user: User | None,
    months: list[dt.date] | None = None,
    channel: Channel = "web",
) -> TeamReport:
    """Gather a team's totals (its mentors, clinicians, team lead; the operator)."""
    if user is None:
        # None is the operator at the server's shell, on the CLI only.
        if not (
            channel == "cli" and rules.allowed(rules.OPERATOR, channel, "read_demand")
        ):
            raise rules.NotAllowed("anonymous", channel, "read_demand")
    else:
        _require_reader(session, user, team.id, channel)
    return gather_team(session, team, months or window())


def gather_team(session: Session, team: Team, months: list[dt.date]) -> TeamReport:
    """Compute a team's report without an access check (callers check first)."""
    person_ids = list(
        session.scalars(select(Person.id).where(Person.team_id == team.id))
    )
    grid = demand_grid(session, person_ids, months[0], months[-1])
    index = {m: i for i, m in enumerate(months)}
    totals = {unit.code: [0] * len(months) for unit in UNITS}
    for (_person, month, unit), count in grid.items():
        if unit in totals:
            totals[unit][index[month]] += count
    return TeamReport(
        team=team,
        months=months,
        people=len(person_ids),
        totals=totals,
        costs=monthly_cost(grid, cost_book(session, team.id), person_ids, months),
        harms=harms_by_month(session, person_ids, months),
    )


@dataclass(frozen=True)
class NetworkRow:
    """One team's suppressed yearly totals, fit to leave the team."""

    team: str
    people: str
    units: dict[str, str]
    harms: dict[str, str]


def network_aggregates(
    session: Session,
    *,
    user: User,
    months: list[dt.date] | None = None,
    channel: Channel = "web",
) -> list[NetworkRow]:
    """Return every team's totals over the window, counts under five suppressed."""
    rules.require(user, channel, "read_network")
    months = months or window(12)
    out = []
    for team in session.scalars(select(Team).order_by(Team.name)):
        report = gather_team(session, team, months)
        out.append(
            NetworkRow(
                team=team.name,
                people=suppressed(report.people),
                units={
                    u.code: suppressed(sum(report.totals[u.code]))
                    for u in MINIMUM_UNITS
                },
                harms={k: suppressed(report.harms.total(k)) for k in HARM_KINDS},
            )
        )
    return out
