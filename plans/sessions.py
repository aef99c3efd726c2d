"""Signed-in sessions, second factors and login-attempt throttling.

Server-side session records: the browser holds only a random token; the database
holds its SHA-256, so a copy of the table cannot be replayed as cookies. A record
stops working when revoked, when its user is disabled, or after the idle or
absolute timeout.

Every account has a second factor: passkeys (WebAuthn, user verification
required) first, TOTP as the fallback, and ten single-use recovery codes stored as
SHA-256 digests of 80-bit random codes (high entropy, so a fast hash is enough).
TOTP secrets are encrypted with a key the caller passes in.

Guessing is slowed, never turned into a lockout. Three throttles count every
guess, in the database so that every worker shares them: the (account, address)
pair, the account from any address, and the address at any account. Each earns a
growing wait after a few failures. An attempt is counted before it is checked, in
one atomic statement, so parallel guesses cannot all slip in before the count
rises. The account-wide throttle waits at most a few minutes, raises a privacy
alert when it first bites, and does not apply to a browser that has signed in to
the account before, so an attacker cannot keep the responder out.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

import pyotp
import webauthn
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import (
    JSON,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
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

from plans.db import Base, dialect_name, utcnow
from plans.hashing import sha256_hex
from plans.models import User
from plans.ratelimit import doubling_wait

RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_BYTES = 10  # 80 bits, written as four groups of four base32 letters
TOTP_ISSUER = "Responder"
TOTP_VALID_WINDOW = 1  # accept the previous and next 30 s step: phone clocks drift
THROTTLE_FREE_FAILURES = 3
THROTTLE_MAX_WAIT = dt.timedelta(minutes=15)
THROTTLE_FORGET_AFTER = dt.timedelta(hours=24)
CHALLENGE_LIFETIME = dt.timedelta(minutes=5)
TOUCH_EVERY = dt.timedelta(minutes=1)  # write last_seen_at at most this often
_FERNET_SALT = b"responder totp secret v1"


class SecondFactorError(ValueError):
    """A second-factor request that cannot be carried out, in words."""


# -- tables ---------------------------------------------------------------------


class UserSession(Base):
    """One signed-in browser session; the cookie holds the token, we its digest."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    method: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None]
    revoke_reason: Mapped[str | None] = mapped_column(String(40))
    ip_hash: Mapped[str | None] = mapped_column(String(16))
    user_agent: Mapped[str | None] = mapped_column(String(200))
    # When the user last proved their password in this session: adding a
    # passkey, an app, recovery codes or a chat link needs it to be recent.
    reauthenticated_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


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


class TotpFactor(Base):
    """A user's authenticator-app secret, encrypted; unusable until confirmed."""

    __tablename__ = "totp_factors"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    secret_encrypted: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[dt.datetime | None]
    # The last 30-second step accepted: a code is never accepted twice.
    last_step: Mapped[int] = mapped_column(Integer, default=0)


class RecoveryCode(Base):
    """One single-use recovery code, stored as its SHA-256 digest."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    used_at: Mapped[dt.datetime | None]


class WebAuthnChallenge(Base):
    """A WebAuthn challenge awaiting its answer; deleted when used, so once only."""

    __tablename__ = "webauthn_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle_digest: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20))
    challenge: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class LoginThrottle(Base):
    """Failed attempts for one (purpose, account, address) key."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    blocked_until: Mapped[dt.datetime | None]


# -- session records --------------------------------------------------------------


def start_session(
    session: Session,
    user: User,
    *,
    method: str,
    ip_hash: str | None = None,
    user_agent: str | None = None,
) -> tuple[UserSession, str]:
    """Open a session record for a fully signed-in user; return it and its token."""
    token = secrets.token_urlsafe(32)
    row = UserSession(
        digest=sha256_hex(token),
        user=user,
        method=method,
        ip_hash=ip_hash,
        user_agent=(user_agent or "")[:200] or None,
    )
    user.last_login_at = utcnow()
    session.add(row)
    session.flush()
    return row, token


def _unrevoked_record(session: Session, token: str) -> UserSession | None:
    """Return the unrevoked record behind a session token, if there is one."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(
        select(UserSession).where(UserSession.digest == sha256_hex(token))
    )
    return None if row is None or row.revoked_at is not None else row


def load_session(
    session: Session,
    token: str,
    *,
    idle_timeout: dt.timedelta,
    absolute_timeout: dt.timedelta,
    now: dt.datetime | None = None,
) -> UserSession | None:
    """Return the live session record for a token: unrevoked, active, in time."""
    row = _unrevoked_record(session, token)
    if row is None or not row.user.active:
        return None
    now = now or utcnow()
    if now - row.last_seen_at > idle_timeout:
        return None
    if now - row.created_at > absolute_timeout:
        return None
    return row


def end_stale_session(
    session: Session,
    token: str,
    *,
    idle_timeout: dt.timedelta,
    absolute_timeout: dt.timedelta,
    now: dt.datetime | None = None,
) -> UserSession | None:
    """Revoke a token's record if it timed out; return it, or None if it had not."""
    row = _unrevoked_record(session, token)
    if row is None:
        return None
    now = now or utcnow()
    if now - row.last_seen_at > idle_timeout:
        revoke_session(row, reason="idle_timeout")
    elif now - row.created_at > absolute_timeout:
        revoke_session(row, reason="absolute_timeout")
    elif not row.user.active:
        revoke_session(row, reason="account_disabled")
    else:
        return None
    return row


def touch_due(row: UserSession, *, now: dt.datetime | None = None) -> bool:
    """Say whether the record's idle clock is stale enough to write again."""
    return (now or utcnow()) - row.last_seen_at > TOUCH_EVERY


def touch_session(
    session: Session, session_id: int, *, now: dt.datetime | None = None
) -> None:
    """Restart a record's idle clock (run in a short session of its own)."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id)
        .values(last_seen_at=now or utcnow())
    )


def mark_reauthenticated(
    session: Session, session_id: int, *, now: dt.datetime | None = None
) -> None:
    """Record that the user proved their password again in this session."""
    session.execute(
        update(UserSession)
        .where(UserSession.id == session_id)
        .values(reauthenticated_at=now or utcnow())
    )


def revoke_session(row: UserSession, *, reason: str) -> None:
    """Revoke one session record at once."""
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        row.revoke_reason = reason[:40]


def revoke_user_sessions(
    session: Session, user: User, *, reason: str, keep: UserSession | None = None
) -> int:
    """Revoke every live session of a user (but `keep`); return how many."""
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    result = session.execute(
        query.values(revoked_at=utcnow(), revoke_reason=reason[:40])
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def live_sessions(session: Session, user: User) -> list[UserSession]:
    """Return a user's unrevoked session records, newest first."""
    return list(
        session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
            .order_by(UserSession.created_at.desc())
        )
    )


def disable_account(session: Session, user: User) -> int:
    """Disable a user and end their sessions and API tokens at once."""
    from plans.accounts import disable_user, end_credentials

    disable_user(user)
    end_credentials(session, user, why="account_disabled")
    return revoke_user_sessions(session, user, reason="account_disabled")


def last_sign_in_methods(session: Session, user_ids: list[int]) -> dict[int, str]:
    """Return how each of these users last signed in ("totp", "oidc:cis2"), by id."""
    if not user_ids:
        return {}
    latest = (
        select(UserSession.user_id, func.max(UserSession.id).label("last_id"))
        .where(UserSession.user_id.in_(user_ids))
        .group_by(UserSession.user_id)
        .subquery()
    )
    rows = session.execute(
        select(UserSession.user_id, UserSession.method).join(
            latest, UserSession.id == latest.c.last_id
        )
    )
    return {user_id: method for user_id, method in rows}


# -- second factors ---------------------------------------------------------------


def has_second_factor(session: Session, user: User) -> bool:
    """Say whether the user has a passkey or a confirmed authenticator app."""
    return bool(passkeys_for(session, user)) or totp_enabled(session, user)


def second_factor_methods(session: Session, user: User) -> list[str]:
    """Name the second factors a user can sign in with ("passkey", "totp")."""
    methods = []
    if passkeys_for(session, user):
        methods.append("passkey")
    if totp_enabled(session, user):
        methods.append("totp")
    return methods


def reset_second_factors(session: Session, user: User) -> int:
    """Remove every passkey, app and recovery code; end the user's sessions."""
    session.execute(delete(Passkey).where(Passkey.user_id == user.id))
    session.execute(delete(TotpFactor).where(TotpFactor.user_id == user.id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    from plans.accounts import end_credentials

    end_credentials(session, user, why="factors_reset")
    return revoke_user_sessions(session, user, reason="factors_reset")


# TOTP


def totp_cipher(secret_key: str | bytes) -> Fernet:
    """Derive the cipher that protects TOTP secrets from the app's secret key."""
    material = secret_key.encode("utf-8") if isinstance(secret_key, str) else secret_key
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=_FERNET_SALT, info=b"totp"
    ).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def _totp(row: TotpFactor, cipher: Fernet) -> pyotp.TOTP:
    try:
        secret = cipher.decrypt(row.secret_encrypted.encode("ascii")).decode("ascii")
    except InvalidToken as error:
        raise SecondFactorError(
            "the authenticator app secret cannot be read; reset the second factor"
        ) from error
    return pyotp.TOTP(secret)


def totp_enabled(session: Session, user: User) -> bool:
    """Say whether the user has a confirmed authenticator app."""
    row = session.get(TotpFactor, user.id)
    return row is not None and row.confirmed_at is not None


def begin_totp(session: Session, user: User, cipher: Fernet) -> str:
    """Start (or restart) app enrolment; return the provisioning URI to show."""
    row = session.get(TotpFactor, user.id)
    if row is not None and row.confirmed_at is not None:
        raise SecondFactorError("an authenticator app is already set up")
    secret = pyotp.random_base32()
    encrypted = cipher.encrypt(secret.encode("ascii")).decode("ascii")
    if row is None:
        row = TotpFactor(user_id=user.id, secret_encrypted=encrypted)
        session.add(row)
    else:
        row.secret_encrypted = encrypted
        row.last_step = 0
    session.flush()
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def pending_totp_uri(session: Session, user: User, cipher: Fernet) -> str | None:
    """Return the provisioning URI of an unconfirmed enrolment, if one exists."""
    row = session.get(TotpFactor, user.id)
    if row is None or row.confirmed_at is not None:
        return None
    return _totp(row, cipher).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def _accept_code(row: TotpFactor, cipher: Fernet, code: str, now: dt.datetime) -> bool:
    # ASCII digits only: "²" passes isdigit() and compare_digest refuses it.
    code = "".join(ch for ch in code if ch in "0123456789")
    if len(code) != 6:
        return False
    totp = _totp(row, cipher)
    step_now = int(now.timestamp()) // totp.interval
    for offset in range(-TOTP_VALID_WINDOW, TOTP_VALID_WINDOW + 1):
        step = step_now + offset
        expected = totp.at(step * totp.interval)
        if hmac.compare_digest(expected, code):
            return _spend_step(row, step)
    return False


def _spend_step(row: TotpFactor, step: int) -> bool:
    """Mark a step used unless it (or a later one) already was; once only.

    One conditional UPDATE, not read-then-write: four parallel requests with one
    code were all accepted when each read last_step before any wrote it.
    """
    session = Session.object_session(row)
    assert session is not None
    spent = session.execute(
        update(TotpFactor)
        .where(TotpFactor.user_id == row.user_id, TotpFactor.last_step < step)
        .values(last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if spent != 1:
        return False  # already used: a replayed or shoulder-surfed code
    session.expire(row, ["last_step"])
    return True


def confirm_totp(
    session: Session,
    user: User,
    code: str,
    cipher: Fernet,
    *,
    now: dt.datetime | None = None,
) -> bool:
    """Confirm app enrolment with a first code; say whether it was accepted."""
    row = session.get(TotpFactor, user.id)
    if row is None or row.confirmed_at is not None:
        return False
    if not _accept_code(row, cipher, code, now or utcnow()):
        return False
    row.confirmed_at = utcnow()
    return True


def verify_totp(
    session: Session,
    user: User,
    code: str,
    cipher: Fernet,
    *,
    now: dt.datetime | None = None,
) -> bool:
    """Check a code from the user's confirmed app; each code works once."""
    row = session.get(TotpFactor, user.id)
    if row is None or row.confirmed_at is None:
        return False
    return _accept_code(row, cipher, code, now or utcnow())


def remove_totp(session: Session, user: User) -> None:
    """Remove the user's authenticator app."""
    session.execute(delete(TotpFactor).where(TotpFactor.user_id == user.id))


# Recovery codes


def _format_code(raw: bytes) -> str:
    letters = base64.b32encode(raw).decode("ascii").rstrip("=").lower()
    return "-".join(letters[i : i + 4] for i in range(0, len(letters), 4))


def _normalise_code(code: str) -> str:
    letters = "".join(ch for ch in code.lower() if ch.isalnum())
    return "-".join(letters[i : i + 4] for i in range(0, len(letters), 4))


def issue_recovery_codes(session: Session, user: User) -> list[str]:
    """Replace the user's recovery codes with ten new ones, returned only now."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        _format_code(secrets.token_bytes(RECOVERY_CODE_BYTES))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    for code in codes:
        session.add(RecoveryCode(user_id=user.id, digest=sha256_hex(code)))
    session.flush()
    return codes


def unused_recovery_codes(session: Session, user: User) -> int:
    """Return how many recovery codes the user has left."""
    count = session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    return int(count or 0)


def use_recovery_code(session: Session, user: User, code: str) -> bool:
    """Spend one recovery code; say whether it was valid and unused."""
    digest = sha256_hex(_normalise_code(code))
    # One conditional UPDATE: of parallel requests with one code, one wins.
    spent = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.digest == digest,
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    return bool(spent == 1)


# Passkeys


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


# -- throttling -------------------------------------------------------------------


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures are free, and how long waits grow after them."""

    free_failures: int
    max_wait: dt.timedelta

    def wait_after(self, failures: int) -> dt.timedelta:
        """Return the wait earned by this many failures in a row."""
        return doubling_wait(
            failures,
            first=dt.timedelta(seconds=1),
            cap=self.max_wait,
            free=self.free_failures,
        )


# One account from one address: the user mistyping, or one guesser.
PAIR_POLICY = ThrottlePolicy(THROTTLE_FREE_FAILURES, THROTTLE_MAX_WAIT)
# One account from every address: guessing spread over many addresses. A short
# cap, so the account's owner is slowed but never kept out for long.
ACCOUNT_POLICY = ThrottlePolicy(10, dt.timedelta(minutes=5))
# One address at every account: spraying one password over many accounts. Many
# free failures, as a station's staff may share one address.
ADDRESS_POLICY = ThrottlePolicy(50, THROTTLE_MAX_WAIT)
SIGN_IN_GUESSING_ALERT = "sign_in_guessing"


@dataclass(frozen=True)
class Throttle:
    """One counter of failed attempts and the policy that turns it into waits."""

    key: str
    policy: ThrottlePolicy
    scope: str  # "pair", "account" or "address"


class Throttled(Exception):
    """An attempt that must wait; nothing was checked and nothing was counted."""

    def __init__(self, wait: dt.timedelta, scope: str) -> None:
        super().__init__(f"wait {wait}")
        self.wait = wait
        self.scope = scope


def throttle_key(purpose: str, account: str, address: str) -> str:
    """Return the throttle key for a purpose, account (email or id) and address."""
    material = f"{purpose}\x00{account.strip().lower()}\x00{address}"
    return sha256_hex(material)


def attempt_throttles(
    purpose: str, account: str, address: str, *, known_device: bool = False
) -> list[Throttle]:
    """Return the throttles one sign-in attempt counts against.

    A browser that signed in to this account before skips the account-wide
    throttle, so guessing from elsewhere cannot keep the owner out.
    """
    throttles = [
        Throttle(throttle_key(purpose, account, address), PAIR_POLICY, "pair"),
        Throttle(
            throttle_key(purpose + ":address", "*", address), ADDRESS_POLICY, "address"
        ),
    ]
    if not known_device:
        throttles.append(
            Throttle(
                throttle_key(purpose + ":account", account, "*"),
                ACCOUNT_POLICY,
                "account",
            )
        )
    return throttles


def throttle_wait(
    session: Session, key: str, *, now: dt.datetime | None = None
) -> dt.timedelta:
    """Return how long this key must wait before its next attempt (zero: go)."""
    row = session.get(LoginThrottle, key, populate_existing=True)
    now = now or utcnow()
    if row is None or row.blocked_until is None or row.blocked_until <= now:
        return dt.timedelta(0)
    return row.blocked_until - now


def failure_wait(failures: int) -> dt.timedelta:
    """Return the wait earned by this many consecutive failures (one address)."""
    return PAIR_POLICY.wait_after(failures)


def _count_failure(
    session: Session, key: str, now: dt.datetime, *, only_if_free: bool
) -> int | None:
    """Add one failure to a key atomically; return the new count.

    INSERT ... ON CONFLICT DO UPDATE on both databases: two parallel first
    failures once raced to INSERT the same key and one got a 500. With
    `only_if_free`, a key that must still wait is left alone and None returned.
    """
    insert = (
        postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert
    )
    column = LoginThrottle.__table__.c
    first_failure = insert(LoginThrottle).values(
        key=key, failures=1, last_failure_at=now, blocked_until=None
    )
    free = or_(column.blocked_until.is_(None), column.blocked_until <= now)
    statement = first_failure.on_conflict_do_update(
        index_elements=[column.key],
        set_={
            "failures": case(
                (column.last_failure_at < now - THROTTLE_FORGET_AFTER, 1),
                else_=column.failures + 1,
            ),
            "last_failure_at": now,
        },
        where=free if only_if_free else None,
    ).returning(column.failures)
    failures = session.execute(statement).scalar_one_or_none()
    return None if failures is None else int(failures)


def _block(
    session: Session, throttle: Throttle, failures: int, now: dt.datetime
) -> dt.timedelta:
    wait = throttle.policy.wait_after(failures)
    session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == throttle.key)
        .values(blocked_until=now + wait if wait else None)
        .execution_options(synchronize_session=False)
    )
    return wait


def claim_attempt(
    session: Session,
    throttles: list[Throttle],
    *,
    user: User | None = None,
    now: dt.datetime | None = None,
) -> None:
    """Count one attempt against every throttle before it is checked.

    Raise Throttled while any throttle must wait; the caller then rolls back (a
    refused attempt counts for nothing, so hammering does not lengthen the
    wait) and answers 429. Otherwise the caller commits at once, before checking
    the secret: counted first, parallel guesses see each other's counts. The
    first time the account-wide throttle bites, the privacy officer is alerted.
    """
    now = now or utcnow()
    for throttle in throttles:
        wait = throttle_wait(session, throttle.key, now=now)
        if wait:
            raise Throttled(wait, throttle.scope)
    for throttle in throttles:
        failures = _count_failure(session, throttle.key, now, only_if_free=True)
        if failures is None:  # a parallel attempt was counted first and bit
            raise Throttled(
                throttle_wait(session, throttle.key, now=now), throttle.scope
            )
        _block(session, throttle, failures, now)
        if (
            throttle.scope == "account"
            and user is not None
            and failures == throttle.policy.free_failures
        ):
            _alert_guessing(session, user, failures, now)


def _alert_guessing(
    session: Session, user: User, failures: int, now: dt.datetime
) -> None:
    from plans.access import PrivacyAlert

    session.add(
        PrivacyAlert(
            kind=SIGN_IN_GUESSING_ALERT,
            user_id=user.id,
            summary=f"{failures} failed sign-in attempts at {user.display_name}'s "
            "account from more than one address; sign-in is being slowed",
            created_at=now,
        )
    )


def forget_failures(session: Session, throttles: list[Throttle]) -> None:
    """Forget the pair and account failures after a successful attempt.

    The address throttle is kept: one good sign-in must not reset a spray at
    every other account from that address.
    """
    keys = [t.key for t in throttles if t.scope != "address"]
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))


def record_failure(
    session: Session, key: str, *, now: dt.datetime | None = None
) -> dt.timedelta:
    """Count a failed attempt against one (account, address) key; return the wait."""
    now = now or utcnow()
    failures = _count_failure(session, key, now, only_if_free=False)
    assert failures is not None
    return _block(session, Throttle(key, PAIR_POLICY, "pair"), failures, now)


def record_success(session: Session, key: str) -> None:
    """Forget the failures of a key after a successful attempt."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))


def purge_stale(session: Session, *, now: dt.datetime | None = None) -> int:
    """Delete throttles and ended sessions nobody needs any more; return how many."""
    now = now or utcnow()
    gone = session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.last_failure_at < now - THROTTLE_FORGET_AFTER
        )
    ).rowcount  # type: ignore[attr-defined]
    gone += session.execute(
        delete(WebAuthnChallenge).where(
            WebAuthnChallenge.created_at < now - CHALLENGE_LIFETIME
        )
    ).rowcount  # type: ignore[attr-defined]
    return int(gone or 0)
