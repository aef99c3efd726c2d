"""Unit costs per team, dated, and the cost of a person's or a team's demand."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import audit, rules
from plans.clock import now
from plans.models import Team, User
from plans.portal.demand import DemandError, Grid, require_team_member
from plans.portal.models import UnitCost
from plans.portal.units import DEFAULT_COSTS_BY_UNIT, UNITS_BY_CODE
from plans.vocabulary import Channel

MAX_POUNDS = Decimal("1000000")


def parse_pounds(text: str) -> Decimal:
    """Read a cost in pounds ("1,250.50" or "£300"), at most two decimal places."""
    cleaned = (text or "").strip().lstrip("£").replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise DemandError(f"cost {text!r} is not an amount in pounds") from None
    if not value.is_finite() or value < 0 or value > MAX_POUNDS:
        raise DemandError(f"a cost must be from £0 to £{MAX_POUNDS:,}")
    if value != value.quantize(Decimal("0.01")):
        raise DemandError("a cost has at most two decimal places (pence)")
    return value.quantize(Decimal("0.01"))


def set_unit_cost(
    session: Session,
    team: Team,
    unit: str,
    pounds: Decimal,
    *,
    valid_from: dt.date,
    source: str,
    by: User,
    channel: Channel = "web",
) -> UnitCost:
    """Record the team's cost of a unit from a date on; earlier months keep theirs."""
    rules.require(by, channel, "enter_demand")
    require_team_member(by, team.id)
    if unit not in UNITS_BY_CODE:
        raise DemandError(f"{unit!r} is not a unit of demand")
    source = (source or "").strip()
    if not source:
        raise DemandError("say where the cost comes from (a local finance figure, say)")
    valid_from = valid_from.replace(day=1)
    row = session.scalar(
        select(UnitCost).where(
            UnitCost.team_id == team.id,
            UnitCost.unit == unit,
            UnitCost.valid_from == valid_from,
        )
    )
    if row is None:
        row = UnitCost(team_id=team.id, unit=unit, valid_from=valid_from)
        session.add(row)
    row.pounds = pounds
    row.source = source[:300]
    row.set_at = now()
    row.set_by_id = by.id
    audit.record_for(
        session, by, action="unit_cost_set", channel=channel, detail={"team": team.code}
    )
    return row


@dataclass(frozen=True)
class CostBook:
    """A team's costs per unit over time, falling back to the default table."""

    dated: dict[str, tuple[list[dt.date], list[Decimal]]]

    def cost(self, unit: str, month: dt.date) -> Decimal:
        """Return the cost of one `unit` in `month`."""
        dates, amounts = self.dated.get(unit, ([], []))
        at = bisect_right(dates, month)
        if at:
            return amounts[at - 1]
        default = DEFAULT_COSTS_BY_UNIT.get(unit)
        return default.pounds if default else Decimal(0)

    def source(self, unit: str, month: dt.date) -> str:
        """Say where the cost used for `unit` in `month` comes from."""
        dates, _amounts = self.dated.get(unit, ([], []))
        if bisect_right(dates, month):
            return "team's own cost"
        default = DEFAULT_COSTS_BY_UNIT.get(unit)
        return default.source if default else "no cost"


def cost_book(session: Session, team_id: int) -> CostBook:
    """Load a team's dated unit costs."""
    dated: dict[str, tuple[list[dt.date], list[Decimal]]] = {}
    for row in session.scalars(
        select(UnitCost)
        .where(UnitCost.team_id == team_id)
        .order_by(UnitCost.unit, UnitCost.valid_from)
    ):
        dates, amounts = dated.setdefault(row.unit, ([], []))
        dates.append(row.valid_from)
        amounts.append(Decimal(row.pounds))
    return CostBook(dated)


def team_costs(session: Session, team_id: int) -> list[UnitCost]:
    """Return the team's own cost rows, newest first per unit."""
    return list(
        session.scalars(
            select(UnitCost)
            .where(UnitCost.team_id == team_id)
            .order_by(UnitCost.unit, UnitCost.valid_from.desc())
        )
    )


def monthly_cost(
    grid: Grid,
    book: CostBook,
    person_ids: Iterable[int],
    months: list[dt.date],
) -> list[Decimal]:
    """Return the cost of these people's demand in each month, in whole pounds."""
    wanted = set(person_ids)
    totals = dict.fromkeys(months, Decimal(0))
    for (person_id, month, unit), count in grid.items():
        if person_id in wanted and month in totals:
            totals[month] += book.cost(unit, month) * count
    return [totals[month].quantize(Decimal(1)) for month in months]


def yearly(values: list[Decimal], months: list[dt.date]) -> dict[int, Decimal]:
    """Sum monthly figures into calendar years."""
    years: dict[int, Decimal] = {}
    for month, value in zip(months, values, strict=True):
        years[month.year] = years.get(month.year, Decimal(0)) + value
    return years
