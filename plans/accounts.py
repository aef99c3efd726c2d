"""Users, passwords (argon2id) and API tokens (stored as SHA-256 digests)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any, Literal

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, object_session

from plans import audit, hashing
from plans.db import utcnow
from plans.hashing import HashCost
from plans.models import ROLES, ApiToken, Team, TeamMembership, User
from plans.vocabulary import Channel

# argon2id at plans.hashing's cost (production: RFC 9106 "low memory", 64 MiB, 3
# passes). An unknown user is checked against a dummy hash of the same cost, so
# both paths take as long.
_DUMMY_PASSWORD = "not a real password: equalises timing"
_dummy_hashes: dict[HashCost, str] = {}


def _dummy_hash() -> str:
    cost = hashing.cost()
    if cost not in _dummy_hashes:
        _dummy_hashes[cost] = hashing.hasher().hash(_DUMMY_PASSWORD)
    return _dummy_hashes[cost]


TOKEN_PREFIX = "rsp_"
DEFAULT_TOKEN_LIFETIME = dt.timedelta(days=90)  # RESPONDER_API_TOKEN_LIFETIME_DAYS
MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    """A user or token request that cannot be carried out, in words."""


def normalise_email(email: str) -> str:
    """Return the canonical form of an email address for lookups."""
    return email.strip().lower()


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return hashing.hasher().hash(password)


def check_password_strength(password: str) -> None:
    """Refuse passwords that are too short (NCSC: length beats complexity)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")


def verify_password(user: User | None, password: str) -> bool:
    """Check a password against a user's hash, at the same cost for no user."""
    stored = user.password_hash if user is not None else None
    try:
        return (
            hashing.hasher().verify(stored or _dummy_hash(), password)
            and stored is not None
        )
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(user: User) -> bool:
    """Say whether the stored hash uses weaker parameters than today's."""
    return bool(user.password_hash) and hashing.hasher().check_needs_rehash(
        user.password_hash or ""
    )


def find_user(session: Session, email: str) -> User | None:
    """Return the user with this email address, if any."""
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    session: Session,
    email: str,
    *,
    role: str,
    password: str | None = None,
    display_name: str | None = None,
    organisation: str | None = None,
    team_codes: list[str] | tuple[str, ...] = (),
) -> User:
    """Create a user with a role and team memberships."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError(f"{email!r} is not an email address")
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if find_user(session, email) is not None:
        raise AccountError(f"a user with email {email} already exists")
    if password is not None:
        check_password_strength(password)
    user = User(
        email=email,
        role=role,
        display_name=display_name or email.split("@", 1)[0],
        organisation=organisation,
        password_hash=hash_password(password) if password is not None else None,
    )
    for code in team_codes:
        team = session.scalar(select(Team).where(Team.code == code))
        if team is None:
            raise AccountError(f"no team with code {code!r}")
        user.memberships.append(TeamMembership(team=team))
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Replace a user's password; its API tokens and chat links end with the old one."""
    check_password_strength(password)
    user.password_hash = hash_password(password)
    session = object_session(user)
    if session is not None and user.id is not None:
        end_credentials(session, user, why="password_changed")


def disable_user(user: User) -> None:
    """Disable an account; its sessions and tokens stop working at once."""
    user.active = False
    user.disabled_at = utcnow()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    session: Session,
    user: User,
    *,
    name: str = "api",
    lifetime: dt.timedelta = DEFAULT_TOKEN_LIFETIME,
) -> tuple[ApiToken, str]:
    """Create an API token; return the row and the token, shown only once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user=user,
        name=name[:100],
        digest=_digest(token),
        expires_at=utcnow() + lifetime,
    )
    session.add(row)
    session.flush()
    return row, token


def authenticate_token(session: Session, token: str) -> User | None:
    """Return the active user a bearer token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = _digest(token)
    row = session.scalar(select(ApiToken).where(ApiToken.digest == digest))
    if row is None or not hmac.compare_digest(row.digest, digest):
        return None
    now = utcnow()
    if row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
        return None
    if not row.user.active:
        return None
    return row.user


def revoke_token(row: ApiToken) -> None:
    """Revoke an API token."""
    row.revoked_at = utcnow()


# -- audited account actions: what the views and commands call ---------------------


def register_user(
    session: Session,
    email: str,
    *,
    role: str,
    channel: Channel,
    by: User | None = None,
    password: str | None = None,
    display_name: str | None = None,
    organisation: str | None = None,
    team_codes: list[str] | tuple[str, ...] = (),
) -> User:
    """Create a user (see create_user) and audit who created it."""
    user = create_user(
        session,
        email,
        role=role,
        password=password,
        display_name=display_name,
        organisation=organisation,
        team_codes=team_codes,
    )
    audit.record_for(
        session,
        by,
        action="user_created",
        channel=channel,
        detail={"target_user_id": user.id, "target_role": role},
    )
    return user


def issue_token(
    session: Session,
    user: User,
    *,
    channel: Channel,
    by: User | None = None,
    name: str = "api",
    lifetime: dt.timedelta = DEFAULT_TOKEN_LIFETIME,
) -> tuple[ApiToken, str]:
    """Create an API token for an active user, audited; the token is shown once."""
    if not user.active:
        raise AccountError(f"{user.email} is disabled")
    row, token = create_token(session, user, name=name, lifetime=lifetime)
    audit.record_for(
        session,
        by,
        action="token_created",
        channel=channel,
        detail={"target_user_id": user.id},
    )
    return row, token


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    """Return a user's API tokens, newest first, live and ended alike."""
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def token_is_live(row: ApiToken, *, now: dt.datetime | None = None) -> bool:
    """Say whether a token still authenticates (not revoked, not expired)."""
    now = now or utcnow()
    return row.revoked_at is None and (row.expires_at is None or row.expires_at > now)


def withdraw_token(
    session: Session, row: ApiToken, *, by: User | None, channel: Channel
) -> None:
    """Revoke one API token on request of its owner or an operator, audited.

    A signed-in user may revoke only their own tokens.
    """
    if by is not None and by.id != row.user_id:
        raise AccountError("that token is not yours")
    if row.revoked_at is not None:
        return
    revoke_token(row)
    audit.record_for(
        session,
        by,
        action="token_revoked",
        channel=channel,
        detail={"target_user_id": row.user_id, "count": 1, "why": "revoked"},
    )


def end_credentials(session: Session, user: User, *, why: str) -> int:
    """End every API token and chat link of a user; return how many ended.

    Called when the password changes, the second factors are reset or the
    account is disabled: whatever the old credentials let in must stop now, and
    a chat has to be linked again from a fresh sign-in.
    """
    from plans.chat import ChatLink

    now = utcnow()
    tokens = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")
    ).rowcount  # type: ignore[attr-defined]
    links = session.execute(
        update(ChatLink)
        .where(ChatLink.user_id == user.id, ChatLink.unlinked_at.is_(None))
        .values(unlinked_at=now, last_refs=[])
        .execution_options(synchronize_session="fetch")
    ).rowcount  # type: ignore[attr-defined]
    ended = int(tokens or 0) + int(links or 0)
    if ended:
        audit.record_for(
            session,
            user,
            action="credentials_ended",
            channel="system",
            detail={"target_user_id": user.id, "count": ended, "why": why},
        )
    return ended


def count_users(session: Session) -> int:
    """Return how many users exist."""
    return session.scalar(select(func.count()).select_from(User)) or 0


def reset_demo_accounts(
    session: Session,
    specs: tuple[tuple[str, str, str], ...],
    *,
    team_codes: list[str],
    password: Callable[[], str],
) -> list[tuple[str, str, str]]:
    """Create or reset one demo account per (role, name, organisation), audited.

    Return (role, email, password) for each, to print once. Development only:
    the CLI checks that before calling.
    """
    rows = []
    for role, name, organisation in specs:
        email = f"demo-{role.replace('_', '-')}@example.org"
        secret = password()
        user = find_user(session, email)
        if user is None:
            create_user(
                session,
                email,
                role=role,
                password=secret,
                display_name=name,
                organisation=organisation,
                team_codes=team_codes,
            )
        else:
            set_password(user, secret)
        rows.append((role, email, secret))
    audit.record(
        session, action="demo_accounts", channel="cli", detail={"count": len(rows)}
    )
    return rows


def disable_account(
    session: Session, target: User, *, by: User | None, channel: Channel
) -> int:
    """Disable an account and end its sessions, tokens and chats, audited.

    Return how many sign-in sessions ended.
    """
    from plans import sessions

    count = sessions.disable_account(session, target)
    audit.record_for(
        session,
        by,
        action="account_disabled",
        channel=channel,
        detail={"target_user_id": target.id, "target_role": target.role},
    )
    if count:
        audit.record_for(
            session,
            by,
            action="session_revoked",
            channel=channel,
            detail={"target_user_id": target.id, "count": count, "why": "disabled"},
        )
    return count


def reset_factors(
    session: Session, target: User, *, by: User | None, channel: Channel
) -> int:
    """Remove a user's second factors (they enrol again), audited; return the count."""
    from plans import sessions

    count = sessions.reset_second_factors(session, target)
    audit.record_for(
        session,
        by,
        action="factors_reset",
        channel=channel,
        detail={"target_user_id": target.id, "count": count},
    )
    return count


def sign_out_everywhere(
    session: Session, target: User, *, by: User | None, channel: Channel
) -> int:
    """End every sign-in session of a user on an operator's word, audited."""
    from plans import sessions

    count = sessions.revoke_user_sessions(session, target, reason="revoked_by_operator")
    audit.record_for(
        session,
        by,
        action="session_revoked",
        channel=channel,
        detail={"target_user_id": target.id, "count": count, "why": "operator"},
    )
    return count


# What happens at sign-in and on the account pages, as the audit log names it.
SignInEvent = Literal[
    "login_succeeded",
    "login_failed",
    "login_throttled",
    "logout",
    "mfa_failed",
    "mfa_throttled",
    "totp_enrolled",
    "recovery_codes_issued",
    "recovery_code_used",
    "passkey_added",
    "passkey_removed",
    "password_changed",
    "password_change_failed",
    "session_revoked",
]


def record_sign_in_event(
    session: Session,
    event: SignInEvent,
    user: User | None,
    *,
    ip_hash: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record one sign-in or account event in one shape: who, what, a hashed address."""
    audit.record_for(
        session,
        user,
        action=event,
        channel="web",
        detail={"ip_hash": ip_hash, **(detail or {})},
    )


def record_denial(session: Session, user: User, *, route: str, ip_hash: str) -> None:
    """Record that a signed-in user was refused a page (403)."""
    audit.record_for(
        session,
        user,
        action="access_denied",
        channel="web",
        detail={"route": route, "ip_hash": ip_hash},
    )
