"""Chat links: which Telegram chat or phone number belongs to which account.

Nobody gets anything from a bot until their chat is tied to an account (a staff
user) or to a person (their own plan). Telegram chats are tied with a one-time
deep-link token; SMS and WhatsApp numbers with a code sent to the number. Tokens
and codes are stored only as digests. Inbound message ids are remembered so a
replayed webhook is answered once, and a small per-chat counter limits how fast
one chat or number can drive the bot.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    delete,
    insert,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from plans import audit
from plans.db import Base, chunks, utcnow
from plans.document import places as plan_places
from plans.hashing import sha256_hex
from plans.models import Person, PlanVersion, User
from plans.search.geo import haversine_m
from plans.vocabulary import as_channel

CHANNELS: tuple[str, ...] = ("telegram", "sms", "whatsapp")
PHONE_CHANNELS: tuple[str, ...] = ("sms", "whatsapp")

LINK_TOKEN_LIFETIME = dt.timedelta(minutes=10)
CODE_LIFETIME = dt.timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODE_DIGITS = 6
CODES_PER_HOUR = 5  # codes sent to one account, so the bot cannot be used to spam
RESULTS_LIFETIME = dt.timedelta(minutes=30)
RATE_WINDOW = dt.timedelta(minutes=1)
RATE_LIMIT = 20  # messages per chat or number per window
PROCESSED_KEEP = dt.timedelta(days=7)

_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")


class ChatError(ValueError):
    """A linking step that cannot be carried out, in words."""


class ChatLink(Base):
    """A Telegram chat or a phone number bound to a user or to a person."""

    __tablename__ = "chat_links"
    __table_args__ = (
        # One live binding per chat or number; unlinked rows stay as history.
        Index(
            "uq_chat_links_active_address",
            "channel",
            "address",
            unique=True,
            sqlite_where=text("unlinked_at IS NULL"),
            postgresql_where=text("unlinked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    # A Telegram chat id, or an E.164 number for SMS and WhatsApp.
    address: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    linked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    unlinked_at: Mapped[dt.datetime | None]
    # The person's choice: a message each time their plan is opened.
    notify_opened: Mapped[bool] = mapped_column(default=False)
    # The refs of the last search results, so "open 2" means what the chat saw.
    last_refs: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_results_at: Mapped[dt.datetime | None]

    user: Mapped[User | None] = relationship()
    person: Mapped[Person | None] = relationship()

    @property
    def active(self) -> bool:
        """Say whether the link still binds the chat."""
        return self.unlinked_at is None


class LinkToken(Base):
    """A one-time Telegram deep-link token; only its SHA-256 is stored."""

    __tablename__ = "chat_link_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class VerificationCode(Base):
    """A code sent to a number to prove its owner asked for the link."""

    __tablename__ = "chat_verification_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    salt: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    confirmed_at: Mapped[dt.datetime | None]


class ProcessedMessage(Base):
    """An inbound update or message already handled, so replays are ignored."""

    __tablename__ = "chat_processed_messages"
    __table_args__ = (
        UniqueConstraint(
            "channel", "external_id", name="uq_chat_processed_messages_channel_id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class ChatRate(Base):
    """How many messages one chat or number sent in the current window."""

    __tablename__ = "chat_rates"

    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[dt.datetime]
    count: Mapped[int] = mapped_column(Integer, default=0)


# -- addresses --------------------------------------------------------------------


def normalise_number(raw: str) -> str:
    """Return a phone number in E.164 form; UK national numbers are accepted."""
    number = raw.strip()
    if number.lower().startswith("whatsapp:"):
        number = number[len("whatsapp:") :]
    number = re.sub(r"[\s().-]", "", number)
    if number.startswith("00"):
        number = "+" + number[2:]
    elif number.startswith("0"):
        number = "+44" + number[1:]
    if number.startswith("+440"):
        number = "+44" + number[4:]
    if not _E164.match(number):
        raise ChatError("enter a mobile number such as 07700 900123 or +447700900123")
    return number


def mask_number(number: str) -> str:
    """Return a number with all but its last three digits hidden."""
    return "•" * max(len(number) - 3, 0) + number[-3:]


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise ChatError(f"unknown chat channel {channel!r}")


def _owner(user: User | None, person: Person | None) -> tuple[int | None, int | None]:
    if (user is None) == (person is None):
        raise ChatError("a chat is linked to exactly one user or one person")
    if user is not None and not user.active:
        raise ChatError("this account is disabled")
    return (user.id if user else None, person.id if person else None)


def _audit_link(
    session: Session,
    link: ChatLink,
    *,
    action: Literal["chat_linked", "chat_unlinked"],
) -> None:
    channel = as_channel(link.channel)
    if link.user_id is not None:
        user = session.get(User, link.user_id)
        audit.record_for(session, user, action=action, channel=channel, detail={})
        return
    person = session.get(Person, link.person_id)
    audit.record(
        session,
        action=action,
        channel=channel,
        actor="person",
        person_ref=person.ref if person else None,
    )


# -- lookups ------------------------------------------------------------------------


def active_link(session: Session, channel: str, address: str) -> ChatLink | None:
    """Return the live link of this chat or number, if any."""
    link = session.scalar(
        select(ChatLink).where(
            ChatLink.channel == channel,
            ChatLink.address == address,
            ChatLink.unlinked_at.is_(None),
        )
    )
    if link is None:
        return None
    if link.user is not None and not link.user.active:
        return None  # a disabled account's chats fall silent at once
    return link


def links_for(
    session: Session, *, user: User | None = None, person: Person | None = None
) -> list[ChatLink]:
    """Return the live links of a user or of a person."""
    query = select(ChatLink).where(ChatLink.unlinked_at.is_(None))
    if user is not None:
        query = query.where(ChatLink.user_id == user.id)
    elif person is not None:
        query = query.where(ChatLink.person_id == person.id)
    else:
        raise ChatError("say whose links")
    return list(session.scalars(query.order_by(ChatLink.linked_at)))


def _bind(
    session: Session,
    *,
    channel: str,
    address: str,
    user_id: int | None,
    person_id: int | None,
    now: dt.datetime,
) -> ChatLink:
    # A chat or number belongs to one owner at a time: a new binding replaces
    # whatever the chat was bound to before.
    for old in session.scalars(
        select(ChatLink).where(
            ChatLink.channel == channel,
            ChatLink.address == address,
            ChatLink.unlinked_at.is_(None),
        )
    ):
        old.unlinked_at = now
    session.flush()
    link = ChatLink(
        channel=channel,
        address=address,
        user_id=user_id,
        person_id=person_id,
        linked_at=now,
        last_refs=[],
    )
    session.add(link)
    session.flush()
    _audit_link(session, link, action="chat_linked")
    return link


def unlink(session: Session, link: ChatLink, *, now: dt.datetime | None = None) -> None:
    """End a chat's binding; the chat gets nothing more (audited)."""
    if link.unlinked_at is not None:
        return
    now = now or utcnow()
    link.unlinked_at = now
    link.last_refs = []
    session.flush()
    _audit_link(session, link, action="chat_unlinked")


# -- Telegram deep-link tokens -----------------------------------------------------


def create_link_token(
    session: Session,
    *,
    user: User | None = None,
    person: Person | None = None,
    now: dt.datetime | None = None,
) -> str:
    """Create a one-time Telegram link token (10 minutes); return it, shown once."""
    user_id, person_id = _owner(user, person)
    now = now or utcnow()
    # 24 random bytes: 32 URL-safe characters, inside Telegram's 64-char start
    # parameter limit and its [A-Za-z0-9_-] alphabet.
    token = secrets.token_urlsafe(24)
    session.add(
        LinkToken(
            digest=sha256_hex(token),
            user_id=user_id,
            person_id=person_id,
            created_at=now,
            expires_at=now + LINK_TOKEN_LIFETIME,
        )
    )
    session.flush()
    return token


def redeem_link_token(
    session: Session, token: str, chat_id: str, *, now: dt.datetime | None = None
) -> ChatLink | None:
    """Bind a Telegram chat to the token's owner; None if the token is no good."""
    now = now or utcnow()
    if not token or len(token) > 64:
        return None
    digest = sha256_hex(token)
    row = session.scalar(
        select(LinkToken).where(LinkToken.digest == digest).with_for_update()
    )
    if row is None or not hmac.compare_digest(row.digest, digest):
        return None
    if row.used_at is not None or row.expires_at <= now:
        return None
    row.used_at = now
    if row.user_id is not None:
        user = session.get(User, row.user_id)
        if user is None or not user.active:
            return None
    return _bind(
        session,
        channel="telegram",
        address=str(chat_id),
        user_id=row.user_id,
        person_id=row.person_id,
        now=now,
    )


# -- SMS and WhatsApp verification codes -------------------------------------------


@dataclass(frozen=True)
class PendingCode:
    """A code to send: the row, the number and the code itself (never stored)."""

    row: VerificationCode
    code: str


def start_number_link(
    session: Session,
    channel: str,
    number: str,
    *,
    user: User | None = None,
    person: Person | None = None,
    now: dt.datetime | None = None,
) -> PendingCode:
    """Issue a code for a number; the caller sends it and the owner confirms it."""
    if channel not in PHONE_CHANNELS:
        raise ChatError("numbers are linked for SMS or WhatsApp")
    user_id, person_id = _owner(user, person)
    address = normalise_number(number)
    now = now or utcnow()
    owner_clause = (
        VerificationCode.user_id == user_id
        if user_id is not None
        else VerificationCode.person_id == person_id
    )
    recent = session.scalars(
        select(VerificationCode.id).where(
            owner_clause, VerificationCode.created_at > now - dt.timedelta(hours=1)
        )
    ).all()
    if len(recent) >= CODES_PER_HOUR:
        raise ChatError("too many codes asked for: please try again in an hour")
    # Only the newest code for an owner counts.
    for old in session.scalars(
        select(VerificationCode).where(
            owner_clause,
            VerificationCode.confirmed_at.is_(None),
            VerificationCode.expires_at > now,
        )
    ):
        old.expires_at = now
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    salt = secrets.token_hex(16)
    row = VerificationCode(
        channel=channel,
        address=address,
        user_id=user_id,
        person_id=person_id,
        salt=salt,
        digest=sha256_hex(salt + code),
        created_at=now,
        expires_at=now + CODE_LIFETIME,
        attempts=0,
    )
    session.add(row)
    session.flush()
    return PendingCode(row=row, code=code)


def pending_code(
    session: Session,
    *,
    user: User | None = None,
    person: Person | None = None,
    now: dt.datetime | None = None,
) -> VerificationCode | None:
    """Return the owner's newest unconfirmed, unexpired code, if any."""
    user_id, person_id = _owner(user, person)
    now = now or utcnow()
    owner_clause = (
        VerificationCode.user_id == user_id
        if user_id is not None
        else VerificationCode.person_id == person_id
    )
    return session.scalar(
        select(VerificationCode)
        .where(
            owner_clause,
            VerificationCode.confirmed_at.is_(None),
            VerificationCode.expires_at > now,
            VerificationCode.attempts < CODE_ATTEMPTS,
        )
        .order_by(VerificationCode.created_at.desc(), VerificationCode.id.desc())
        .limit(1)
    )


def confirm_number_link(
    session: Session,
    code: str,
    *,
    user: User | None = None,
    person: Person | None = None,
    now: dt.datetime | None = None,
) -> ChatLink:
    """Check the code the owner typed and bind the number; raise ChatError if not."""
    now = now or utcnow()
    row = pending_code(session, user=user, person=person, now=now)
    if row is None:
        raise ChatError("that code has expired: ask for a new one")
    row.attempts += 1
    cleaned = "".join(code.split())
    if not hmac.compare_digest(sha256_hex(row.salt + cleaned), row.digest):
        left = CODE_ATTEMPTS - row.attempts
        session.flush()
        if left <= 0:
            raise ChatError("that code is wrong and now used up: ask for a new one")
        raise ChatError(f"that code is wrong: {left} tries left")
    row.confirmed_at = now
    return _bind(
        session,
        channel=row.channel,
        address=row.address,
        user_id=row.user_id,
        person_id=row.person_id,
        now=now,
    )


# -- replays, rate limits and remembered results -------------------------------------


def claim_message(
    session: Session, channel: str, external_id: str, *, now: dt.datetime | None = None
) -> bool:
    """Record an inbound message id; False if it was already handled."""
    _check_channel(channel)
    now = now or utcnow()
    external_id = external_id[:64]
    if session.scalar(
        select(ProcessedMessage.id).where(
            ProcessedMessage.channel == channel,
            ProcessedMessage.external_id == external_id,
        )
    ):
        return False
    try:
        # A savepoint, so losing a race to a concurrent delivery of the same id
        # leaves the caller's transaction usable.
        with session.begin_nested():
            session.add(
                ProcessedMessage(
                    channel=channel, external_id=external_id, received_at=now
                )
            )
    except IntegrityError:
        return False
    return True


def forget_processed(session: Session, *, now: dt.datetime | None = None) -> int:
    """Drop processed-message ids older than a week; return how many."""
    now = now or utcnow()
    result = session.execute(
        delete(ProcessedMessage).where(
            ProcessedMessage.received_at < now - PROCESSED_KEEP
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def allow_message(
    session: Session,
    channel: str,
    address: str,
    *,
    limit: int = RATE_LIMIT,
    window: dt.timedelta = RATE_WINDOW,
    now: dt.datetime | None = None,
) -> bool:
    """Count one message from a chat or number; False once it is over the limit."""
    now = now or utcnow()
    row = session.get(ChatRate, (channel, address), with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():
                session.add(
                    ChatRate(
                        channel=channel, address=address, window_start=now, count=1
                    )
                )
            return True
        except IntegrityError:
            row = session.get(
                ChatRate,
                (channel, address),
                with_for_update=True,
                populate_existing=True,
            )
            if row is None:
                return False
    if row.window_start <= now - window:
        row.window_start = now
        row.count = 0
    row.count += 1
    session.flush()
    return row.count <= limit


def remember_results(
    session: Session, link: ChatLink, refs: list[str], *, now: dt.datetime | None = None
) -> None:
    """Remember the refs a chat was shown, in order, for `open N`."""
    link.last_refs = list(refs)
    link.last_results_at = now or utcnow()
    session.flush()


def remembered_ref(
    link: ChatLink, number: int, *, now: dt.datetime | None = None
) -> str | None:
    """Return the ref shown as result `number` (1-based), if still fresh."""
    now = now or utcnow()
    if link.last_results_at is None or link.last_results_at <= now - RESULTS_LIFETIME:
        return None
    refs: list[Any] = list(link.last_refs or [])
    if not 1 <= number <= len(refs):
        return None
    return str(refs[number - 1])


def set_notify_opened(session: Session, link: ChatLink, wanted: bool) -> None:
    """Turn the person's 'tell me when my plan is opened' messages on or off."""
    if link.person_id is None:
        raise ChatError("only a person's own chat gets these messages")
    link.notify_opened = wanted
    session.flush()


# -- places named in plans, for "find ... near <place>" ------------------------------


class ChatPlace(Base):
    """A place a live plan names, so SMS users can say where they are in words.

    No external geocoder: "near" resolves only against places the plans themselves
    hold (crisis locations, places of safety, addresses with postcodes).
    """

    __tablename__ = "chat_places"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    # Folded name and address words, and the postcode without spaces.
    words: Mapped[str] = mapped_column(String(500), default="")
    postcode: Mapped[str | None] = mapped_column(String(10), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)


_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][0-9A-Z]?)([0-9][A-Z]{2})?$")


def _fold(value: str) -> str:
    return " ".join(re.findall(r"\w+", value.casefold()))


def postcode_key(value: str) -> str | None:
    """Return a UK postcode (or its outward part) without spaces, or None."""
    compact = re.sub(r"\s+", "", value.upper())
    return compact if _POSTCODE.match(compact) else None


def refresh_places(session: Session, person: Person) -> None:
    """Rebuild the named places of a person's live plan (none if not live)."""
    refresh_places_of(session, [person.id])


def refresh_places_of(session: Session, person_ids: Sequence[int]) -> None:
    """Rebuild the named places of many people's live plans in a few statements."""
    session.flush()
    rows: list[dict[str, Any]] = []
    for chunk in chunks(sorted(set(person_ids))):
        session.execute(delete(ChatPlace).where(ChatPlace.person_id.in_(chunk)))
        live = session.execute(
            select(PlanVersion.person_id, PlanVersion.document).where(
                PlanVersion.person_id.in_(chunk), PlanVersion.status == "live"
            )
        )
        for person_id, document in live:
            rows.extend(_place_rows(person_id, document or {}))
    if rows:
        session.execute(insert(ChatPlace), rows)


def _place_rows(person_id: int, document: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for _kind, place in plan_places(document):
        point = place.point
        if point is None:
            continue
        text_parts = [place.name or "", place.address or ""]
        postcode = place.postcode or ""
        if not postcode:
            # Addresses often end with the postcode rather than carry it apart.
            tail = (place.address or "").rsplit(",", 1)[-1]
            postcode = tail if postcode_key(tail) else ""
        rows.append(
            {
                "person_id": person_id,
                "words": _fold(" ".join(text_parts))[:500],
                "postcode": postcode_key(postcode),
                "lat": float(point[0]),
                "lon": float(point[1]),
            }
        )
    return rows


def rebuild_places(session: Session) -> int:
    """Rebuild every named place from the live plans; return how many."""
    session.execute(delete(ChatPlace))
    ids = session.scalars(
        select(PlanVersion.person_id).where(PlanVersion.status == "live")
    ).all()
    refresh_places_of(session, ids)
    return len(session.scalars(select(ChatPlace.id)).all())


def _refresh_places_on_live_change(
    session: Session, changes: Sequence[tuple[Person, str]]
) -> None:
    refresh_places_of(session, [person.id for person, _event in changes])


def resolve_place(session: Session, words: str) -> tuple[float, float] | None:
    """Return the point a place name or postcode means, from the plans' places."""
    postcode = postcode_key(words)
    rows: list[ChatPlace] = []
    if postcode:
        rows = list(
            session.scalars(select(ChatPlace).where(ChatPlace.postcode == postcode))
        )
        if not rows and len(postcode) <= 4:
            rows = list(
                session.scalars(
                    select(ChatPlace).where(ChatPlace.postcode.startswith(postcode))
                )
            )
    if not rows:
        folded = _fold(words)
        if not folded:
            return None
        candidates = session.scalars(
            select(ChatPlace).where(ChatPlace.words.contains(folded)).limit(200)
        ).all()
        # Whole words only: "Bar" must not land on "Barton".
        rows = [row for row in candidates if f" {folded} " in f" {row.words} "]
    if not rows:
        return None
    # The same name can sit in several towns ("the bus station"): take the
    # point most of the matches agree on, not an average of far-apart places.
    groups = [[other for other in rows if _near(row, other)] for row in rows]
    best = max(groups, key=len)
    return (
        sum(row.lat for row in best) / len(best),
        sum(row.lon for row in best) / len(best),
    )


def _near(a: ChatPlace, b: ChatPlace, metres: float = 2_000.0) -> bool:
    return haversine_m(a.lat, a.lon, b.lat, b.lon) <= metres
