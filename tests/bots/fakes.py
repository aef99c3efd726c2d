"""Offline stand-ins: a recording Telegram request, a recording Twilio HTTP client.

Neither touches the network; the `no_network` fixture also makes any real Telegram
or Twilio HTTP call fail the test.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session
from telegram.request import BaseRequest, HTTPXRequest
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse

from plans import accounts, versions
from plans.models import Person, User
from tests.plans import factories

BOT_TOKEN = "123456:TEST-token-not-real"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Responder",
    "username": "ResponderTestBot",
}


class RecordingRequest(BaseRequest):
    """Answer Bot API calls from memory and record them (PTB's OfflineRequest)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_next = 0

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    @property
    def read_timeout(self) -> float:
        """Return the default read timeout."""
        return 1.0

    async def do_request(
        self, url: str, method: str, request_data: Any = None, **_timeouts: Any
    ) -> tuple[int, bytes]:
        """Record the call and answer as Telegram would."""
        endpoint = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        self.calls.append((endpoint, params))
        if self.fail_next:
            self.fail_next -= 1
            return 502, b'{"ok": false, "description": "Bad Gateway"}'
        result: Any = True
        if endpoint == "getMe":
            result = BOT_USER
        elif endpoint == "sendMessage":
            result = {
                "message_id": len(self.calls),
                "date": 1763892000,
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "text": params.get("text", ""),
            }
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def sent(self) -> list[dict[str, Any]]:
        """Return the parameters of every sendMessage call."""
        return [params for name, params in self.calls if name == "sendMessage"]


class RecordingHttpClient(HttpClient):
    """Answer Twilio REST calls from memory and record them."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("twilio.http_client"), False)
        self.requests: list[dict[str, Any]] = []
        self.fail_next = 0

    def request(
        self,
        method: str,
        uri: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        auth: Any = None,
        timeout: Any = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        """Record the call and answer as Twilio would."""
        # Log as the real client does, so log tests see what production would.
        self.log_request(
            {"method": method, "url": uri, "params": params, "headers": headers}
        )
        self.requests.append({"method": method, "uri": uri, "data": dict(data or {})})
        if self.fail_next:
            self.fail_next -= 1
            return TwilioResponse(503, '{"message": "unavailable", "status": 503}')
        body = {
            "sid": f"SM{len(self.requests):032d}",
            "status": "queued",
            "to": (data or {}).get("To"),
            "from": (data or {}).get("From"),
            "body": (data or {}).get("Body"),
        }
        return TwilioResponse(201, json.dumps(body))

    def bodies(self) -> list[tuple[str, str]]:
        """Return (to, body) of every message sent."""
        return [(r["data"]["To"], r["data"]["Body"]) for r in self.requests]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail the test on any real Telegram or Twilio HTTP call."""

    async def telegram_network(*_args: Any, **_kwargs: Any) -> Any:
        pytest.fail("a test tried to reach the Telegram Bot API")

    def twilio_network(*_args: Any, **_kwargs: Any) -> Any:
        pytest.fail("a test tried to reach the Twilio API")

    monkeypatch.setattr(HTTPXRequest, "do_request", telegram_network)
    monkeypatch.setattr(TwilioHttpClient, "request", twilio_network)
    yield


PLAN_EXTRAS: dict[str, Any] = {
    "summary": "Alexandra may be found near the bus station when distressed.",
    "advice_for": {
        "police": "Speak calmly, use her first name and offer a quiet space.",
        "ambulance": "Check for injuries; she accepts help from paramedics.",
    },
    "crisis_locations": [
        {
            "name": "Testtown bus station",
            "address": "Station Road, Testtown",
            "postcode": "TT1 2AB",
            "lat": 50.91,
            "lon": -1.41,
        }
    ],
    "mentors": [
        {"name": "Sam Mentor", "role": "mentor", "phone": "+44 1632 960001"},
    ],
}


def live_person(session: Session, ref: str = "TEST-TEAM/00001", **plan: Any) -> Person:
    """Store a synthetic person with a live plan."""
    person = factories.person(session, ref)
    person.date_of_birth = dt.date(1988, 3, 14)
    person.address = dict(factories.BASE_DOCUMENT["person"]["address"])
    person.description = factories.BASE_DOCUMENT["person"]["description"]
    person.sex = "female"
    merged = {**PLAN_EXTRAS, **plan}
    versions.make_live(session, factories.draft(session, person, 1, **merged))
    return person


def staff(session: Session, email: str, role: str = "police") -> User:
    """Store a synthetic user of a role in the test team."""
    factories.team(session)
    return accounts.create_user(
        session,
        email,
        role=role,
        team_codes=["TEST-TEAM"],
        display_name=email.split("@")[0],
        organisation="Test Constabulary",
    )
