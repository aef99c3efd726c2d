"""What a responder does to reach a plan, the same on every channel.

`find_plans` (search), `view_plan` (read a plan already opened) and
`disclose_plan` (a chat sends what was opened) each check the rule in
`plans.rules`, count the search against the account's rate limit, and write one
audit row of one shape. The web, the JSON API, Telegram, SMS and WhatsApp call
these and nothing else; opening a plan on a stated basis is `plans.access.open_plan`.
Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.orm import Session

from plans import access, audit, card_keys, cards, clock, nhs_numbers, ratelimit, rules
from plans.models import Person, PlanVersion, User
from plans.ratelimit import Counter, DatabaseCounter, Limit
from plans.search import SearchResult, search, team_area
from plans.vocabulary import Channel

logger = logging.getLogger(__name__)

# Enough for a busy shift (a control room searching all night), too few to page
# through everyone: one police token once listed every live plan with 1,152
# grid queries in 34 s.
DEFAULT_SEARCH_LIMITS: tuple[Limit, ...] = (Limit(60, 60), Limit(600, 3600))

QueryKind = Literal["text", "location", "text_and_location", "place", "nhs_number"]
SearchRefusal = Literal["not_allowed", "rate_limited"]
Disclosure = Literal["link", "summary"]


@dataclass(frozen=True)
class SearchRate:
    """How searches are counted: the counter (Redis or database) and the limits."""

    counter: Counter = field(default_factory=DatabaseCounter)
    limits: tuple[Limit, ...] = DEFAULT_SEARCH_LIMITS


class SearchRefused(PermissionError):
    """A search that was not run: not allowed here, or too many too fast."""

    def __init__(self, reason: SearchRefusal, message: str, retry_after: int = 0):
        super().__init__(message)
        self.reason: SearchRefusal = reason
        self.retry_after = retry_after


class PlanNotOpen(PermissionError):
    """The user has no unexpired grant for this plan: they must state why first."""


def query_kind_of(text: str, has_location: bool, *, place_named: bool) -> QueryKind:
    """Say what a search was made of, for the audit row (never the words)."""
    if place_named:
        return "place"
    if nhs_numbers.find_in_query(text)[0] is not None:
        return "nhs_number"
    if text and has_location:
        return "text_and_location"
    return "location" if has_location else "text"


def find_plans(
    session: Session,
    actor: User,
    text: str,
    *,
    channel: Channel,
    lat: float | None = None,
    lon: float | None = None,
    limit: int = 10,
    offset: int = 0,
    area: tuple[float, float] | None = None,
    today: dt.date | None = None,
    rate: SearchRate | None = None,
    place_named: bool = False,
    now: dt.datetime | None = None,
) -> list[SearchResult]:
    """Search live plans for a responder, counted and audited (never the words).

    With no position, the responder's own area (where their team's people are
    known, unless `area` says otherwise) ranks first, and the results say so;
    every channel gets this here rather than in its own view or handler.

    Raise SearchRefused when the table does not let this account search here or
    the account is over its search rate.
    """
    try:
        rules.require(actor, channel, "search")
    except rules.NotAllowed as refused:
        raise SearchRefused("not_allowed", "only responders search plans") from refused
    now = now or clock.now()
    rate = rate or SearchRate()
    decision = ratelimit.hit(
        session, rate.counter, f"search:user:{actor.id}", rate.limits, now=now
    )
    if not decision.allowed:
        logger.warning("search rate exceeded by user %s on %s", actor.id, channel)
        raise SearchRefused(
            "rate_limited",
            "too many searches: wait a moment and try again",
            retry_after=decision.retry_after,
        )
    has_location = lat is not None and lon is not None
    if area is None and not has_location and text.strip():
        area = team_area(session, actor.team_ids)
    results = search(
        session,
        text,
        lat=lat,
        lon=lon,
        limit=limit,
        offset=offset,
        area=area,
        today=today or clock.london_date(now),
    )
    audit.record_for(
        session,
        actor,
        action="search",
        channel=channel,
        detail={
            "query_length": len(text),
            "has_location": has_location,
            "result_count": len(results),
            "query_kind": query_kind_of(text, has_location, place_named=place_named),
        },
    )
    return results


def view_plan(
    session: Session,
    user: User,
    person: Person,
    *,
    channel: Channel,
    now: dt.datetime | None = None,
) -> PlanVersion | None:
    """Return the live plan a responder has opened, audited; None when it ended.

    Raise PlanNotOpen when the user holds no unexpired grant for this person.
    """
    rules.require(user, channel, "view_plan")
    if access.active_grant(session, user, person, now=now) is None:
        raise PlanNotOpen("state why you need this plan first")
    version = person.live_version(session)
    if version is None:
        return None
    audit.record_for(
        session,
        user,
        action="plan_viewed",
        channel=channel,
        person_ref=person.ref,
        plan_version_id=version.id,
        detail={"version": version.version},
    )
    return version


def disclose_plan(
    session: Session,
    user: User,
    opened: access.OpenedPlan,
    *,
    channel: Channel,
    method: Disclosure,
) -> None:
    """Record that a chat sent what was just opened (a link or a summary)."""
    rules.require(user, channel, "open_plan")
    audit.record_for(
        session,
        user,
        action="plan_disclosed",
        channel=channel,
        person_ref=opened.grant.person.ref,
        plan_version_id=opened.version.id,
        detail={"method": method},
    )


@dataclass(frozen=True)
class CardScan:
    """What a genuine card scan led to: the plan opened, or only whose card it is."""

    result: cards.ScanResult
    opened: access.OpenedPlan | None = None
    refusal: str | None = None

    @property
    def card(self) -> cards.Card:
        """Return the scanned card (a genuine scan always has one)."""
        assert self.result.card is not None
        return self.result.card


def scan_card(
    session: Session,
    user: User | None,
    token: str,
    keys: card_keys.KeySet,
    *,
    ip_hash: str,
    now: dt.datetime | None = None,
) -> CardScan:
    """Check a scanned card; open its plan for a responder, audited either way.

    Raise card_keys.InvalidToken (after auditing it, and alerting on a burst) when
    the token is not genuine. Anyone may scan; only a responder's scan opens the
    plan (on the card_scan basis), everyone else learns only whose card it is.
    """
    rules.require(user, "card", "scan_card")
    try:
        result = cards.scan(session, token, keys, now=now)
    except card_keys.InvalidToken:
        session.rollback()
        cards.record_invalid_scan(session, ip_hash=ip_hash, now=now)
        raise
    card = result.card
    assert card is not None  # cards.scan raises for tokens with no card
    refusal = None
    if result.state == "valid" and rules.allowed(
        rules.party_of(user), "card", "open_plan"
    ):
        assert user is not None
        try:
            with session.begin_nested():
                opened = access.open_plan(
                    session,
                    user,
                    card.person,
                    basis="card_scan",
                    channel="card",
                    card_id=card.short_id,
                    now=now,
                )
        except access.AccessRefused as refused:
            refusal = str(refused)
        else:
            return CardScan(result=result, opened=opened)
    outcome = "genuine" if result.state == "valid" else result.state
    audit.record_for(
        session,
        user,
        action="card_scan",
        channel="card",
        person_ref=card.person.ref,
        detail={"card_id": card.short_id, "outcome": outcome},
    )
    return CardScan(result=result, refusal=refusal)
