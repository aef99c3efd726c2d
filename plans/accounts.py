"""Users, passwords (argon2id) and API tokens (stored as SHA-256 digests)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plans.db import utcnow
from plans.models import ROLES, ApiToken, Team, TeamMembership, User

# argon2id with the library's RFC 9106 "low memory" profile: 64 MiB, 3 passes.
_hasher = PasswordHasher()
# Verified against when the user is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash("not a real password: equalises timing")

TOKEN_PREFIX = "rsp_"
MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    """A user or token request that cannot be carried out, in words."""


def normalise_email(email: str) -> str:
    """Return the canonical form of an email address for lookups."""
    return email.strip().lower()


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    """Refuse passwords that are too short (NCSC: length beats complexity)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")


def verify_password(user: User | None, password: str) -> bool:
    """Check a password against a user's hash, at the same cost for no user."""
    stored = user.password_hash if user is not None else None
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(user: User) -> bool:
    """Say whether the stored hash uses weaker parameters than today's."""
    return bool(user.password_hash) and _hasher.check_needs_rehash(
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
    """Replace a user's password."""
    check_password_strength(password)
    user.password_hash = hash_password(password)


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
    lifetime: dt.timedelta | None = None,
) -> tuple[ApiToken, str]:
    """Create an API token; return the row and the token, shown only once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user=user,
        name=name,
        digest=_digest(token),
        expires_at=utcnow() + lifetime if lifetime else None,
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


def count_users(session: Session) -> int:
    """Return how many users exist."""
    return session.scalar(select(func.count()).select_from(User)) or 0
