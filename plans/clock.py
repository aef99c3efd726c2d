"""The one clock: the current instant in UTC and today's date in Europe/London.

Every channel (web, API, chat, CLI, jobs) asks this module, so "review overdue" or a
person's age cannot differ between them around midnight. Tests set the time with
`frozen` (or `travel`) instead of comparing fixed dates with the wall clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

# People's dates (birth, review, agreement) are UK calendar dates; instants are UTC.
LONDON = ZoneInfo("Europe/London")


def _system_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_source: Callable[[], dt.datetime] = _system_now


def now() -> dt.datetime:
    """Return the current instant, timezone-aware, in UTC."""
    return _source()


def today() -> dt.date:
    """Return today's calendar date in Europe/London."""
    return london_date(_source())


def london_date(instant: dt.datetime) -> dt.date:
    """Return the Europe/London calendar date of an aware instant."""
    if instant.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware UTC time")
    return instant.astimezone(LONDON).date()


def iso_date(value: object) -> dt.date | None:
    """Read a YYYY-MM-DD date or a timestamp's date part; None if empty or unreadable.

    The one reader of dates in plan documents, forms and query strings: a bad
    date is treated as no date, never a 500; callers that must refuse bad input
    check for None themselves.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if len(text) > 10 and text[10] in "T ":
        text = text[:10]  # the date part of a timestamp
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def london_time(instant: dt.datetime) -> dt.datetime:
    """Return an aware instant as Europe/London wall-clock time."""
    return instant.astimezone(LONDON)


@contextmanager
def frozen(at: dt.datetime) -> Iterator[dt.datetime]:
    """Stop the clock at `at` (aware) for the duration of the block."""
    with _using(lambda: at):
        yield at


@contextmanager
def travel(to: dt.datetime) -> Iterator[None]:
    """Move the clock to `to` (aware) and let it run on from there."""
    offset = to - _system_now()
    with _using(lambda: _system_now() + offset):
        yield


@contextmanager
def _using(source: Callable[[], dt.datetime]) -> Iterator[None]:
    global _source
    previous = _source
    _source = source
    try:
        yield
    finally:
        _source = previous
