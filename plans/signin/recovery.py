"""Recovery codes: ten single-use codes, stored as SHA-256 digests.

The codes are 80-bit random values (high entropy), so a fast hash is enough.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets

from sqlalchemy import ForeignKey, String, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from plans.db import Base, utcnow
from plans.hashing import sha256_hex
from plans.models import User

RECOVERY_CODE_COUNT = 10


RECOVERY_CODE_BYTES = 10  # 80 bits, written as four groups of four base32 letters


class RecoveryCode(Base):
    """One single-use recovery code, stored as its SHA-256 digest."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    used_at: Mapped[dt.datetime | None]


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
