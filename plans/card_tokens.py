"""Plan card tokens: what the QR carries, signed and checked.

A card's token carries nothing personal: a format byte, a key id, a random card id,
the issue time, the expiry and an Ed25519 signature over all of them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import secrets
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from plans.card_keys import CardError, InvalidToken, KeySet, team_id_of_kid

TOKEN_FORMAT = 1


CARD_ID_BYTES = 10  # 80 random bits: unguessable, and 16 base32 characters


SIGNATURE_BYTES = 64


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
