"""With no position, the responder's own team area ranks first on every channel.

Two people match "overdose" equally: Amy in Plymouth sorts first by name, Zoe in
Carlisle only when the responder searching belongs to the Carlisle team. The
rule lives in `plans.lookup.find_plans`, so the web page, the JSON API and the
chats (SMS, WhatsApp, Telegram) all get it without doing anything themselves.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bots import replies
from bots.commands import ChatSettings, handle_text
from plans import accounts, chat, lookup
from plans.exchange.landing import import_documents
from plans.search import team_area
from tests.plans import factories
from tests.plans.test_search_hard import CARLISLE, document

TODAY = dt.date(2026, 11, 23)
CARLISLE_TEAM = {"code": "CARL", "name": "Carlisle Crisis Team"}
PLYMOUTH_TEAM = {"code": "PLYM", "name": "Plymouth High Intensity Team"}
LINK = ChatSettings(disclosure="link", public_base_url="https://responder.example")


def _person(ref: str, given: str, team: dict[str, str], **where: Any) -> dict[str, Any]:
    doc = document(ref, given, "Testperson", behaviours=("Takes an overdose",), **where)
    doc["team"] = dict(team)
    return factories.meeting_publish_rules(doc)


PEOPLE = [
    _person("PLYM/1", "Amy", PLYMOUTH_TEAM),
    _person(
        "CARL/1",
        "Zoe",
        CARLISLE_TEAM,
        town="Carlisle",
        street="4 Botchergate",
        home=(54.8890, -2.9310),
    ),
]


def land(session: Session) -> None:
    report = import_documents(session, PEOPLE, actor=None, source="test")
    assert not report.refused and not report.drafted, report
    session.flush()


@pytest.fixture
def landed(session: Session) -> Session:
    land(session)
    return session


def responder(session: Session, email: str, teams: tuple[str, ...]) -> Any:
    return accounts.create_user(session, email, role="police", team_codes=list(teams))


# -- the domain ----------------------------------------------------------------------


def test_the_team_area_is_where_the_teams_people_are(landed: Session) -> None:
    officer = responder(landed, "carl@example.org", ("CARL",))
    lat, lon = team_area(landed, officer.team_ids) or (0.0, 0.0)
    assert abs(lat - CARLISLE[0]) < 0.1 and abs(lon - CARLISLE[1]) < 0.1
    assert team_area(landed, []) is None
    assert team_area(landed, [999_999]) is None  # a team with no live plans


def test_find_plans_ranks_the_responders_team_area_first(landed: Session) -> None:
    officer = responder(landed, "carl@example.org", ("CARL",))
    results = lookup.find_plans(landed, officer, "overdose", channel="api", today=TODAY)
    assert [r.ref for r in results] == ["CARL/1", "PLYM/1"]
    assert results.area_first  # type: ignore[attr-defined]
    assert "in your team's area" in results[0].reasons


def test_without_a_team_nothing_is_ranked_first_by_area(landed: Session) -> None:
    officer = responder(landed, "free@example.org", ())
    results = lookup.find_plans(landed, officer, "overdose", channel="api", today=TODAY)
    assert [r.ref for r in results] == ["PLYM/1", "CARL/1"]  # by name
    assert not results.area_first  # type: ignore[attr-defined]


def test_a_position_wins_over_the_team_area(landed: Session) -> None:
    officer = responder(landed, "carl@example.org", ("CARL",))
    results = lookup.find_plans(
        landed,
        officer,
        "overdose",
        channel="api",
        lat=50.3755,
        lon=-4.1427,
        today=TODAY,
    )
    assert results[0].ref == "PLYM/1"
    assert not results.area_first  # type: ignore[attr-defined]


def test_an_area_given_by_the_caller_wins_over_the_team(landed: Session) -> None:
    officer = responder(landed, "carl@example.org", ("CARL",))
    results = lookup.find_plans(
        landed,
        officer,
        "overdose",
        channel="api",
        area=(50.3755, -4.1427),
        today=TODAY,
    )
    assert results[0].ref == "PLYM/1"


# -- every channel ------------------------------------------------------------------


def test_the_web_page_lists_the_team_area_first_and_says_so(
    client: FlaskClient, auth: Any, db: Session
) -> None:
    land(db)
    db.commit()
    auth.login(teams=("CARL",))
    page = client.get("/search?q=overdose").get_data(as_text=True)
    assert "People known in your team&#39;s area are listed first." in page or (
        "People known in your team's area are listed first." in page
    )
    assert page.index("Zoe Testperson") < page.index("Amy Testperson")


def test_the_web_page_without_a_team_area_says_nothing_of_it(
    client: FlaskClient, auth: Any, db: Session
) -> None:
    land(db)
    db.commit()
    auth.login(teams=("NOWHERE",))
    page = client.get("/search?q=overdose").get_data(as_text=True)
    assert "area are listed first" not in page
    assert page.index("Amy Testperson") < page.index("Zoe Testperson")


@pytest.mark.parametrize(("teams", "first"), [(("CARL",), "CARL/1"), ((), "PLYM/1")])
def test_the_api_ranks_the_team_area_first_and_says_so(
    client: FlaskClient, db: Session, teams: tuple[str, ...], first: str
) -> None:
    land(db)
    officer = responder(db, "api@example.org", teams)
    _row, token = accounts.create_token(db, officer)
    db.commit()
    body = client.get(
        "/api/v1/search?q=overdose", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert body["results"][0]["ref"] == first
    assert body["area_first"] is (first == "CARL/1")


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "telegram"])
def test_the_chats_list_the_team_area_first_and_say_so(
    landed: Session, channel: str
) -> None:
    officer = responder(landed, "chat@example.org", ("CARL",))
    if channel == "telegram":
        address = "4242"
        token = chat.create_link_token(landed, user=officer)
        assert chat.redeem_link_token(landed, token, address) is not None
    else:
        address = "+447700900001"
        pending = chat.start_number_link(landed, channel, "07700900001", user=officer)
        chat.confirm_number_link(landed, pending.code, user=officer)
    reply = handle_text(
        landed, channel=channel, address=address, text="find overdose", settings=LINK
    )
    assert reply is not None
    lines = reply.text.splitlines()
    assert lines[1].startswith("1. Zoe Testperson")
    assert lines[2].startswith("2. Amy Testperson")
    assert replies.AREA_FIRST in lines
