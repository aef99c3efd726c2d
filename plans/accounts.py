"""Users, passwords (argon2id) and API tokens (stored as SHA-256 digests)."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, object_session

from plans import audit, hashing, rules
from plans.db import utcnow
from plans.hashing import HashCost, sha256_hex
from plans.models import ROLES, ApiToken, Team, TeamMembership, User
from plans.vocabulary import Channel, SignInEvent

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
    return hashing.hasher().hash(password)


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
    """Replace a user's password; its API tokens and chat links end with the old one."""
    check_password_strength(password, email=user.email, names=(user.display_name,))
    user.password_hash = hash_password(password)
    session = object_session(user)
    if session is not None and user.id is not None:
        end_credentials(session, user, why="password_changed")


def disable_user(user: User) -> None:
    """Disable an account; its sessions and tokens stop working at once."""
    user.active = False
    user.disabled_at = utcnow()


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
        digest=sha256_hex(token),
        expires_at=utcnow() + lifetime,
    )
    session.add(row)
    session.flush()
    return row, token


def authenticate_token(session: Session, token: str) -> User | None:
    """Return the active user a bearer token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    digest = sha256_hex(token)
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


DISABLE_REASON_MAX = 200
# Whom a locked-out user is told to ask when no administrator is on record.
DEFAULT_ACCOUNT_HELP = "your organisation's Responder administrator"


def _require_user_manager(by: User | None, channel: Channel) -> None:
    """Refuse unless `by` may manage users here; the CLI is the operator's shell."""
    if channel == "cli" and by is None:
        return
    rules.require(by, channel, "manage_users")


def disable_account(
    session: Session,
    target: User,
    *,
    by: User | None,
    channel: Channel,
    reason: str,
) -> int:
    """Disable an account for a stated reason and end its sessions, tokens and chats.

    Return how many sign-in sessions ended. An administrator cannot disable their
    own account: nobody would be left to open the door again.
    """
    from plans.signin import sessions

    _require_user_manager(by, channel)
    reason = " ".join(reason.split())
    if not reason:
        raise AccountError("say why the account is being disabled")
    if len(reason) > DISABLE_REASON_MAX:
        raise AccountError(
            f"keep the reason under {DISABLE_REASON_MAX} characters; "
            "nothing was changed"
        )
    if by is not None and by.id == target.id:
        raise AccountError("you cannot disable your own account")
    if not target.active:
        raise AccountError(f"{target.email} is already disabled")
    count = sessions.disable_account(session, target)
    target.disabled_reason = reason
    target.disabled_by_id = by.id if by is not None else None
    audit.record_for(
        session,
        by,
        action="account_disabled",
        channel=channel,
        detail={
            "target_user_id": target.id,
            "target_role": target.role,
            "why": reason,
        },
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


def enable_account(
    session: Session, target: User, *, by: User | None, channel: Channel
) -> None:
    """Let a disabled account sign in again (its second factors stay), audited."""
    _require_user_manager(by, channel)
    if target.active:
        raise AccountError(f"{target.email} is not disabled")
    target.active = True
    target.disabled_at = None
    target.disabled_reason = None
    target.disabled_by_id = None
    audit.record_for(
        session,
        by,
        action="account_enabled",
        channel=channel,
        detail={"target_user_id": target.id, "target_role": target.role},
    )


def whom_to_ask(session: Session, user: User, *, fallback: str) -> str:
    """Name who can re-enable a disabled account: who disabled it, else `fallback`."""
    if user.disabled_by_id is not None:
        admin = session.get(User, user.disabled_by_id)
        if admin is not None and admin.active:
            where = f", {admin.organisation}" if admin.organisation else ""
            return f"{admin.display_name}{where} ({admin.email})"
    return fallback


def add_user(
    session: Session,
    email: str,
    *,
    by: User | None,
    channel: Channel,
    role: str,
    display_name: str | None = None,
    organisation: str | None = None,
    team_codes: list[str] | tuple[str, ...] = (),
    password: str | None = None,
) -> User:
    """Create an account on an administrator's word (web or CLI), audited."""
    _require_user_manager(by, channel)
    return register_user(
        session,
        email,
        role=role,
        channel=channel,
        by=by,
        password=password,
        display_name=display_name,
        organisation=organisation,
        team_codes=team_codes,
    )


@dataclass(frozen=True)
class AccountSummary:
    """One account as an administrator's list shows it."""

    user: User
    state: Literal["active", "disabled"]
    sign_in_methods: tuple[str, ...]
    last_sign_in_at: dt.datetime | None
    last_sign_in_method: str | None


def list_accounts(
    session: Session,
    *,
    by: User | None,
    channel: Channel,
    include_disabled: bool = True,
) -> list[AccountSummary]:
    """Return every account with how it signs in and when it last did."""
    from plans.signin import second_factors, sessions

    _require_user_manager(by, channel)
    query = select(User).order_by(User.active.desc(), User.display_name, User.email)
    if not include_disabled:
        query = query.where(User.active.is_(True))
    users = list(session.scalars(query))
    last_methods = sessions.last_sign_in_methods(session, [u.id for u in users])
    linked = _linked_providers(session, [u.id for u in users])
    out = []
    for user in users:
        methods: list[str] = []
        methods.extend(linked.get(user.id, ()))
        if user.password_hash:
            factors = second_factors.second_factor_methods(session, user)
            methods.append(
                "password + " + " or ".join(factors) if factors else "password"
            )
        out.append(
            AccountSummary(
                user=user,
                state="active" if user.active else "disabled",
                sign_in_methods=tuple(methods),
                last_sign_in_at=user.last_login_at,
                last_sign_in_method=last_methods.get(user.id),
            )
        )
    return out


def _linked_providers(session: Session, user_ids: list[int]) -> dict[int, list[str]]:
    """Return the single sign-on providers linked to each user, by id."""
    from plans.identity import linked_providers

    return linked_providers(session, user_ids)


def reset_factors(
    session: Session, target: User, *, by: User | None, channel: Channel
) -> int:
    """Remove a user's second factors (they enrol again), audited; return the count."""
    from plans.signin import second_factors

    _require_user_manager(by, channel)
    count = second_factors.reset_second_factors(session, target)
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
    from plans.signin import sessions

    count = sessions.revoke_user_sessions(session, target, reason="revoked_by_operator")
    audit.record_for(
        session,
        by,
        action="session_revoked",
        channel=channel,
        detail={"target_user_id": target.id, "count": count, "why": "operator"},
    )
    return count


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
