"""Users, passwords (argon2id) and API tokens (stored as SHA-256 digests)."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

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
# argon2 hashes any length, so nothing is ever cut short; the cap only stops a
# megabyte "password" costing a hash of a megabyte.
MAX_PASSWORD_LENGTH = 1024
# The 30,000 most common passwords of public leaks, ranked (from zxcvbn 4.5.0,
# MIT licence), one a line: checked offline, never over the network.
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt.gz"
# Words anyone would try first against this service.
SERVICE_WORDS = ("responder", "nhs", "crisis", "police", "ambulance")
_LEET = str.maketrans("@4310$5!7", "aaeiossit")
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
)


class AccountError(ValueError):
    """A user or token request that cannot be carried out, in words."""


def normalise_email(email: str) -> str:
    """Return the canonical form of an email address for lookups."""
    return email.strip().lower()


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


@functools.cache
def common_passwords() -> frozenset[str]:
    """Return the list of common and breached passwords, read once."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def _letters(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalpha())


def _is_repetitive(password: str) -> bool:
    """Say whether a password repeats a short unit ("aaaa", "abcabcabc")."""
    if len(set(password)) < 4:
        return True
    for size in range(1, len(password) // 2 + 1):
        unit = password[:size]
        if len(password) % size == 0 and unit * (len(password) // size) == password:
            return True
    return False


def _is_sequential(password: str) -> bool:
    """Say whether a password is a run of letters, digits or keyboard keys."""
    lowered = password.lower()
    for sequence in _SEQUENCES:
        doubled = sequence * (len(lowered) // len(sequence) + 2)
        if lowered in doubled or lowered in doubled[::-1]:
            return True
    return False


def _is_common(password: str) -> bool:
    """Say whether a password, or its core without decoration, is a common one."""
    common = common_passwords()
    lowered = password.lower()
    # "password1234", "Dragon!!2024": a common word dressed with digits/symbols.
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", lowered)
    candidates = {lowered, core, lowered.translate(_LEET), core.translate(_LEET)}
    return any(c in common for c in candidates if len(c) >= 4 or c == lowered)


def _is_personal(password: str, email: str | None, names: Iterable[str]) -> bool:
    """Say whether a password is built from the account's own details."""
    letters = _letters(password)
    lowered = password.lower()
    context: set[str] = set(SERVICE_WORDS)
    if email:
        email = normalise_email(email)
        if email in lowered:
            return True
        local, _, domain = email.partition("@")
        context.add(_letters(local))
        context.update(_letters(part) for part in re.split(r"[.\-_+]", local))
        context.add(_letters(domain.split(".")[0]))
    for name in names:
        context.add(_letters(name))
        context.update(_letters(part) for part in re.split(r"[\s.\-_']+", name))
    context = {word for word in context if len(word) >= 4}
    if not letters:
        return False
    # The password is one of those words, or mostly made of one.
    return any(
        letters == word or (word in letters and len(word) * 2 >= len(letters))
        for word in context
    )


def check_password_strength(
    password: str, *, email: str | None = None, names: Iterable[str] = ()
) -> None:
    """Refuse passwords an attacker would try first (NIST SP 800-63B, NCSC).

    Length beats complexity, so there are no composition rules; instead the
    password is checked against common and breached passwords, the account's own
    email and name, and repetitive or sequential strings.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(
            f"passwords can be at most {MAX_PASSWORD_LENGTH} characters; "
            "nothing was cut short"
        )
    if _is_repetitive(password) or _is_sequential(password):
        raise AccountError(
            "that password is a repeated or sequential pattern; choose "
            "a few unrelated words"
        )
    if _is_common(password):
        raise AccountError(
            "that password is too common: it appears in lists of leaked passwords"
        )
    if _is_personal(password, email, names):
        raise AccountError(
            "that password is made from your own details or the service's name"
        )


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
        check_password_strength(
            password, email=email, names=(display_name or email.split("@", 1)[0],)
        )
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
    """Replace a user's password, if it passes the strength checks."""
    check_password_strength(password, email=user.email, names=(user.display_name,))
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
