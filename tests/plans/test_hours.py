"""Which of a team's lines answers now, read in Europe/London wall-clock time."""

from __future__ import annotations

import datetime as dt

import pytest

from plans import clock
from plans.hours import Span, TeamContacts, number_open_now, parse_hours

TEAM = TeamContacts(
    team_name="Test team",
    in_hours_phone="01632 960000",
    in_hours="Mon-Sat 09:00-19:00",
    out_of_hours_phone="01632 960999",
    out_of_hours=None,  # whenever the team is closed
    crisis_line="0800 000 1111",
)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("Mon-Fri 09:00-17:00", tuple(Span(d, 540, 1020) for d in range(5))),
        ("Every day 08:00-20:00", tuple(Span(d, 480, 1200) for d in range(7))),
        ("Sat-Sun 10.00-14.00", (Span(5, 600, 840), Span(6, 600, 840))),
        ("Fri-Mon 22:00-06:00", tuple(Span(d, 1320, 1800) for d in (4, 5, 6, 0))),
        ("24 hours", tuple(Span(d, 0, 1440) for d in range(7))),
        (
            "Weekdays 17:00-09:00, weekends all day",
            tuple(Span(d, 1020, 1980) for d in range(5))
            + (Span(5, 0, 1440), Span(6, 0, 1440)),
        ),
    ],
)
def test_hours_are_read_the_way_teams_write_them(
    text: str, spans: tuple[Span, ...]
) -> None:
    assert parse_hours(text) == spans


@pytest.mark.parametrize(
    "text", ["", None, "office hours", "Mon-Fri 9-5", "Funday 09:00-17:00"]
)
def test_unreadable_hours_are_never_claimed_open(text: str | None) -> None:
    assert parse_hours(text) is None
    contacts = TeamContacts(team_name="T", in_hours_phone="01632 960000", in_hours=text)
    assert number_open_now(contacts, utc(2026, 11, 26, 12, 0)) is None


@pytest.mark.parametrize(
    ("at", "which", "until"),
    [
        # Winter (GMT = UTC). Thursday 26 November 2026.
        (utc(2026, 11, 26, 2, 0), "out_of_hours", "until 09:00"),
        (utc(2026, 11, 26, 8, 59), "out_of_hours", "until 09:00"),
        (utc(2026, 11, 26, 9, 0), "in_hours", "until 19:00"),
        (utc(2026, 11, 26, 18, 59), "in_hours", "until 19:00"),
        (utc(2026, 11, 26, 19, 0), "out_of_hours", "until 09:00 tomorrow"),
        # Sunday: closed all day, out of hours from Saturday 19:00 to Monday 09:00.
        (utc(2026, 11, 29, 12, 0), "out_of_hours", "until 09:00 tomorrow"),
        (utc(2026, 11, 28, 20, 0), "out_of_hours", "until 09:00 on Mon"),
        # Summer (BST = UTC+1): 08:30 UTC is 09:30 in London, so the team is open.
        (utc(2026, 7, 16, 8, 30), "in_hours", "until 19:00"),
        (utc(2026, 7, 16, 18, 30), "out_of_hours", "until 09:00 tomorrow"),
    ],
)
def test_the_line_open_now_follows_london_time(
    at: dt.datetime, which: str, until: str
) -> None:
    with clock.frozen(at):
        call = number_open_now(TEAM, clock.now())

    assert call is not None
    assert call.which == which
    assert until in call.note
    assert call.href.startswith("tel:")


def test_the_same_utc_hour_answers_differently_across_the_clocks_going_back() -> None:
    # Sunday 25 October 2026 01:00 UTC the clocks go back: 08:30 UTC on the
    # Saturday before is 09:30 BST (open); on the Monday after it is 08:30 GMT.
    saturday = utc(2026, 10, 24, 8, 30)
    monday = utc(2026, 10, 26, 8, 30)

    assert number_open_now(TEAM, saturday).which == "in_hours"  # type: ignore[union-attr]
    assert number_open_now(TEAM, monday).which == "out_of_hours"  # type: ignore[union-attr]
    assert "Mon 08:30" in number_open_now(TEAM, monday).note  # type: ignore[union-attr]


def test_the_crisis_line_answers_when_the_team_has_no_out_of_hours_line() -> None:
    contacts = TeamContacts(
        team_name="T",
        in_hours_phone="01632 960000",
        in_hours="Mon-Fri 09:00-17:00",
        crisis_line="0800 000 1111",
    )

    call = number_open_now(contacts, utc(2026, 11, 26, 2, 0))

    assert call is not None and call.which == "crisis_line"
    assert call.label == "Call the area's 24-hour crisis line"
    assert "open 24 hours" in call.note


def test_an_out_of_hours_line_with_its_own_hours_is_offered_only_then() -> None:
    contacts = TeamContacts(
        team_name="T",
        in_hours_phone="01632 960000",
        in_hours="Mon-Fri 09:00-17:00",
        out_of_hours_phone="01632 960999",
        out_of_hours="Mon-Fri 17:00-23:00",
    )

    assert number_open_now(contacts, utc(2026, 11, 26, 20, 0)).which == "out_of_hours"  # type: ignore[union-attr]
    assert number_open_now(contacts, utc(2026, 11, 26, 23, 30)) is None
