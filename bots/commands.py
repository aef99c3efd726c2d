"""What a chat can ask, the same on Telegram, SMS and WhatsApp.

`handle_text` takes one inbound message and returns the answer; the adapters in
bots/telegram.py and bots/twilio.py only transport it. Nothing here commits: the
adapter owns the transaction. Unknown chats get one generic line and nothing else.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import cast
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from bots import replies
from plans import chat, clock, lookup, people, rules
from plans.access import AccessRefused, open_plan
from plans.chat import ChatLink
from plans.db import utcnow
from plans.document import plan_of
from plans.lookup import SearchRate
from plans.models import Person, User
from plans.vocabulary import CHAT_CHANNELS, Channel

logger = logging.getLogger(__name__)

MAX_RESULTS = 5
MAX_QUERY_LENGTH = 200
MAX_BODY_LENGTH = 1600  # Twilio's own ceiling for one inbound message
DISCLOSURES = ("link", "summary")
# Direction marks and isolates carried by right-to-left text; they change how
# text looks, never what a command means.
_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"),
    None,
)


@dataclass(frozen=True)
class ChatSettings:
    """Per-deployment chat settings (RESPONDER_CHAT_DISCLOSURE and friends)."""

    disclosure: str = "link"
    public_base_url: str = ""
    plan_path: str = "/plans/{ref}"
    bot_username: str = ""
    # How searches are counted (None: in the database, with the default limits).
    search_rate: SearchRate | None = None

    def plan_url(self, ref: str) -> str:
        """Return the PWA address that opens this plan after sign-in."""
        path = self.plan_path.format(ref=quote(ref, safe="/"))
        return self.public_base_url.rstrip("/") + path


@dataclass(frozen=True)
class Button:
    """A choice a Telegram user can tap instead of typing."""

    label: str
    data: str


@dataclass(frozen=True)
class Reply:
    """An answer: its words and, on Telegram, buttons."""

    text: str
    buttons: tuple[Button, ...] = field(default=())
    # Offer Telegram's "share my location" button (responders' help).
    ask_location: bool = False


def channel_of(link: ChatLink) -> Channel:
    """Return a link's channel as the typed vocabulary names it."""
    if link.channel not in CHAT_CHANNELS:
        raise ValueError(f"not a chat channel: {link.channel!r}")
    return cast(Channel, link.channel)


def clean_text(text: str) -> str:
    """Return inbound text ready to parse: NFC, no direction marks, one line."""
    text = unicodedata.normalize("NFC", text).translate(_BIDI_CONTROLS)
    return " ".join(text.split())


def handle_text(
    session: Session,
    *,
    channel: str,
    address: str,
    text: str,
    settings: ChatSettings,
    now: dt.datetime | None = None,
) -> Reply | None:
    """Answer one inbound message; None means send nothing at all."""
    now = now or utcnow()
    if not chat.allow_message(session, channel, address, now=now):
        return None
    if len(text) > MAX_BODY_LENGTH:
        return Reply(replies.TOO_LONG)
    words = clean_text(text)
    command, _, rest = words.partition(" ")
    command = command.lower().lstrip("/")
    if "@" in command:  # /find@ResponderBot in Telegram
        command = command.split("@", 1)[0]
    if command == "start" and rest and channel == "telegram":
        return _redeem(session, address, rest.strip(), now=now)
    link = chat.active_link(session, channel, address)
    if link is None:
        return Reply(replies.NOT_LINKED)
    if command in ("unlink", "unsubscribe"):
        chat.unlink(session, link, now=now)
        return Reply(replies.UNLINKED)
    if link.person is not None:
        return _person_command(
            session, link, command, rest, channel=channel, settings=settings
        )
    user = link.user
    assert user is not None
    if command in ("help", "start", "hi", "hello", "?"):
        return Reply(_help(user, channel), ask_location=user.is_responder)
    action = STAFF_COMMANDS.get(command)
    if action is None or not rules.allowed(
        rules.party_of(user), channel_of(link), action
    ):
        return Reply(replies.NOT_FOR_YOU)
    if action == "search":
        return find(session, link, rest, settings=settings, now=now)
    return open_result(session, link, rest, settings=settings, now=now)


# What each chat command of a signed-in account does, in the terms of the one
# table (plans.rules); tests/security/test_rules.py fails for a command missing here.
STAFF_COMMANDS: dict[str, rules.Action] = {
    "find": "search",
    "search": "search",
    "open": "open_plan",
}
ACCOUNT_COMMANDS: dict[str, rules.Action] = dict.fromkeys(
    ("help", "start", "hi", "hello", "?", "unlink", "unsubscribe"), "use_own_account"
)
PERSON_COMMANDS: dict[str, rules.Action] = dict.fromkeys(
    (
        "plan",
        "summary",
        "mentor",
        "mentors",
        "contacts",
        "view",
        "link",
        "open",
        "opened",
        "unlink",
        "unsubscribe",
    ),
    "own_plan",
)


def _help(user: User, channel: str) -> str:
    if not user.is_responder:
        return replies.HELP_STAFF
    if channel == "telegram":
        return replies.HELP_RESPONDER_TELEGRAM
    return replies.HELP_RESPONDER


def _redeem(session: Session, chat_id: str, token: str, *, now: dt.datetime) -> Reply:
    link = chat.redeem_link_token(session, token, chat_id, now=now)
    if link is None:
        return Reply(replies.LINK_FAILED)
    if link.person is not None:
        return Reply(replies.LINKED_PERSON)
    user = link.user
    assert user is not None
    return Reply(
        replies.LINKED_STAFF.format(name=user.display_name, role=user.role_label),
        ask_location=user.is_responder,
    )


# -- responders ---------------------------------------------------------------------

_NEAR = re.compile(r"\s+near\s+", re.IGNORECASE)


def find(
    session: Session,
    link: ChatLink,
    query: str,
    *,
    settings: ChatSettings,
    lat: float | None = None,
    lon: float | None = None,
    now: dt.datetime | None = None,
) -> Reply:
    """Search live plans and list up to five matches in minimal identity."""
    now = now or utcnow()
    query = query[:MAX_QUERY_LENGTH]
    near: str | None = None
    parts = _NEAR.split(f" {query}", maxsplit=1) if lat is None else [query]
    if len(parts) == 2:
        query, near = parts[0].strip(), parts[1].strip()
        point = chat.resolve_place(session, near) if near else None
        if point is None:
            return Reply(replies.UNKNOWN_PLACE.format(place=near[:60]))
        lat, lon = point
    query = query.strip()
    if not query and lat is None:
        return Reply(replies.FIND_WHAT)
    user = link.user
    if user is None:
        return Reply(replies.NOT_FOR_YOU)
    try:
        results = lookup.find_plans(
            session,
            user,
            query,
            channel=channel_of(link),
            lat=lat,
            lon=lon,
            limit=MAX_RESULTS,
            today=clock.london_date(now),
            rate=settings.search_rate,
            place_named=near is not None,
            now=now,
        )
    except lookup.SearchRefused as refused:
        if refused.reason == "rate_limited":
            return Reply(replies.TOO_MANY_SEARCHES)
        return Reply(replies.NOT_FOR_YOU)
    chat.remember_results(session, link, [r.ref for r in results], now=now)
    if near is None and lat is not None:
        near = "you"
    buttons = tuple(
        Button(f"{number}. Open: attending incident", f"open:{number}:attending")
        for number in range(1, len(results) + 1)
    )
    return Reply(replies.results_text(results, near=near), buttons)


def open_result(
    session: Session,
    link: ChatLink,
    rest: str,
    *,
    settings: ChatSettings,
    now: dt.datetime | None = None,
) -> Reply:
    """Open a listed plan on a stated reason, audited with the chat's channel."""
    now = now or utcnow()
    words = rest.split()
    # ASCII digits only: "²".isdigit() is true, and int("²") raised a 500.
    if not words or not (words[0].isascii() and words[0].isdigit()):
        return Reply(replies.WHICH_RESULT)
    number = int(words[0][:3])
    ref = chat.remembered_ref(link, number, now=now)
    if ref is None:
        return Reply(replies.RESULTS_GONE)
    basis = replies.REASON_WORDS.get(words[1].lower()) if len(words) > 1 else None
    if basis is None:
        return Reply(replies.SAY_WHY.format(number=number))
    incident = " ".join(words[2:]) or None
    person = session.scalar(select(Person).where(Person.ref == ref))
    user = link.user
    if person is None or user is None:
        return Reply(replies.RESULTS_GONE)
    try:
        opened = open_plan(
            session,
            user,
            person,
            basis=basis,
            channel=channel_of(link),
            incident=incident,
            now=now,
        )
    except AccessRefused as refused:
        return Reply(f"Not opened: {refused}.")
    disclosure = settings.disclosure if settings.disclosure in DISCLOSURES else "link"
    lookup.disclose_plan(
        session,
        user,
        opened,
        channel=channel_of(link),
        method="summary" if disclosure == "summary" else "link",
    )
    url = settings.plan_url(person.ref)
    if disclosure == "link":
        return Reply(replies.plan_opened_text(name=person.display_name, link=url))
    plan = plan_of(opened.version.document)
    advice = plan.advice_for.get(user.role)
    return Reply(
        replies.plan_opened_text(
            name=person.display_name,
            link=url,
            summary=plan.summary,
            advice=str(advice) if advice else None,
            sms=link.channel in ("sms", "whatsapp"),
        )
    )


# -- the person ---------------------------------------------------------------------


def _person_command(
    session: Session,
    link: ChatLink,
    command: str,
    rest: str,
    *,
    channel: str,
    settings: ChatSettings,
) -> Reply:
    person = link.person
    assert person is not None
    if command in ("plan", "summary", "mentor", "mentors", "contacts"):
        return own_plan(session, person, channel=channel)
    if command in ("view", "link", "open"):
        token = people.create_link(session, person, via=channel)
        url = settings.public_base_url.rstrip("/") + f"/me/link/{token}"
        return Reply(replies.OWN_VIEW_LINK.format(url=url))
    if command == "opened":
        wanted = rest.strip().lower()
        if wanted not in ("on", "off"):
            return Reply(replies.HELP_PERSON)
        chat.set_notify_opened(session, link, wanted == "on")
        return Reply(replies.OPENED_ON if wanted == "on" else replies.OPENED_OFF)
    return Reply(replies.HELP_PERSON)


def own_plan(session: Session, person: Person, *, channel: str) -> Reply:
    """Send the person their own summary and how to reach their mentors (audited)."""
    view = people.own_view(session, person)
    if view.version is None:
        return Reply(replies.NO_PLAN.format(team=view.team_phone or view.team_name))
    people.record_view(session, person, channel=channel)
    return Reply(
        replies.own_plan_text(
            summary=view.version.summary,
            mentors=[(m.name, m.role, m.phone) for m in view.mentors],
            team=view.team_name,
            team_phone=view.team_phone,
            sms=channel in ("sms", "whatsapp"),
        )
    )
