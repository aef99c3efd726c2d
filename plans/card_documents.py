"""What is published about cards: the keys document, the signed revocation list,
and the offline check a phone runs without the server.
"""

from __future__ import annotations

import binascii
import datetime as dt
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import audit
from plans.card_keys import CardError, KeySet, _b64, _unb64, raw_public, team_kid
from plans.card_tokens import short_id, verify_token
from plans.cards import Card
from plans.db import utcnow
from plans.hours import published_lines
from plans.models import PlanVersion, Team, User

REVOCATION_FORMAT = "plan-card-revocations/1"


KEYS_FORMAT = "plan-card-keys/1"


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
