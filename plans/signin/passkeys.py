"""Passkeys (WebAuthn, user verification required): the first second factor.

Challenges are stored server-side and deleted when answered, so each is used once.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
from dataclasses import dataclass
from typing import Any

import webauthn
from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import (
    AuthenticatorAttachment,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from plans.db import Base, utcnow
from plans.hashing import sha256_hex
from plans.models import User
from plans.signin import SecondFactorError

CHALLENGE_LIFETIME = dt.timedelta(minutes=5)


class Passkey(Base):
    """A WebAuthn credential registered to a user."""

    __tablename__ = "webauthn_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


class WebAuthnChallenge(Base):
    """A WebAuthn challenge awaiting its answer; deleted when used, so once only."""

    __tablename__ = "webauthn_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle_digest: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))
    challenge: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


@dataclass(frozen=True)
class RelyingParty:
    """Who we are to WebAuthn: the RP ID (a domain) and the origins we serve."""

    rp_id: str
    name: str
    origins: tuple[str, ...]


def passkeys_for(session: Session, user: User) -> list[Passkey]:
    """Return the user's passkeys, oldest first."""
    return list(
        session.scalars(
            select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.id)
        )
    )


def _user_handle(user: User) -> bytes:
    # Stable and opaque: the user's row id, never the email address.
    return f"responder-user-{user.id}".encode("ascii")


def registration_options(
    session: Session, user: User, rp: RelyingParty
) -> tuple[str, bytes]:
    """Return WebAuthn creation options as JSON and the challenge to remember."""
    options = webauthn.generate_registration_options(
        rp_id=rp.rp_id,
        rp_name=rp.name,
        user_name=user.email,
        user_id=_user_handle(user),
        user_display_name=user.display_name,
        authenticator_selection=AuthenticatorSelectionCriteria(
            # The phone's own authenticator: a passkey that travels with the
            # responder's handset and unlocks with their fingerprint or face.
            authenticator_attachment=AuthenticatorAttachment.PLATFORM,
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=_b64decode(row.credential_id))
            for row in passkeys_for(session, user)
        ],
    )
    return webauthn.options_to_json(options), options.challenge


def register_passkey(
    session: Session,
    user: User,
    credential: dict[str, Any] | str,
    *,
    challenge: bytes,
    rp: RelyingParty,
    name: str,
) -> Passkey:
    """Verify a new credential (user verification required) and store it."""
    try:
        verified = webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=list(rp.origins),
            require_user_verification=True,
        )
    except (InvalidRegistrationResponse, InvalidJSONStructure, ValueError) as error:
        raise SecondFactorError("the passkey could not be verified") from error
    credential_id = bytes_to_base64url(verified.credential_id)
    if session.scalar(select(Passkey).where(Passkey.credential_id == credential_id)):
        raise SecondFactorError("that passkey is already registered")
    transports = []
    if isinstance(credential, str):
        credential = json.loads(credential)
    response = credential.get("response") if isinstance(credential, dict) else None
    if isinstance(response, dict) and isinstance(response.get("transports"), list):
        transports = [str(t)[:20] for t in response["transports"][:8]]
    row = Passkey(
        user_id=user.id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=transports,
        name=(name.strip() or "Passkey")[:100],
    )
    session.add(row)
    session.flush()
    return row


def authentication_options(
    session: Session, rp: RelyingParty, user: User | None = None
) -> tuple[str, bytes]:
    """Return WebAuthn request options as JSON and the challenge to remember.

    Without a user the browser offers any passkey it holds for us (a discoverable
    credential), which is how a responder signs in with a passkey alone.
    """
    allow = None
    if user is not None:
        allow = [
            PublicKeyCredentialDescriptor(id=_b64decode(row.credential_id))
            for row in passkeys_for(session, user)
        ]
    options = webauthn.generate_authentication_options(
        rp_id=rp.rp_id,
        allow_credentials=allow,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return webauthn.options_to_json(options), options.challenge


def authenticate_passkey(
    session: Session,
    credential: dict[str, Any],
    *,
    challenge: bytes,
    rp: RelyingParty,
    user: User | None = None,
) -> Passkey | None:
    """Verify a passkey assertion; return the passkey, or None if it fails."""
    raw_id = credential.get("rawId") or credential.get("id")
    if not isinstance(raw_id, str) or len(raw_id) > 1400:
        return None
    row = session.scalar(select(Passkey).where(Passkey.credential_id == raw_id))
    if row is None or (user is not None and row.user_id != user.id):
        return None
    if not row.user.active:
        return None
    try:
        verified = webauthn.verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.rp_id,
            expected_origin=list(rp.origins),
            credential_public_key=row.public_key,
            credential_current_sign_count=row.sign_count,
            require_user_verification=True,
        )
    except (InvalidAuthenticationResponse, InvalidJSONStructure, ValueError):
        return None
    row.sign_count = verified.new_sign_count
    row.last_used_at = utcnow()
    return row


def save_challenge(session: Session, purpose: str, challenge: bytes) -> str:
    """Keep a challenge on the server; return the handle the browser carries."""
    handle = secrets.token_urlsafe(24)
    # Unanswered challenges go as new ones arrive, so the table stays small
    # without a scheduled job.
    session.execute(
        delete(WebAuthnChallenge).where(
            WebAuthnChallenge.created_at < utcnow() - CHALLENGE_LIFETIME
        )
    )
    session.add(
        WebAuthnChallenge(
            handle_digest=sha256_hex(handle), purpose=purpose, challenge=challenge
        )
    )
    session.flush()
    return handle


def take_challenge(
    session: Session,
    handle: str,
    purpose: str,
    *,
    lifetime: dt.timedelta = CHALLENGE_LIFETIME,
    now: dt.datetime | None = None,
) -> bytes | None:
    """Return a saved challenge and delete it, so no answer can be replayed."""
    if not handle or len(handle) > 100:
        return None
    row = session.scalar(
        select(WebAuthnChallenge).where(
            WebAuthnChallenge.handle_digest == sha256_hex(handle)
        )
    )
    if row is None:
        return None
    deleted = session.execute(
        delete(WebAuthnChallenge).where(WebAuthnChallenge.id == row.id)
    ).rowcount  # type: ignore[attr-defined]
    # Two requests racing with one handle: only the one that deleted it wins.
    if deleted != 1 or row.purpose != purpose:
        return None
    if (now or utcnow()) - row.created_at > lifetime:
        return None
    return row.challenge


def remove_passkey(session: Session, user: User, passkey_id: int) -> bool:
    """Remove one of the user's passkeys; say whether it existed."""
    result = session.execute(
        delete(Passkey).where(Passkey.id == passkey_id, Passkey.user_id == user.id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
