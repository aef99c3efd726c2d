"""Signed-in sessions: the browser holds a random token, the database its SHA-256.

A copy of the table cannot be replayed as cookies. A record stops working when
revoked, when its user is disabled, or after the idle or absolute timeout.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import ForeignKey, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from plans.db import Base, utcnow
from plans.hashing import sha256_hex
from plans.models import User

TOUCH_EVERY = dt.timedelta(minutes=1)  # write last_seen_at at most this often


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
