"""Demand per person per month: desk entry, agency import, corrections, baseline.

Every write goes through `set_counts`, so the desk, the CSV import and the CLI
keep one rule for what a correction is (a changed stored count: a revision row
and an audit row) and what an unchanged re-import is (nothing at all).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from plans import audit, rules
from plans.clock import now, today
from plans.models import Person, PlanVersion, Team, User
from plans.portal.models import DemandCount, DemandRevision, MentoringStart
from plans.portal.units import UNITS_BY_CODE, unit_or_none
from plans.vocabulary import Channel

MAX_COUNT = 10_000  # a month of bed days is at most 31; this only stops typos
MAX_IMPORT_BYTES = 2_000_000
MAX_IMPORT_ROWS = 20_000
AGENCY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 &'()./-]{0,39}$")
_MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


class DemandError(ValueError):
    """Demand input that cannot be stored, in words a user can act on."""


class ConcurrentEntry(DemandError):
    """Another entry of the same cells committed first; nothing of this one was kept."""


def _flush_cells(session: Session) -> None:
    # Two imports of one file at once both see "no row" and both insert; the
    # unique (person, month, unit) key lets one win. The caller rolls back.
    try:
        session.flush()
    except IntegrityError:
        raise ConcurrentEntry(
            "someone saved figures for the same months at the same moment; "
            "nothing was stored, so please try again"
        ) from None


class NotInTeam(PermissionError):
    """The person belongs to a team the user is not in."""


@dataclass
class ImportProblem:
    """One bad line of an import file."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportRefused(DemandError):
    """The file had problems; nothing was stored."""

    def __init__(self, problems: list[ImportProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was imported")
        self.problems = problems


@dataclass
class Tally:
    """What one write did: cells added, corrected and left as they were."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    people: set[int] = field(default_factory=set)

    def __iadd__(self, other: Tally) -> Tally:
        self.added += other.added
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.people |= other.people
        return self


def parse_month(text: str) -> dt.date:
    """Read "YYYY-MM" as the first day of that month."""
    match = _MONTH_RE.match(text or "")
    if not match:
        raise DemandError(f"month {text!r} is not YYYY-MM")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise DemandError(f"month {text!r} is not a real month")
    return dt.date(year, month, 1)


def month_range(start: dt.date, end: dt.date) -> list[dt.date]:
    """Return the first days of every month from `start` to `end`, both included."""
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(dt.date(year, month, 1))
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return months


def parse_count(text: str) -> int | None:
    """Read a count cell; blank means "not reported" (None), not zero."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise DemandError(f"count {text!r} is not a whole number of 0 or more")
    value = int(text)
    if value > MAX_COUNT:
        raise DemandError(f"count {value} is more than {MAX_COUNT}")
    return value


def require_team_member(user: User, team_id: int) -> None:
    """Refuse a user outside the person's team (the view has already audited it)."""
    if team_id not in user.team_ids:
        raise NotInTeam("that person belongs to another team")


def _future(month: dt.date) -> bool:
    this_month = today()
    return (month.year, month.month) > (this_month.year, this_month.month)


def _write(
    session: Session,
    person: Person,
    month: dt.date,
    counts: Mapping[str, int],
    *,
    by: User | None,
    source: str,
) -> Tally:
    tally = Tally()
    stored = {
        row.unit: row
        for row in session.scalars(
            select(DemandCount).where(
                DemandCount.person_id == person.id,
                DemandCount.month == month,
                DemandCount.unit.in_(list(counts)),
            )
        )
    }
    stamp = now()
    by_id = by.id if by is not None else None
    for unit, count in counts.items():
        row = stored.get(unit)
        if row is None:
            session.add(
                DemandCount(
                    person_id=person.id,
                    month=month,
                    unit=unit,
                    count=count,
                    source=source,
                    entered_at=stamp,
                    entered_by_id=by_id,
                    updated_at=stamp,
                )
            )
            tally.added += 1
        elif row.count == count:
            tally.unchanged += 1
        else:
            session.add(
                DemandRevision(
                    demand_id=row.id,
                    old_count=row.count,
                    new_count=count,
                    source=source,
                    changed_at=stamp,
                    changed_by_id=by_id,
                )
            )
            row.count = count
            row.source = source
            row.updated_at = stamp
            tally.updated += 1
    if tally.added or tally.updated:
        tally.people.add(person.id)
    return tally


def set_counts(
    session: Session,
    person: Person,
    month: dt.date,
    counts: Mapping[str, int | None],
    *,
    by: User,
    channel: Channel = "web",
) -> Tally:
    """Store a person's counts for one month from the desk; audit what changed.

    A blank (None) leaves a stored count as it is: removing a figure is a
    correction to 0, which is recorded, never a silent delete.
    """
    rules.require(by, channel, "enter_demand")
    require_team_member(by, person.team_id)
    if _future(month):
        raise DemandError("that month has not happened yet")
    clean: dict[str, int] = {}
    for unit, count in counts.items():
        if unit not in UNITS_BY_CODE:
            raise DemandError(f"{unit!r} is not a unit of demand")
        if count is None:
            continue
        if not 0 <= count <= MAX_COUNT:
            raise DemandError(f"a count must be from 0 to {MAX_COUNT}")
        clean[unit] = count
    tally = _write(session, person, month, clean, by=by, source="desk")
    _flush_cells(session)
    if tally.added or tally.updated:
        audit.record_for(
            session,
            by,
            action="demand_corrected" if tally.updated else "demand_entered",
            channel=channel,
            person_ref=person.ref,
            detail={
                "added": tally.added,
                "updated": tally.updated,
                "unchanged": tally.unchanged,
                "source": "desk",
            },
        )
    return tally


@dataclass(frozen=True)
class ImportRow:
    """One good line of an import: a person's counts for one month."""

    line: int
    person: Person
    month: dt.date
    counts: dict[str, int]


def read_import(
    session: Session, team: Team, raw: bytes | str
) -> tuple[list[ImportRow], list[ImportProblem]]:
    """Check an agency's CSV without storing anything; return good rows and problems.

    The template (docs/portal.md): a header `person_ref,month,<unit code>...`,
    then one line per person per month; a blank cell is "not reported".
    """
    problems: list[ImportProblem] = []
    if isinstance(raw, bytes):
        if len(raw) > MAX_IMPORT_BYTES:
            return [], [ImportProblem(0, f"the file is over {MAX_IMPORT_BYTES} bytes")]
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return [], [
                ImportProblem(0, "the file is not UTF-8 text (save as CSV UTF-8)")
            ]
    else:
        text = raw
    reader = csv.reader(io.StringIO(text))
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except (StopIteration, csv.Error):
        return [], [ImportProblem(1, "the file is empty: the first line is the header")]
    if header[:2] != ["person_ref", "month"]:
        problems.append(ImportProblem(1, "the header must start with person_ref,month"))
        return [], problems
    units = header[2:]
    for unit in units:
        if unit_or_none(unit) is None:
            problems.append(ImportProblem(1, f"column {unit!r} is not a unit code"))
    if not units:
        problems.append(ImportProblem(1, "the header names no unit columns"))
    if len(set(units)) != len(units):
        problems.append(ImportProblem(1, "a unit column appears twice"))
    if problems:
        return [], problems

    people = {
        p.ref: p
        for p in session.scalars(select(Person).where(Person.team_id == team.id))
    }
    rows: list[ImportRow] = []
    seen: dict[tuple[str, dt.date], int] = {}
    try:
        for index, cells in enumerate(reader, start=2):
            if index > MAX_IMPORT_ROWS + 1:
                problems.append(ImportProblem(index, f"over {MAX_IMPORT_ROWS} rows"))
                break
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                problems.append(
                    ImportProblem(
                        index, f"{len(cells)} cells where the header has {len(header)}"
                    )
                )
                continue
            ref = cells[0].strip()
            person = people.get(ref)
            if person is None:
                problems.append(
                    ImportProblem(index, f"no person {ref[:64]!r} in {team.code}")
                )
                continue
            try:
                month = parse_month(cells[1])
                if _future(month):
                    raise DemandError(f"month {cells[1].strip()} has not happened yet")
            except DemandError as error:
                problems.append(ImportProblem(index, str(error)))
                continue
            key = (ref, month)
            if key in seen:
                problems.append(
                    ImportProblem(
                        index, f"repeats line {seen[key]} ({ref}, {cells[1]})"
                    )
                )
                continue
            seen[key] = index
            counts: dict[str, int] = {}
            bad = False
            for unit, cell in zip(units, cells[2:], strict=True):
                try:
                    value = parse_count(cell)
                except DemandError as error:
                    problems.append(ImportProblem(index, f"{unit}: {error}"))
                    bad = True
                    continue
                if value is not None:
                    counts[unit] = value
            if not bad:
                rows.append(ImportRow(index, person, month, counts))
    except csv.Error as error:
        problems.append(ImportProblem(reader.line_num, f"not readable as CSV: {error}"))
    return rows, problems


def import_csv(
    session: Session,
    team: Team,
    raw: bytes | str,
    *,
    agency: str,
    by: User | None,
    channel: Channel = "web",
) -> Tally:
    """Import an agency's monthly counts, all or nothing; re-importing changes nothing.

    `by` is None for the operator at the shell (CLI).
    """
    if by is None:
        if channel != "cli":
            raise rules.NotAllowed("anonymous", channel, "enter_demand")
    else:
        rules.require(by, channel, "enter_demand")
        require_team_member(by, team.id)
    agency = (agency or "").strip()
    if not AGENCY_RE.match(agency):
        raise DemandError("name the agency the figures came from (letters and digits)")
    rows, problems = read_import(session, team, raw)
    if problems:
        raise ImportRefused(problems)
    source = f"import:{agency}"
    tally = Tally()
    for row in rows:
        tally += _write(
            session, row.person, row.month, row.counts, by=by, source=source
        )
    _flush_cells(session)
    detail = {
        "added": tally.added,
        "updated": tally.updated,
        "unchanged": tally.unchanged,
        "source": source[:60],
        "team": team.code,
        "count": len(rows),
    }
    if by is None:
        audit.record(
            session,
            action="demand_imported",
            channel=channel,
            actor="operator",
            detail=detail,
        )
    else:
        audit.record_for(
            session, by, action="demand_imported", channel=channel, detail=detail
        )
    return tally


def set_mentoring_start(
    session: Session,
    person: Person,
    started_on: dt.date,
    *,
    by: User,
    channel: Channel = "web",
) -> None:
    """Record the day mentoring began; the months before it are the baseline."""
    rules.require(by, channel, "enter_demand")
    require_team_member(by, person.team_id)
    if started_on > today():
        raise DemandError("mentoring cannot start in the future")
    row = session.get(MentoringStart, person.id)
    if row is None:
        row = MentoringStart(person_id=person.id, started_on=started_on)
        session.add(row)
    row.started_on = started_on
    row.recorded_at = now()
    row.recorded_by_id = by.id
    audit.record_for(
        session,
        by,
        action="mentoring_start_set",
        channel=channel,
        person_ref=person.ref,
    )


def mentoring_start(session: Session, person_id: int) -> dt.date | None:
    """Return when mentoring began: the recorded day, else the first published plan."""
    return mentoring_starts(session, [person_id]).get(person_id)


def mentoring_starts(session: Session, person_ids: Iterable[int]) -> dict[int, dt.date]:
    """Return each person's mentoring start (recorded, else first publication)."""
    ids = list(person_ids)
    starts: dict[int, dt.date] = {}
    for person_id, published in session.execute(
        select(PlanVersion.person_id, func.min(PlanVersion.published_at))
        .where(PlanVersion.person_id.in_(ids), PlanVersion.published_at.is_not(None))
        .group_by(PlanVersion.person_id)
    ):
        if published is not None:
            starts[person_id] = published.date()
    for row in session.scalars(
        select(MentoringStart).where(MentoringStart.person_id.in_(ids))
    ):
        starts[row.person_id] = row.started_on
    return starts


Grid = dict[tuple[int, dt.date, str], int]


def demand_grid(
    session: Session, person_ids: Iterable[int], start: dt.date, end: dt.date
) -> Grid:
    """Return stored counts keyed (person id, month, unit) for the months given."""
    ids = list(person_ids)
    grid: Grid = {}
    for person_id, month, unit, count in session.execute(
        select(
            DemandCount.person_id,
            DemandCount.month,
            DemandCount.unit,
            DemandCount.count,
        ).where(
            DemandCount.person_id.in_(ids),
            DemandCount.month >= start,
            DemandCount.month <= end,
        )
    ):
        grid[(person_id, month, unit)] = count
    return grid


def revisions(
    session: Session, person_id: int
) -> list[tuple[DemandCount, DemandRevision]]:
    """Return a person's corrections, newest first, with the cell each changed."""
    return list(
        session.execute(
            select(DemandCount, DemandRevision)
            .join(DemandRevision, DemandRevision.demand_id == DemandCount.id)
            .where(DemandCount.person_id == person_id)
            .order_by(DemandRevision.id.desc())
        )
    )
