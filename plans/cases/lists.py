"""Agency monthly lists: the CSV template, every bad row with its line, all or nothing.

`read_list` is pure: it checks the whole file and returns either the rows or
every problem, each with its line. `upload_list` stores a list only when there
is no problem at all, so nothing half-lands, then proposes matches.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans.cases import guard
from plans.cases.intensity import CONTACT_TYPES
from plans.cases.models import AGENCIES, AGENCY_LABELS, AgencyList, ListEntry
from plans.models import Team, User
from plans.vocabulary import Channel

REQUIRED_COLUMNS: tuple[str, ...] = ("given_name", "family_name", "date_of_birth")
OPTIONAL_COLUMNS: tuple[str, ...] = ("nhs_number", *CONTACT_TYPES)
TEMPLATE_HEADER = ",".join((*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS))
MAX_ROWS = 20000
MAX_COUNT = 1000
PROGRESS_EVERY = 500
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class ListRefused(ValueError):
    """The list was not stored; `problems` say why, each with its line."""

    def __init__(self, problems: list[ListProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was stored")
        self.problems = problems


@dataclass(frozen=True)
class ListProblem:
    """One problem with an uploaded list, at a line of the file (1 is the header)."""

    line: int
    message: str

    def __str__(self) -> str:
        # Line 0: about the upload as a whole (the agency, the month), no line.
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class ListRow:
    """One checked row of an agency list."""

    line: int
    given_name: str
    family_name: str
    date_of_birth: dt.date
    nhs_number: str | None
    contacts: dict[str, int] = field(default_factory=dict)


def month_of(text: str) -> dt.date:
    """Return the first day of a month written YYYY-MM; raise ValueError if not."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not match:
        raise ValueError("write the month as YYYY-MM, for example 2026-11")
    return dt.date(int(match[1]), int(match[2]), 1)


def nhs_number_valid(digits: str) -> bool:
    """Say whether ten digits pass the NHS number's modulus 11 check."""
    if not re.fullmatch(r"\d{10}", digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def parse_date(text: str) -> dt.date:
    """Read a date written YYYY-MM-DD or DD/MM/YYYY; raise ValueError if neither."""
    text = text.strip()
    uk = _UK_DATE.match(text)
    if uk:
        return dt.date(int(uk[3]), int(uk[2]), int(uk[1]))
    return dt.date.fromisoformat(text)


def _name(value: str, column: str, problems: list[str]) -> str:
    value = " ".join(value.split())
    if not value:
        problems.append(f"{column} is empty")
    elif len(value) > 100:
        problems.append(f"{column} is longer than 100 characters")
    elif any(ch.isdigit() for ch in value):
        problems.append(f"{column} has digits in it")
    return value


def _row(
    line: int, raw: dict[str, str], month: dt.date
) -> tuple[ListRow | None, list[str]]:
    problems: list[str] = []
    given = _name(raw.get("given_name") or "", "given_name", problems)
    family = _name(raw.get("family_name") or "", "family_name", problems)
    born: dt.date | None = None
    dob_text = (raw.get("date_of_birth") or "").strip()
    if not dob_text:
        problems.append("date_of_birth is empty")
    else:
        try:
            born = parse_date(dob_text)
        except ValueError:
            problems.append(
                f"date_of_birth {dob_text!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)"
            )
        else:
            if born >= month or born.year < 1900:
                problems.append(f"date_of_birth {dob_text} is not a possible birth")
    nhs = re.sub(r"[\s-]", "", raw.get("nhs_number") or "") or None
    if nhs is not None and not nhs_number_valid(nhs):
        problems.append("nhs_number is not a valid NHS number (ten digits, checked)")
    contacts: dict[str, int] = {}
    for kind in CONTACT_TYPES:
        text = (raw.get(kind) or "").strip()
        if not text:
            contacts[kind] = 0
        elif not text.isdigit() or int(text) > MAX_COUNT:
            problems.append(f"{kind} {text!r} is not a count from 0 to {MAX_COUNT}")
        else:
            contacts[kind] = int(text)
    if not problems and not any(contacts.values()):
        problems.append("no contacts this month: leave the person off the list")
    if problems or born is None:
        return None, problems
    return ListRow(line, given, family, born, nhs, contacts), []


Checked = tuple[list[ListRow], list[ListProblem]]


def read_list(
    text: str,
    *,
    month: dt.date,
    progress: Callable[[int], None] | None = None,
) -> Checked:
    """Check a whole CSV list; return its rows and every problem with its line."""
    reading = reading_list(text, month=month)
    while True:
        try:
            count = next(reading)
        except StopIteration as done:
            checked: Checked = done.value
            return checked
        if progress is not None:
            progress(count)


def reading_list(text: str, *, month: dt.date) -> Generator[int, None, Checked]:
    """Check a CSV list, yielding the rows read so far every PROGRESS_EVERY rows.

    The generator's return value is (rows, problems), as `read_list` returns it.
    """
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        return [], [ListProblem(1, "the file is empty; start with the header line")]
    except csv.Error as error:
        return [], [ListProblem(1, f"not CSV: {error}")]
    problems: list[ListProblem] = []
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    unknown = [c for c in header if c not in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)]
    if missing:
        problems.append(ListProblem(1, f"missing column(s): {', '.join(missing)}"))
    if unknown:
        problems.append(ListProblem(1, f"unknown column(s): {', '.join(unknown)}"))
    if not any(kind in header for kind in CONTACT_TYPES):
        problems.append(
            ListProblem(1, f"no contact column: add one of {', '.join(CONTACT_TYPES)}")
        )
    if len(set(header)) != len(header):
        problems.append(ListProblem(1, "a column is named twice"))
    if problems:
        return [], problems
    rows: list[ListRow] = []
    seen: dict[tuple[str, str, dt.date], int] = {}
    count = 0
    try:
        for values in reader:
            line = reader.line_num
            if not any(value.strip() for value in values):
                continue
            count += 1
            if count > MAX_ROWS:
                problems.append(ListProblem(line, f"more than {MAX_ROWS} rows"))
                break
            if count % PROGRESS_EVERY == 0:
                yield count
            if len(values) != len(header):
                problems.append(
                    ListProblem(line, f"{len(values)} values for {len(header)} columns")
                )
                continue
            row, messages = _row(line, dict(zip(header, values, strict=True)), month)
            problems.extend(ListProblem(line, message) for message in messages)
            if row is None:
                continue
            key = (
                row.given_name.casefold(),
                row.family_name.casefold(),
                row.date_of_birth,
            )
            if key in seen:
                problems.append(
                    ListProblem(line, f"the same person as line {seen[key]}")
                )
                continue
            seen[key] = line
            rows.append(row)
    except csv.Error as error:
        problems.append(ListProblem(reader.line_num, f"not CSV: {error}"))
    yield count
    if not problems and not rows:
        problems.append(ListProblem(2, "the list has no rows"))
    return rows, problems


def upload_list(
    session: Session,
    text: str,
    *,
    team: Team,
    agency: str,
    month: dt.date,
    by: User | str,
    channel: Channel,
    progress: Callable[[int], None] | None = None,
    checked: Checked | None = None,
) -> AgencyList:
    """Store one agency's monthly list whole, or raise ListRefused with every problem.

    `by` is the signed-in user, or the operator's name on the CLI. `checked` is
    the result of `reading_list` when the caller showed its progress. Matches
    with the group's other rows are proposed at once (never merged).
    """
    guard.require_case_work(session, by, channel, team.id, "manage_cases")
    problems: list[ListProblem] = []
    if agency not in AGENCIES:
        problems.append(ListProblem(0, f"agency must be one of {', '.join(AGENCIES)}"))
    elif session.scalar(
        select(AgencyList.id).where(
            AgencyList.team_id == team.id,
            AgencyList.agency == agency,
            AgencyList.month == month,
        )
    ):
        problems.append(
            ListProblem(
                0,
                f"{AGENCY_LABELS[agency]} already uploaded the list for {month:%B %Y}",
            )
        )
    rows, row_problems = checked or read_list(text, month=month, progress=progress)
    problems.extend(row_problems)
    if problems:
        raise ListRefused(problems)
    agency_list = AgencyList(
        team_id=team.id,
        agency=agency,
        month=month,
        row_count=len(rows),
        uploaded_by_id=by.id if isinstance(by, User) else None,
    )
    session.add(agency_list)
    session.flush()
    session.add_all(
        ListEntry(
            list_id=agency_list.id,
            line=row.line,
            given_name=row.given_name,
            family_name=row.family_name,
            date_of_birth=row.date_of_birth,
            nhs_number=row.nhs_number,
            contacts=row.contacts,
        )
        for row in rows
    )
    session.flush()
    from plans.cases import linking

    proposed = linking.propose_for_list(session, agency_list)
    guard.record(
        session,
        by,
        action="case_list_uploaded",
        channel=channel,
        detail={
            "agency": agency,
            "month": month.isoformat()[:7],
            "count": len(rows),
            "added": proposed,
            "team": team.code,
        },
    )
    return agency_list
