"""The authenticator app (TOTP): the fallback second factor.

TOTP secrets are encrypted with a key the caller passes in (derived from the
app's secret key); a code is accepted once only, within one step of drift.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import ForeignKey, Integer, String, delete, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from plans.db import Base, utcnow
from plans.models import User
from plans.signin import SecondFactorError

TOTP_ISSUER = "Responder"


TOTP_VALID_WINDOW = 1  # accept the previous and next 30 s step: phone clocks drift


_FERNET_SALT = b"responder totp secret v1"


class TotpFactor(Base):
    """A user's authenticator-app secret, encrypted; unusable until confirmed."""

    __tablename__ = "totp_factors"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    secret_encrypted: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[dt.datetime | None]
    # The last 30-second step accepted: a code is never accepted twice.
    last_step: Mapped[int] = mapped_column(Integer, default=0)


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
