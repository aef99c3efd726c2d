"""Working days in England: weekends and England and Wales bank holidays skipped.

Deadlines the person is promised (a withdrawal acted on within 5 working days)
count the days their team is at work. The regular bank holidays are computed,
with their substitute days; one-off holidays proclaimed for a single year (a
coronation, a state funeral) are not, so such a deadline falls a day early,
never late.
"""

from __future__ import annotations

import datetime as dt
from functools import cache


def easter_sunday(year: int) -> dt.date:
    """Return Easter Sunday (Gregorian; the anonymous algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _first_monday(year: int, month: int) -> dt.date:
    day = dt.date(year, month, 1)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def _last_monday(year: int, month: int) -> dt.date:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    last = following - dt.timedelta(days=1)
    return last - dt.timedelta(days=last.weekday())


@cache
def bank_holidays(year: int) -> frozenset[dt.date]:
    """Return the regular England and Wales bank holidays of a year."""
    easter = easter_sunday(year)
    days = {
        easter - dt.timedelta(days=2),  # Good Friday
        easter + dt.timedelta(days=1),  # Easter Monday
        _first_monday(year, 5),  # early May
        _last_monday(year, 5),  # spring
        _last_monday(year, 8),  # summer
    }
    new_year = dt.date(year, 1, 1)
    days.add(new_year + dt.timedelta(days={5: 2, 6: 1}.get(new_year.weekday(), 0)))
    christmas = dt.date(year, 12, 25)
    boxing = dt.date(year, 12, 26)
    if christmas.weekday() == 5:  # Saturday: Monday and Tuesday instead
        days |= {christmas + dt.timedelta(days=2), boxing + dt.timedelta(days=2)}
    elif christmas.weekday() == 6:  # Sunday: Boxing Day Monday, Tuesday instead
        days |= {boxing, christmas + dt.timedelta(days=2)}
    elif christmas.weekday() == 4:  # Friday: Boxing Day moves to Monday
        days |= {christmas, boxing + dt.timedelta(days=2)}
    else:
        days |= {christmas, boxing}
    return frozenset(days)


def is_working_day(day: dt.date) -> bool:
    """Say whether a team works on this day (not a weekend or bank holiday)."""
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def add_working_days(start: dt.date, count: int) -> dt.date:
    """Return the day `count` working days after `start`."""
    day = start
    remaining = count
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day
