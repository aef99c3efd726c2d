"""Signed plan cards: a QR the person carries that leads a responder to their plan.

A card's token carries nothing personal: a format byte, a key id, a random card id,
the issue time, the expiry and an Ed25519 signature over all of them. The card
points at the person, never at a version, so a newly published version is what
the same card opens next.

Keys are passed in, never read from configuration. A deployment holds one or more
master keys (the current one first). Each team signs with a key derived from the
master by HKDF, named `<master kid>.<team id>`: the key id alone tells an offline
checker which team to call, and one team's key says nothing about another's.
Rotating adds a new master in front; cards signed under a master that is still
listed keep verifying.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import secrets
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from plans import audit, clock, people
from plans.access import PrivacyAlert
from plans.db import Base, utcnow
from plans.hours import published_lines
from plans.models import Person, PlanVersion, Team, User
from plans.vocabulary import Channel, as_channel

TOKEN_FORMAT = 1
CARD_ID_BYTES = 10  # 80 random bits: unguessable, and 16 base32 characters
SIGNATURE_BYTES = 64
DEFAULT_LIFETIME = dt.timedelta(days=730)
MASTER_KID_PATTERN = re.compile(r"^[A-Z0-9]{1,8}$")
KID_PATTERN = re.compile(r"^([A-Z0-9]{1,8})\.([0-9]{1,9})$")
_HKDF_SALT = b"responder plan card v1"
REVOCATION_FORMAT = "plan-card-revocations/1"
INVALID_SCAN_WINDOW = dt.timedelta(hours=1)
INVALID_SCAN_ALERT_AT = 20  # invalid scans in the window before a privacy alert
KEYS_FORMAT = "plan-card-keys/1"
PIN_SETTERS = ("mentor", "lead_clinician")

CARD_STATES: dict[str, str] = {
    "valid": "Valid",
    "revoked": "Revoked",
    "expired": "Expired",
    "retired": "Plan retired",
    "no_plan": "No live plan",
}


class CardError(ValueError):
    """A card request that cannot be carried out, in words."""


class InvalidToken(ValueError):
    """A card token that is malformed, forged, tampered with or from an unknown key."""


# -- keys -----------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.strip(), validate=True)


def raw_private(key: Ed25519PrivateKey) -> bytes:
    """Return the 32 raw bytes of a private key."""
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def raw_public(key: Ed25519PublicKey) -> bytes:
    """Return the 32 raw bytes of a public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class MasterKey:
    """One deployment signing key and its id."""

    kid: str
    private_key: Ed25519PrivateKey

    def team_key(self, team_id: int) -> Ed25519PrivateKey:
        """Derive the key this master signs a team's cards with."""
        seed = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=_HKDF_SALT,
            info=f"team:{team_id}".encode("ascii"),
        ).derive(raw_private(self.private_key))
        return Ed25519PrivateKey.from_private_bytes(seed)

    def encoded(self) -> str:
        """Return the key as `kid:base64-private-key`."""
        return f"{self.kid}:{_b64(raw_private(self.private_key))}"


@dataclass(frozen=True)
class KeySet:
    """The deployment's master keys, the one that signs new cards first."""

    masters: tuple[MasterKey, ...]
    _cache: dict[str, Ed25519PublicKey] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if not self.masters:
            raise CardError("a key set needs at least one key")
        kids = [master.kid for master in self.masters]
        if len(set(kids)) != len(kids):
            raise CardError("key ids must be unique")

    @property
    def current(self) -> MasterKey:
        """Return the key new cards are signed with."""
        return self.masters[0]

    def master(self, kid: str) -> MasterKey | None:
        """Return the master key with this id, if listed."""
        return next((m for m in self.masters if m.kid == kid), None)

    def signing_key(self, team_id: int) -> tuple[str, Ed25519PrivateKey]:
        """Return the kid and key that sign a team's new cards."""
        return team_kid(self.current.kid, team_id), self.current.team_key(team_id)

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        """Return the public key behind a card kid, if its master is listed."""
        if kid in self._cache:
            return self._cache[kid]
        match = KID_PATTERN.match(kid)
        if match is None:
            master = self.master(kid)
            return master.private_key.public_key() if master else None
        master = self.master(match.group(1))
        if master is None:
            return None
        public = master.team_key(int(match.group(2))).public_key()
        self._cache[kid] = public
        return public


def team_kid(master_kid: str, team_id: int) -> str:
    """Return the key id of a team's key under a master key."""
    return f"{master_kid}.{team_id}"


def team_id_of_kid(kid: str) -> int | None:
    """Return the team id a card kid names, if it is a team kid."""
    match = KID_PATTERN.match(kid)
    return int(match.group(2)) if match else None


def generate_master_key(kid: str) -> MasterKey:
    """Create a new random master key with this id."""
    if not MASTER_KID_PATTERN.match(kid):
        raise CardError("a key id is 1 to 8 upper-case letters or digits")
    return MasterKey(kid, Ed25519PrivateKey.generate())


def parse_keys(text: str) -> KeySet:
    """Read keys written as `kid:base64-private-key,...`, the current one first."""
    masters = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        kid, sep, encoded = part.partition(":")
        kid = kid.strip()
        if not sep or not MASTER_KID_PATTERN.match(kid):
            raise CardError("card keys are written kid:base64-private-key")
        try:
            raw = _unb64(encoded)
        except (binascii.Error, ValueError):
            raise CardError(f"card key {kid} is not base64") from None
        if len(raw) != 32:
            raise CardError(f"card key {kid} is not a 32-byte Ed25519 key")
        masters.append(MasterKey(kid, Ed25519PrivateKey.from_private_bytes(raw)))
    return KeySet(tuple(masters))


def format_keys(keys: KeySet) -> str:
    """Write keys as `kid:base64-private-key,...`, the current one first."""
    return ",".join(master.encoded() for master in keys.masters)


def read_key_file(text: str) -> KeySet:
    """Read a key file: JSON `{"keys": [{"kid", "private_key", "created"}]}`."""
    try:
        data = json.loads(text)
        entries = data["keys"]
        return parse_keys(
            ",".join(f"{entry['kid']}:{entry['private_key']}" for entry in entries)
        )
    except (ValueError, KeyError, TypeError):
        raise CardError("the card key file is not a card key file") from None


def write_key_file(keys: KeySet, created: Mapping[str, str] | None = None) -> str:
    """Write a key file for `keys`, remembering when each was created."""
    created = dict(created or {})
    now = clock.today().isoformat()
    entries = [
        {
            "kid": master.kid,
            "private_key": _b64(raw_private(master.private_key)),
            "created": created.get(master.kid, now),
        }
        for master in keys.masters
    ]
    return json.dumps({"keys": entries}, indent=2) + "\n"


def key_file_dates(text: str) -> dict[str, str]:
    """Return when each key in a key file was created."""
    try:
        return {
            entry["kid"]: entry.get("created", "") for entry in json.loads(text)["keys"]
        }
    except (ValueError, KeyError, TypeError):
        return {}


def rotate(keys: KeySet, new_kid: str) -> KeySet:
    """Return the key set with a fresh key in front; old keys stay listed."""
    if keys.master(new_kid) is not None:
        raise CardError(f"a key with id {new_kid} already exists")
    return KeySet((generate_master_key(new_kid), *keys.masters))


def retire_key(keys: KeySet, kid: str) -> KeySet:
    """Return the key set without `kid`; cards it signed stop verifying."""
    remaining = tuple(m for m in keys.masters if m.kid != kid)
    if len(remaining) == len(keys.masters):
        raise CardError(f"no key with id {kid}")
    return KeySet(remaining)


# -- tokens ---------------------------------------------------------------------


@dataclass(frozen=True)
class TokenClaims:
    """What a verified token says."""

    kid: str
    card_id: str
    issued_at: dt.datetime
    expires_at: dt.datetime

    @property
    def team_id(self) -> int | None:
        """Return the team whose key signed the card."""
        return team_id_of_kid(self.kid)


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def _unb32(text: str) -> bytes:
    text = text.strip().upper()
    if not text or not re.fullmatch(r"[A-Z2-7]+", text):
        raise InvalidToken("not base32")
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except binascii.Error:
        raise InvalidToken("not base32") from None


def new_card_id() -> str:
    """Return a fresh random card id (16 base32 characters)."""
    return _b32(secrets.token_bytes(CARD_ID_BYTES))


def short_id(card_id: str) -> str:
    """Return the id printed on a card: the first eight characters, grouped."""
    return f"{card_id[:4]}-{card_id[4:8]}"


def _body(kid: str, card_id: str, issued: dt.datetime, expires: dt.datetime) -> bytes:
    kid_bytes = kid.encode("ascii")
    card_bytes = _unb32(card_id)
    if len(card_bytes) != CARD_ID_BYTES:
        raise CardError("a card id is 10 bytes")
    return (
        bytes([TOKEN_FORMAT, len(kid_bytes)])
        + kid_bytes
        + card_bytes
        + struct.pack(">II", int(issued.timestamp()), int(expires.timestamp()))
    )


def sign_token(
    key: Ed25519PrivateKey,
    *,
    kid: str,
    card_id: str,
    issued_at: dt.datetime,
    expires_at: dt.datetime,
) -> str:
    """Return the upper-case base32 token for a card, signed with `key`."""
    body = _body(kid, card_id, issued_at, expires_at)
    return _b32(body + key.sign(body))


def read_token(token: str) -> tuple[TokenClaims, bytes, bytes]:
    """Parse a token without checking it: claims, signed body and signature."""
    if len(token) > 400:
        raise InvalidToken("too long")
    raw = _unb32(token)
    if len(raw) < 2 + CARD_ID_BYTES + 8 + SIGNATURE_BYTES or raw[0] != TOKEN_FORMAT:
        raise InvalidToken("wrong shape")
    kid_length = raw[1]
    body_length = 2 + kid_length + CARD_ID_BYTES + 8
    if len(raw) != body_length + SIGNATURE_BYTES:
        raise InvalidToken("wrong length")
    try:
        kid = raw[2 : 2 + kid_length].decode("ascii")
    except UnicodeDecodeError:
        raise InvalidToken("bad key id") from None
    offset = 2 + kid_length
    card_id = _b32(raw[offset : offset + CARD_ID_BYTES])
    issued, expires = struct.unpack(
        ">II", raw[offset + CARD_ID_BYTES : offset + CARD_ID_BYTES + 8]
    )
    claims = TokenClaims(
        kid=kid,
        card_id=card_id,
        issued_at=dt.datetime.fromtimestamp(issued, dt.UTC),
        expires_at=dt.datetime.fromtimestamp(expires, dt.UTC),
    )
    return claims, raw[:body_length], raw[body_length:]


def verify_token(
    token: str, public_key_for: Mapping[str, Ed25519PublicKey] | KeySet
) -> TokenClaims:
    """Check a token's signature against the listed keys and return its claims.

    Expiry is not judged here: an expired card is genuine but no longer valid, and
    the caller says so in words.
    """
    claims, body, signature = read_token(token)
    if isinstance(public_key_for, KeySet):
        public = public_key_for.public_key(claims.kid)
    else:
        public = public_key_for.get(claims.kid)
    if public is None:
        raise InvalidToken("unknown key")
    try:
        public.verify(signature, body)
    except InvalidSignature:
        raise InvalidToken("bad signature") from None
    return claims


# -- the card table -------------------------------------------------------------


class Card(Base):
    """A plan card issued to a person; it opens whatever plan is live for them."""

    __tablename__ = "plan_cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[str] = mapped_column(String(16), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    kid: Mapped[str] = mapped_column(String(20))
    token: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(100))
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[dt.datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_reason: Mapped[str | None] = mapped_column(String(200))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("plan_cards.id"))

    person: Mapped[Person] = relationship()
    team: Mapped[Team] = relationship()
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])

    @property
    def short_id(self) -> str:
        """Return the id printed on the card."""
        return short_id(self.card_id)

    def state(self, session: Session, *, now: dt.datetime | None = None) -> str:
        """Say whether the card opens a plan now: one of CARD_STATES."""
        now = now or utcnow()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        if self.person.live_version(session) is not None:
            return "valid"
        retired = session.scalar(
            select(PlanVersion.id)
            .where(
                PlanVersion.person_id == self.person_id,
                PlanVersion.status == "retired",
            )
            .limit(1)
        )
        return "retired" if retired is not None else "no_plan"


def card_url(base_url: str, token: str) -> str:
    """Return the upper-case URL a QR holds, so the whole of it is alphanumeric."""
    return f"{base_url.rstrip('/')}/C/{token}".upper()


def issue(
    session: Session,
    person: Person,
    keys: KeySet,
    *,
    by: User | None,
    channel: Channel,
    first_name: str | None = None,
    lifetime: dt.timedelta = DEFAULT_LIFETIME,
    now: dt.datetime | None = None,
    replaces: Card | None = None,
) -> Card:
    """Issue a signed card for a person, audited (the caller commits)."""
    now = (now or utcnow()).replace(microsecond=0)
    first_name = " ".join((first_name or "").split()) or None
    if first_name is not None and (len(first_name) > 40 or " " in first_name):
        raise CardError("a card carries at most the person's first name")
    kid, key = keys.signing_key(person.team_id)
    card_id = new_card_id()
    expires = now + lifetime
    card = Card(
        card_id=card_id,
        person=person,
        team_id=person.team_id,
        kid=kid,
        token=sign_token(
            key, kid=kid, card_id=card_id, issued_at=now, expires_at=expires
        ),
        first_name=first_name,
        issued_at=now,
        expires_at=expires,
        issued_by_id=by.id if by else None,
        replaces_id=replaces.id if replaces else None,
    )
    session.add(card)
    session.flush()
    _audit(session, by, "card_issued", channel, card)
    return card


def revoke(
    session: Session,
    card: Card,
    *,
    by: User | None,
    channel: Channel,
    reason: str = "revoked",
    now: dt.datetime | None = None,
) -> None:
    """Revoke a card so it opens nothing from now on, audited."""
    if card.revoked_at is not None:
        raise CardError("this card is already revoked")
    card.revoked_at = now or utcnow()
    card.revoked_by_id = by.id if by else None
    card.revoked_reason = " ".join(reason.split())[:200] or "revoked"
    session.flush()
    _audit(session, by, "card_revoked", channel, card)


def reissue(
    session: Session,
    card: Card,
    keys: KeySet,
    *,
    by: User | None,
    channel: Channel,
    first_name: str | None = None,
    now: dt.datetime | None = None,
) -> Card:
    """Revoke a card and issue its replacement for the same person."""
    if card.revoked_at is None:
        revoke(session, card, by=by, channel=channel, reason="reissued", now=now)
    return issue(
        session,
        card.person,
        keys,
        by=by,
        channel=channel,
        first_name=first_name if first_name is not None else card.first_name,
        now=now,
        replaces=card,
    )


def _audit(
    session: Session,
    by: User | None,
    action: Literal["card_issued", "card_revoked"],
    channel: Channel,
    card: Card,
) -> None:
    audit.record(
        session,
        action=action,
        channel=as_channel(channel),
        actor_id=by.id if by else None,
        actor=by.email if by else None,
        role=by.role if by else None,
        person_ref=card.person.ref,
        detail={"card_id": card.short_id},
    )


def replacement_of(session: Session, card: Card) -> Card | None:
    """Return the card issued to replace this one, if any."""
    return session.scalar(
        select(Card)
        .where(Card.replaces_id == card.id)
        .order_by(Card.id.desc())
        .limit(1)
    )


def set_holder_pin(
    session: Session, person: Person, pin: str, *, by: User, channel: Channel
) -> None:
    """Set or change the holder's PIN without touching their card, audited.

    Reissuing a card only to set a PIN used to cancel the card the person carries.
    """
    if by.role not in PIN_SETTERS or person.team_id not in by.team_ids:
        raise CardError("only a mentor of the person's team sets their PIN")
    had_pin = people.has_pin(session, person)
    people.set_pin(session, person, pin)
    audit.record_for(
        session,
        by,
        action="pin_changed" if had_pin else "pin_set",  # both in AuditAction
        channel=channel,
        person_ref=person.ref,
    )


def find_card(session: Session, card_id: str) -> Card | None:
    """Return the card with this id, if any."""
    return session.scalar(select(Card).where(Card.card_id == card_id))


def find_by_short_id(session: Session, short: str) -> Card | None:
    """Return the card whose printed id is `short` (with or without the dash)."""
    prefix = short.replace("-", "").strip().upper()
    if len(prefix) != 8:
        return None
    matches = list(
        session.scalars(select(Card).where(Card.card_id.startswith(prefix)).limit(2))
    )
    return matches[0] if len(matches) == 1 else None


def cards_for(session: Session, person: Person) -> list[Card]:
    """Return a person's cards, newest first."""
    return list(
        session.scalars(
            select(Card)
            .where(Card.person_id == person.id)
            .order_by(Card.issued_at.desc(), Card.id.desc())
        )
    )


@dataclass(frozen=True)
class ScanResult:
    """What a scanned token leads to: the card, its state and the claims."""

    claims: TokenClaims
    card: Card | None
    state: str


def scan(
    session: Session, token: str, keys: KeySet, *, now: dt.datetime | None = None
) -> ScanResult:
    """Verify a scanned token and find its card; raise InvalidToken if not genuine.

    A genuine signature with no card on record is treated as invalid too: it can
    only come from a lost database or a stolen key, and it opens nothing.
    """
    claims = verify_token(token, keys)
    card = find_card(session, claims.card_id)
    if card is None or card.kid != claims.kid:
        raise InvalidToken("no such card")
    now = now or utcnow()
    state = card.state(session, now=now)
    if state == "valid" and claims.expires_at <= now:
        state = "expired"
    return ScanResult(claims=claims, card=card, state=state)


def record_invalid_scan(
    session: Session, *, ip_hash: str, now: dt.datetime | None = None
) -> PrivacyAlert | None:
    """Audit a scan of a token that is not genuine; alert on a burst of them.

    The token itself is never recorded: a near-miss forgery is still a secret's
    neighbour. One alert per window is enough for the privacy officer to look.
    """
    now = now or utcnow()
    since = now - INVALID_SCAN_WINDOW
    recent = (
        session.scalar(
            select(func.count())
            .select_from(audit.AuditEvent)
            .where(
                audit.AuditEvent.action == "card_scan_invalid",
                audit.AuditEvent.at > since,
            )
        )
        or 0
    ) + 1
    alert = None
    if recent >= INVALID_SCAN_ALERT_AT:
        already = session.scalar(
            select(func.count())
            .select_from(PrivacyAlert)
            .where(
                PrivacyAlert.kind == "card_scan_invalid",
                PrivacyAlert.created_at > since,
            )
        )
        if not already:
            alert = PrivacyAlert(
                kind="card_scan_invalid",
                summary=f"{recent} invalid plan card scans within "
                f"{int(INVALID_SCAN_WINDOW.total_seconds() // 60)} minutes",
                created_at=now,
            )
            session.add(alert)
            session.flush()
    detail: dict[str, Any] = {"ip_hash": ip_hash}
    if alert is not None:
        detail["alert_id"] = alert.id
    audit.record(session, action="card_scan_invalid", channel="card", detail=detail)
    return alert


# -- what is published ----------------------------------------------------------


def teams_by_id(session: Session) -> dict[int, Team]:
    """Return every team by id."""
    return {team.id: team for team in session.scalars(select(Team))}


def keys_document(
    session: Session,
    keys: KeySet,
    *,
    service_name: str,
    service_phone: str | None = None,
) -> dict[str, Any]:
    """Return the public keys document: each team's key with whom to call."""
    published: list[dict[str, Any]] = []
    teams = teams_by_id(session)
    for master in keys.masters:
        published.append(
            {
                "kid": master.kid,
                "alg": "Ed25519",
                "use": "revocation-list",
                "public_key": _b64(raw_public(master.private_key.public_key())),
            }
        )
        for team in sorted(teams.values(), key=lambda t: t.id):
            public = master.team_key(team.id).public_key()
            published.append(
                {
                    "kid": team_kid(master.kid, team.id),
                    "alg": "Ed25519",
                    "use": "card",
                    "public_key": _b64(raw_public(public)),
                    "team": {
                        "code": team.code,
                        "name": team.name,
                        "phone": team.phone,
                        "hours": team.hours,
                        # Every line with machine-readable hours, so the offline
                        # checker can offer the one open now.
                        "lines": published_lines(team.contacts),
                    },
                }
            )
    return {
        "format": KEYS_FORMAT,
        "service": {"name": service_name, "phone": service_phone},
        "current": keys.current.kid,
        "keys": published,
    }


def public_keys_from_document(
    document: Mapping[str, Any],
) -> dict[str, Ed25519PublicKey]:
    """Return the card keys a keys document publishes, by kid."""
    if document.get("format") != KEYS_FORMAT:
        raise CardError("not a plan card keys document")
    found: dict[str, Ed25519PublicKey] = {}
    for entry in document.get("keys", []):
        try:
            raw = _unb64(entry["public_key"])
            found[str(entry["kid"])] = Ed25519PublicKey.from_public_bytes(raw)
        except (KeyError, TypeError, ValueError, binascii.Error):
            continue
    return found


def invalid_card_ids(session: Session, *, now: dt.datetime | None = None) -> list[str]:
    """Return ids of unexpired cards that no longer open a plan, sorted."""
    now = now or utcnow()
    revoked = set(
        session.scalars(
            select(Card.card_id).where(
                Card.revoked_at.is_not(None), Card.expires_at > now
            )
        )
    )
    retired_people = (
        select(PlanVersion.person_id)
        .where(PlanVersion.status == "retired")
        .except_(select(PlanVersion.person_id).where(PlanVersion.status == "live"))
    )
    retired = set(
        session.scalars(
            select(Card.card_id).where(
                Card.person_id.in_(retired_people),
                Card.revoked_at.is_(None),
                Card.expires_at > now,
            )
        )
    )
    return sorted(revoked | retired)


def revocation_list(
    session: Session, keys: KeySet, *, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Return the signed list of card ids that must no longer be trusted.

    The signature covers the exact `list` string (the time, then one id a line),
    so a browser verifies those bytes as they are, with no JSON canonicalising.
    """
    now = now or utcnow()
    lines = [
        now.replace(microsecond=0).isoformat(),
        *invalid_card_ids(session, now=now),
    ]
    text = "\n".join(lines)
    signature = keys.current.private_key.sign(text.encode("ascii"))
    return {
        "format": REVOCATION_FORMAT,
        "kid": keys.current.kid,
        "list": text,
        "signature": _b64(signature),
    }


def read_revocation_list(
    document: Mapping[str, Any], public_key_for: Mapping[str, Ed25519PublicKey]
) -> tuple[dt.datetime, frozenset[str]]:
    """Check a revocation list's signature; return its time and card ids."""
    if document.get("format") != REVOCATION_FORMAT:
        raise CardError("not a plan card revocation list")
    public = public_key_for.get(str(document.get("kid")))
    if public is None:
        raise CardError("the revocation list is signed by an unknown key")
    text = str(document.get("list", ""))
    try:
        public.verify(_unb64(str(document.get("signature", ""))), text.encode("ascii"))
    except (InvalidSignature, binascii.Error, ValueError, UnicodeEncodeError):
        raise CardError("the revocation list's signature does not verify") from None
    first, *ids = text.split("\n")
    return dt.datetime.fromisoformat(first), frozenset(ids)


def offline_check(
    token: str,
    keys_doc: Mapping[str, Any],
    revocations: Mapping[str, Any] | None = None,
    *,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """Check a token with published documents only: genuine, whose, still valid?"""
    public = public_keys_from_document(keys_doc)
    claims = verify_token(token, public)
    team = next(
        (e.get("team") for e in keys_doc.get("keys", []) if e.get("kid") == claims.kid),
        None,
    )
    now = now or utcnow()
    state = "valid"
    listed_at = None
    if claims.expires_at <= now:
        state = "expired"
    if revocations is not None:
        listed_at, revoked = read_revocation_list(revocations, public)
        if claims.card_id in revoked:
            state = "revoked"
    return {
        "state": state,
        "card": short_id(claims.card_id),
        "kid": claims.kid,
        "issued_at": claims.issued_at,
        "expires_at": claims.expires_at,
        "team": team,
        "service": keys_doc.get("service"),
        "revocations_at": listed_at,
    }


def token_from_url(url: str) -> str:
    """Return the token at the end of a card URL (or the token itself)."""
    url = url.strip()
    marker = url.upper().rfind("/C/")
    return url[marker + 3 :].strip("/") if marker >= 0 else url


def record_printed(session: Session, card: Card, *, by: User | None, fmt: str) -> None:
    """Record that a card was rendered for printing (PDF, PNG or SVG)."""
    audit.record_for(
        session,
        by,
        action="card_printed",
        channel="web",
        person_ref=card.person.ref,
        detail={"card_id": card.short_id, "method": fmt},
    )
