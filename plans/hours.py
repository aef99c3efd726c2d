"""Which of a team's numbers answers now, in Europe/London time.

Pure: no session, no IO, no clock of its own (callers pass the instant, from
`plans.clock.now()`). A team records its in-hours line and hours, an out-of-hours
line (with its own hours, or "whenever the team is closed"), and the area's
24-hour crisis line. The plan page's call button and the offline page offer the
one open at this moment and say which it is; a line whose hours cannot be read
is never claimed to be open.

Hours are written the way teams write them: "Mon-Fri 09:00-17:00",
"Every day 08:00-20:00", "Weekdays 17:00-09:00, weekends all day", "24 hours".
A span that ends at or before it starts runs past midnight into the next day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from plans.clock import london_time

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY

_DAY_WORDS: dict[str, tuple[int, ...]] = {
    "every day": tuple(range(7)),
    "everyday": tuple(range(7)),
    "daily": tuple(range(7)),
    "weekdays": tuple(range(5)),
    "weekends": (5, 6),
    "weekend": (5, 6),
}
_TIME = r"(\d{1,2})[:.](\d{2})"
_CLAUSE = re.compile(
    rf"^(?P<days>[a-z ,&-]+?)\s+"
    rf"(?:(?P<all>all day|24 hours)|{_TIME}\s*[-–to ]+\s*{_TIME})$"
)


@dataclass(frozen=True)
class Span:
    """Open from `start` to `end` minutes after midnight of `weekday` (0 = Monday).

    `end` may pass 1440: the span runs into the next day.
    """

    weekday: int
    start: int
    end: int


def _weekday(word: str) -> int | None:
    word = word.strip()[:3]
    return DAYS.index(word) if word in DAYS else None


def _days(text: str) -> tuple[int, ...] | None:
    text = " ".join(text.split())
    if text in _DAY_WORDS:
        return _DAY_WORDS[text]
    days: list[int] = []
    for part in re.split(r"\s*[&,]\s*|\s+and\s+", text):
        if "-" in part:
            first, _, last = part.partition("-")
            start, end = _weekday(first), _weekday(last)
            if start is None or end is None:
                return None
            days.extend((start + offset) % 7 for offset in range((end - start) % 7 + 1))
        else:
            day = _weekday(part)
            if day is None:
                return None
            days.append(day)
    return tuple(days) or None


def parse_hours(text: str | None) -> tuple[Span, ...] | None:
    """Return the spans a team is open, or None when the hours cannot be read."""
    if not text:
        return None
    clean = " ".join(text.lower().replace("–", "-").split()).rstrip(".")
    if clean in ("24 hours", "24/7", "24 hours a day", "always"):
        return tuple(Span(day, 0, MINUTES_PER_DAY) for day in range(7))
    spans: list[Span] = []
    for clause in re.split(r"\s*[;,]\s*", clean):
        match = _CLAUSE.match(clause.strip())
        if match is None:
            return None
        days = _days(match["days"])
        if days is None:
            return None
        if match["all"]:
            start, end = 0, MINUTES_PER_DAY
        else:
            h1, m1, h2, m2 = (int(match.group(i)) for i in (3, 4, 5, 6))
            if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59:
                return None
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if end <= start:
                end += MINUTES_PER_DAY  # past midnight
        spans.extend(Span(day, start, end) for day in days)
    return tuple(spans)


def _week_minute(local: dt.datetime) -> int:
    return local.weekday() * MINUTES_PER_DAY + local.hour * 60 + local.minute


def open_span(spans: tuple[Span, ...], local: dt.datetime) -> Span | None:
    """Return the span open at this London wall-clock time, if any."""
    minute = _week_minute(local)
    for span in spans:
        start = span.weekday * MINUTES_PER_DAY + span.start
        end = span.weekday * MINUTES_PER_DAY + span.end
        for at in (minute, minute + MINUTES_PER_WEEK):  # Sunday night into Monday
            if start <= at < end:
                return span
    return None


def _clock(minutes: int) -> str:
    minutes %= MINUTES_PER_DAY
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _until(spans: tuple[Span, ...], span: Span, local: dt.datetime) -> str:
    if sum(s.end - s.start for s in spans) >= MINUTES_PER_WEEK:
        return "open 24 hours"
    days_on = (span.weekday + span.end // MINUTES_PER_DAY - local.weekday()) % 7
    if span.end % MINUTES_PER_DAY == 0:  # "until midnight" reads as 00:00 next day
        days_on = (days_on - 1) % 7
        return "open until midnight" + (
            "" if days_on == 0 else f" {_day_words(local, days_on)}"
        )
    when = "" if days_on == 0 else " " + _day_words(local, days_on)
    return f"open until {_clock(span.end)}{when}"


def _day_words(local: dt.datetime, days_on: int) -> str:
    if days_on == 1:
        return "tomorrow"
    return "on " + DAY_NAMES[(local.weekday() + days_on) % 7]


def week_spans(spans: tuple[Span, ...]) -> str:
    """Return spans compactly for a browser script: `day:start-end` joined by spaces."""
    return " ".join(f"{s.weekday}:{s.start}-{s.end}" for s in spans)


@dataclass(frozen=True)
class TeamContacts:
    """A team's numbers and when each answers."""

    team_name: str
    in_hours_phone: str | None = None
    in_hours: str | None = None
    out_of_hours_phone: str | None = None
    out_of_hours: str | None = None  # None: whenever the team is closed
    crisis_line: str | None = None  # the area's 24-hour line

    def spans(self) -> dict[str, tuple[Span, ...] | None]:
        """Return the spans of each line ("in_hours", "out_of_hours", "crisis_line")."""
        in_hours = parse_hours(self.in_hours)
        if self.out_of_hours:
            out_of_hours = parse_hours(self.out_of_hours)
        else:
            out_of_hours = _complement(in_hours) if in_hours is not None else None
        return {
            "in_hours": in_hours if self.in_hours_phone else None,
            "out_of_hours": out_of_hours if self.out_of_hours_phone else None,
            "crisis_line": (parse_hours("24 hours") if self.crisis_line else None),
        }


def _complement(spans: tuple[Span, ...]) -> tuple[Span, ...]:
    minutes = [False] * MINUTES_PER_WEEK
    for span in spans:
        for minute in range(span.start, span.end):
            minutes[(span.weekday * MINUTES_PER_DAY + minute) % MINUTES_PER_WEEK] = True
    closed: list[Span] = []
    minute = 0
    while minute < MINUTES_PER_WEEK:
        if minutes[minute]:
            minute += 1
            continue
        start = minute
        while minute < MINUTES_PER_WEEK and not minutes[minute]:
            minute += 1
        day, offset = divmod(start, MINUTES_PER_DAY)
        closed.append(Span(day, offset, offset + minute - start))
    # Closed over Sunday midnight: one span from Saturday evening into Monday.
    if len(closed) > 1 and closed[0].weekday == 0 and closed[0].start == 0:
        last = closed[-1]
        if last.weekday * MINUTES_PER_DAY + last.end == MINUTES_PER_WEEK:
            first = closed.pop(0)
            closed[-1] = Span(last.weekday, last.start, last.end + first.end)
    return tuple(closed)


LINE_LABELS: dict[str, str] = {
    "in_hours": "the team, in hours",
    "out_of_hours": "the team's out-of-hours line",
    "crisis_line": "the area's 24-hour crisis line",
}


@dataclass(frozen=True)
class NumberToCall:
    """The number that answers now, and which of the team's lines it is."""

    which: str  # "in_hours", "out_of_hours" or "crisis_line"
    phone: str
    href: str
    label: str  # "Call the team's out-of-hours line"
    note: str  # "Open now (Thu 02:10): open until 09:00"


def number_open_now(contacts: TeamContacts, at: dt.datetime) -> NumberToCall | None:
    """Return the first of in-hours, out-of-hours and crisis line open at `at`.

    `at` is an aware instant; the hours are read in Europe/London wall-clock time,
    so "09:00" means 09:00 in summer (BST) and in winter (GMT) alike. Return None
    when no line is known to be open (hours missing, unreadable, or closed).
    """
    from plans.plan_view import tel_href  # pure helper; plan_view imports us lazily

    local = london_time(at)
    phones = {
        "in_hours": contacts.in_hours_phone,
        "out_of_hours": contacts.out_of_hours_phone,
        "crisis_line": contacts.crisis_line,
    }
    for which, spans in contacts.spans().items():
        phone = phones[which]
        if not phone or not spans:
            continue
        span = open_span(spans, local)
        href = tel_href(phone)
        if span is None or href is None:
            continue
        now_text = f"{DAY_NAMES[local.weekday()]} {local:%H:%M}"
        return NumberToCall(
            which=which,
            phone=phone,
            href=href,
            label=f"Call {LINE_LABELS[which]}",
            note=f"Open now ({now_text} UK time): {_until(spans, span, local)}.",
        )
    return None


def published_lines(contacts: TeamContacts) -> list[dict[str, str]]:
    """Return the team's lines for a page script to pick the one open on the phone.

    Each line has its label, phone, hours in words and `spans` (see `week_spans`;
    empty when the hours cannot be read, so the script never claims it is open).
    """
    rows = (
        ("in_hours", contacts.in_hours_phone, contacts.in_hours),
        ("out_of_hours", contacts.out_of_hours_phone, contacts.out_of_hours),
        ("crisis_line", contacts.crisis_line, "24 hours"),
    )
    spans = contacts.spans()
    return [
        {
            "which": which,
            "label": LINE_LABELS[which],
            "phone": phone,
            "hours": hours or "when the team is closed",
            "spans": week_spans(spans[which] or ()),
        }
        for which, phone, hours in rows
        if phone
    ]
