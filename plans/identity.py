"""Single sign-on: what an OpenID provider's verified claims let someone do here.

Staff sign in where they already are: NHS staff through Care Identity Service 2
(national RBAC roles in `nhsid_nrbac_roles`), police officers through their
force's Microsoft Entra ID tenant (group object ids in `groups`). The Flask glue in
`responder/sso.py` runs the OpenID Connect code flow and checks the ID token; this
module decides, from claims that were already verified, which account signs in,
with which role and teams, and whether our own second factor is still owed.

The decisions are pure functions (`map_claims`, `provider_asserts_mfa`,
`identity_subject`); the domain functions (`sign_in_with_provider`,
`approve_identity`, `decline_identity`) apply them to the database and write the
audit rows. No Flask, no network.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from plans import audit, rules
from plans.db import Base, utcnow
from plans.models import ROLES, Person, Team, TeamMembership, User
from plans.vocabulary import Channel

# Provider names travel in session methods ("sso:cis2", 20 characters at most).
PROVIDER_NAME = re.compile(r"^[a-z][a-z0-9-]{0,14}$")
# What a provider's `amr` says when more than one factor was used (RFC 8176).
DEFAULT_MFA_AMR = ("mfa", "hwk", "sc", "otp", "swk", "fido")

IdentityStatus = Literal["linked", "awaiting_approval", "declined"]


class IdentityError(ValueError):
    """A sign-in or an approval that cannot go ahead, in words a user can act on."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


# -- configuration ---------------------------------------------------------------


@dataclass(frozen=True)
class ClaimRule:
    """One line of a provider's mapping: claims that, present, give a role and teams.

    `claim` names the claim. For CIS2's `nhsid_nrbac_roles` (a list of role
    objects) `role_code` matches the job role code at the end of an entry's
    `role_code` ("S8000:G8000:R8001" matches "R8001"), and `org_code`, when given,
    its organisation (ODS code). For any other claim `value` must equal the claim
    or be one of its elements (Entra `groups`, `roles`).
    """

    claim: str
    role: str
    value: str | None = None
    role_code: str | None = None
    org_code: str | None = None
    teams: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, raw: Mapping[str, Any]) -> ClaimRule:
        """Read one mapping line from configuration, refusing unknown keys and roles."""
        known = {"claim", "role", "value", "role_code", "org_code", "teams"}
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown mapping keys {sorted(unknown)}")
        role = str(raw.get("role", ""))
        if role not in ROLES:
            raise ValueError(f"mapping role {role!r} is not one of {', '.join(ROLES)}")
        claim = str(raw.get("claim", ""))
        if not claim:
            raise ValueError("a mapping line needs the claim it reads")
        rule = cls(
            claim=claim,
            role=role,
            value=_opt(raw.get("value")),
            role_code=_opt(raw.get("role_code")),
            org_code=_opt(raw.get("org_code")),
            teams=tuple(str(t) for t in raw.get("teams", ())),
        )
        if rule.value is None and rule.role_code is None:
            raise ValueError(f"mapping for {claim!r} needs a value or a role_code")
        return rule


def _opt(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


@dataclass(frozen=True)
class Provider:
    """A configured OpenID provider (see docs/deploy.md for each field)."""

    name: str
    label: str
    client_id: str
    # Either a fixed issuer, or a template with {tenantid} plus an allowlist of
    # tenants (Entra's multi-tenant "organizations" endpoint).
    issuer: str
    tenants: tuple[str, ...] = ()
    discovery_url: str | None = None
    client_secret: str | None = None
    # A private JWK (dict) for private_key_jwt; CIS2 requires it.
    private_key: Mapping[str, Any] | None = None
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    mfa_amr: tuple[str, ...] = DEFAULT_MFA_AMR
    mfa_acr: tuple[str, ...] = ()
    mappings: tuple[ClaimRule, ...] = ()
    # Link a first sign-in to an existing account with the same email address.
    # Only for providers whose email addresses the organisation itself issues.
    link_by_email: bool = False
    purpose: Literal["staff", "person"] = "staff"
    # NHS login: the identity proofing level that must be reached ("P9").
    required_identity_level: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def method(self) -> str:
        """Return how a session opened through this provider is recorded."""
        return f"sso:{self.name}"

    @property
    def multi_tenant(self) -> bool:
        """Say whether the issuer depends on the signing-in user's tenant."""
        return "{tenantid}" in self.issuer

    @property
    def client_auth(self) -> str:
        """Return the token endpoint's client authentication method."""
        return "private_key_jwt" if self.private_key else "client_secret_post"

    def expected_issuer(self, claims: Mapping[str, Any]) -> str:
        """Return the issuer the ID token must name, refusing an unlisted tenant."""
        if not self.multi_tenant:
            return self.issuer
        tenant = claims.get("tid")
        if not isinstance(tenant, str) or tenant not in self.tenants:
            raise IdentityError(
                "Your organisation is not set up to use this service.",
                code="tenant_not_allowed",
            )
        return self.issuer.replace("{tenantid}", tenant)

    @classmethod
    def from_config(cls, name: str, raw: Mapping[str, Any]) -> Provider:
        """Read one provider from configuration (a dict), naming every problem."""
        problems = []
        if not PROVIDER_NAME.match(name):
            problems.append(f"provider name {name!r}: lower-case, up to 15 characters")
        for key in ("issuer", "client_id"):
            if not raw.get(key):
                problems.append(f"provider {name}: {key} is required")
        if not raw.get("client_secret") and not raw.get("private_key"):
            problems.append(f"provider {name}: needs private_key or client_secret")
        issuer = str(raw.get("issuer", ""))
        tenants = tuple(str(t) for t in raw.get("tenants", ()))
        if "{tenantid}" in issuer and not tenants:
            problems.append(f"provider {name}: a multi-tenant issuer needs tenants")
        mappings = []
        for index, line in enumerate(raw.get("mappings", ()), start=1):
            try:
                mappings.append(ClaimRule.from_config(line))
            except ValueError as error:
                problems.append(f"provider {name}, mapping {index}: {error}")
        purpose = raw.get("purpose", "staff")
        if purpose not in ("staff", "person"):
            problems.append(f"provider {name}: purpose is staff or person")
        if problems:
            raise ValueError("; ".join(problems))
        return cls(
            name=name,
            label=str(raw.get("label", name)),
            client_id=str(raw["client_id"]),
            issuer=issuer,
            tenants=tenants,
            discovery_url=_opt(raw.get("discovery_url")),
            client_secret=_opt(raw.get("client_secret")),
            private_key=raw.get("private_key"),
            scopes=tuple(raw.get("scopes", cls.scopes)),
            mfa_amr=tuple(raw.get("mfa_amr", DEFAULT_MFA_AMR)),
            mfa_acr=tuple(raw.get("mfa_acr", ())),
            mappings=tuple(mappings),
            link_by_email=bool(raw.get("link_by_email", False)),
            purpose=purpose,
            required_identity_level=_opt(raw.get("required_identity_level")),
        )


def providers_from_config(raw: Mapping[str, Any] | None) -> dict[str, Provider]:
    """Read every configured provider; raise ValueError naming every problem."""
    providers = {}
    problems = []
    for name, settings in (raw or {}).items():
        try:
            providers[name] = Provider.from_config(name, settings)
        except ValueError as error:
            problems.append(str(error))
    if problems:
        raise ValueError("; ".join(problems))
    return providers


# -- pure decisions ----------------------------------------------------------------


@dataclass(frozen=True)
class RoleGrant:
    """What the claims give: a role and the codes of the teams."""

    role: str
    teams: tuple[str, ...]


def _nrbac_matches(rule: ClaimRule, entries: object) -> bool:
    if not isinstance(entries, list):
        return False
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        codes = str(entry.get("role_code", "")).split(":")
        if rule.role_code not in codes:
            continue
        if rule.org_code and entry.get("org_code") != rule.org_code:
            continue
        return True
    return False


def map_claims(provider: Provider, claims: Mapping[str, Any]) -> RoleGrant | None:
    """Return the role and teams the first matching mapping line gives, or None.

    Lines are tried in the order configured, so list the narrower (or the more
    privileged) line first.
    """
    for rule in provider.mappings:
        present = claims.get(rule.claim)
        if rule.role_code is not None:
            matched = _nrbac_matches(rule, present)
        elif isinstance(present, list):
            matched = rule.value in [str(v) for v in present]
        else:
            matched = present is not None and str(present) == rule.value
        if matched:
            return RoleGrant(role=rule.role, teams=rule.teams)
    return None


def provider_asserts_mfa(provider: Provider, claims: Mapping[str, Any]) -> bool:
    """Say whether the ID token says more than one factor was used.

    `amr` (RFC 8176) naming a multi-factor method, or an `acr` the provider is
    configured to trust (CIS2's "AAL3_ANY", an Entra policy), stands in for our
    own second factor; anything else leaves ours owed.
    """
    amr = claims.get("amr")
    if isinstance(amr, list) and set(map(str, amr)) & set(provider.mfa_amr):
        return True
    acr = claims.get("acr")
    return isinstance(acr, str) and acr in provider.mfa_acr


def identity_subject(provider: Provider, claims: Mapping[str, Any]) -> str:
    """Return the stable key of an identity at its provider.

    Entra's `sub` is per application; with several tenants the tenant id keeps
    two tenants' subjects apart.
    """
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 200:
        raise IdentityError("The sign-in did not say who you are.", code="no_subject")
    if provider.multi_tenant:
        return f"{claims.get('tid')}/{subject}"
    return subject


def _claimed_email(claims: Mapping[str, Any]) -> str | None:
    for key in ("email", "preferred_username", "upn"):
        value = claims.get(key)
        if isinstance(value, str) and "@" in value and len(value) <= 254:
            return value.strip().lower()
    return None


def _claimed_name(claims: Mapping[str, Any]) -> str:
    name = claims.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()[:200]
    parts = [claims.get("given_name"), claims.get("family_name")]
    joined = " ".join(p for p in parts if isinstance(p, str)).strip()
    return joined[:200] or "Unnamed"


# -- the ID token --------------------------------------------------------------------

ID_TOKEN_ALGORITHMS = ("RS256", "PS256", "ES256")
CLOCK_LEEWAY = 60  # seconds: the provider's clock and ours may differ a little


def verify_id_token(
    provider: Provider,
    id_token: str,
    jwks: Mapping[str, Any],
    *,
    nonce: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """Return the claims of an ID token whose signature, iss, aud, exp and nonce hold.

    Raise IdentityError naming what failed. The keys are the provider's published
    JSON Web Key Set, passed in: this module fetches nothing.
    """
    from joserfc import jwt
    from joserfc.errors import ExpiredTokenError, JoseError
    from joserfc.jwk import KeySet

    try:
        keys = KeySet.import_key_set(dict(jwks))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise IdentityError(
            "The sign-in service's keys could not be read.", code="bad_keys"
        ) from error
    try:
        token = jwt.decode(id_token, keys, algorithms=list(ID_TOKEN_ALGORITHMS))
    except (JoseError, ValueError, TypeError) as error:
        raise IdentityError(
            "The sign-in could not be checked.", code="bad_signature"
        ) from error
    claims = dict(token.claims)
    issuer = provider.expected_issuer(claims)
    registry = jwt.JWTClaimsRegistry(
        now=int(now.timestamp()),
        leeway=CLOCK_LEEWAY,
        iss={"essential": True, "value": issuer},
        sub={"essential": True},
        aud={"essential": True, "value": provider.client_id},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(claims)
    except JoseError as error:
        field_name = getattr(error, "claim", "") or ""
        code = {
            "iss": "wrong_issuer",
            "aud": "wrong_audience",
            "exp": "expired",
            "nonce": "wrong_nonce",
        }.get(field_name, "bad_claims")
        if isinstance(error, ExpiredTokenError):
            code = "expired"
        raise IdentityError("The sign-in could not be checked.", code=code) from error
    audience = claims.get("aud")
    if isinstance(audience, list) and len(audience) > 1:
        # Several audiences: the token must say it was issued to us (OIDC 3.1.3.7).
        if claims.get("azp") != provider.client_id:
            raise IdentityError(
                "The sign-in could not be checked.", code="wrong_audience"
            )
    return claims


# -- tables ------------------------------------------------------------------------


class ExternalIdentity(Base):
    """An account at an OpenID provider, linked to one of ours or awaiting approval."""

    __tablename__ = "external_identities"
    __table_args__ = (
        UniqueConstraint("provider", "subject", name="uq_external_identities_subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(15))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    # Managed by claims: the role and teams follow the provider at each sign-in.
    managed_by_claims: Mapped[bool] = mapped_column(default=False)
    email: Mapped[str | None] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])


# -- domain functions ----------------------------------------------------------------


@dataclass(frozen=True)
class SignInOutcome:
    """What a verified sign-in at a provider leads to."""

    status: Literal["signed_in", "awaiting_approval"]
    user: User | None
    second_factor_owed: bool
    identity: ExternalIdentity


def _organisation(claims: Mapping[str, Any]) -> str | None:
    entries = claims.get("nhsid_nrbac_roles")
    if isinstance(entries, list) and entries and isinstance(entries[0], Mapping):
        code = entries[0].get("org_code")
        return str(code)[:200] if code else None
    tenant = claims.get("tid")
    return f"Entra tenant {tenant}"[:200] if isinstance(tenant, str) else None


def _set_teams(session: Session, user: User, codes: Iterable[str]) -> None:
    wanted = set(codes)
    teams = list(session.scalars(select(Team).where(Team.code.in_(wanted))))
    missing = wanted - {t.code for t in teams}
    if missing:
        raise IdentityError(
            "This service is not set up for your team yet; please tell the "
            "administrator.",
            code="unknown_team",
        )
    keep = [m for m in user.memberships if m.team.code in wanted]
    have = {m.team.code for m in keep}
    user.memberships = keep + [
        TeamMembership(team=t) for t in teams if t.code not in have
    ]


def _refuse(
    session: Session, provider: Provider, code: str, message: str, user: User | None
) -> IdentityError:
    audit.record_for(
        session,
        user,
        action="sso_refused",
        channel="web",
        detail={"method": provider.method, "reason_code": code},
    )
    return IdentityError(message, code=code)


def record_refusal(session: Session, provider: Provider, code: str) -> None:
    """Audit a sign-in the provider's answer did not pass (bad token, wrong nonce)."""
    audit.record(
        session,
        action="sso_refused",
        channel="web",
        detail={"method": provider.method, "reason_code": code[:40]},
    )


def sign_in_with_provider(
    session: Session,
    provider: Provider,
    claims: Mapping[str, Any],
    *,
    disabled_help: str,
) -> SignInOutcome:
    """Decide who signs in from an ID token's verified claims, audited.

    A known identity signs in to its account; a mapped first sign-in creates the
    account (or links one with the same email, if the provider is trusted for
    that); an unmapped first sign-in waits for an administrator's approval.
    Raise IdentityError (and audit the refusal) for a disabled account, a
    declined identity or an identity whose claims no longer map.
    """
    if provider.purpose != "staff":
        raise IdentityError("This provider is not for staff.", code="wrong_purpose")
    subject = identity_subject(provider, claims)
    mapped = map_claims(provider, claims)
    now = utcnow()
    identity = session.scalar(
        select(ExternalIdentity)
        .where(
            ExternalIdentity.provider == provider.name,
            ExternalIdentity.subject == subject,
        )
        .with_for_update()
    )
    email = _claimed_email(claims)
    if identity is None:
        identity = ExternalIdentity(
            provider=provider.name,
            subject=subject,
            status="awaiting_approval",
            email=email,
            display_name=_claimed_name(claims),
            organisation=_organisation(claims),
        )
        session.add(identity)
        if mapped is not None:
            _link_first_sign_in(session, provider, identity, mapped, email)
        session.flush()
        if identity.status == "awaiting_approval":
            audit.record(
                session,
                action="sso_awaiting_approval",
                channel="web",
                detail={"method": provider.method},
            )
    identity.last_seen_at = now
    if identity.status == "declined":
        raise _refuse(
            session,
            provider,
            "declined",
            "An administrator declined access for this sign-in.",
            None,
        )
    if identity.status == "awaiting_approval":
        return SignInOutcome("awaiting_approval", None, False, identity)
    user = identity.user
    assert user is not None
    if not user.active:
        who = disabled_help
        from plans.accounts import whom_to_ask

        who = whom_to_ask(session, user, fallback=disabled_help)
        raise _refuse(
            session,
            provider,
            "inactive",
            f"Your account is disabled. Please ask {who} to enable it.",
            user,
        )
    if identity.managed_by_claims:
        if mapped is None:
            raise _refuse(
                session,
                provider,
                "unmapped",
                "Your role at your organisation no longer gives access to this "
                "service. Ask your administrator if that is wrong.",
                user,
            )
        user.role = mapped.role
        _set_teams(session, user, mapped.teams)
    return SignInOutcome(
        "signed_in", user, not provider_asserts_mfa(provider, claims), identity
    )


def _link_first_sign_in(
    session: Session,
    provider: Provider,
    identity: ExternalIdentity,
    mapped: RoleGrant,
    email: str | None,
) -> None:
    """Link a mapped first sign-in: to the account with its email, or a new one."""
    from plans import accounts

    user = None
    if provider.link_by_email and email:
        candidate = accounts.find_user(session, email)
        already = candidate is not None and session.scalar(
            select(ExternalIdentity.id).where(
                ExternalIdentity.user_id == candidate.id,
                ExternalIdentity.provider == provider.name,
            )
        )
        if candidate is not None and not already:
            user = candidate
    if user is None:
        address = email or f"{provider.name}.{identity.subject}@sso.invalid"
        if accounts.find_user(session, address) is not None:
            # Same address, no trust to link by it: an administrator decides.
            return
        user = accounts.create_user(
            session,
            address[:254],
            role=mapped.role,
            display_name=identity.display_name,
            organisation=identity.organisation,
        )
        audit.record(
            session,
            action="user_created",
            channel="web",
            detail={
                "target_user_id": user.id,
                "target_role": mapped.role,
                "method": provider.method,
            },
        )
    user.role = mapped.role
    _set_teams(session, user, mapped.teams)
    identity.user = user
    identity.status = "linked"
    identity.managed_by_claims = True


def _require_user_manager(by: User | None, channel: Channel) -> None:
    if channel == "cli" and by is None:
        return
    rules.require(by, channel, "manage_users")


def awaiting_approval(
    session: Session, *, by: User | None, channel: Channel
) -> list[ExternalIdentity]:
    """Return first sign-ins that wait for an administrator, oldest first."""
    _require_user_manager(by, channel)
    return list(
        session.scalars(
            select(ExternalIdentity)
            .where(ExternalIdentity.status == "awaiting_approval")
            .order_by(ExternalIdentity.created_at, ExternalIdentity.id)
        )
    )


def approve_identity(
    session: Session,
    identity: ExternalIdentity,
    *,
    by: User | None,
    channel: Channel,
    role: str,
    team_codes: Sequence[str] = (),
) -> User:
    """Give a waiting sign-in an account with a role and teams, audited.

    The administrator, not the provider's claims, then manages its role.
    """
    from plans import accounts

    _require_user_manager(by, channel)
    if identity.status != "awaiting_approval":
        raise IdentityError("That sign-in is not waiting for approval.", code="state")
    if role not in ROLES:
        raise IdentityError(f"Choose a role: {', '.join(ROLES)}.", code="role")
    address = identity.email or f"{identity.provider}.{identity.id}@sso.invalid"
    user = accounts.find_user(session, address)
    if user is None:
        try:
            user = accounts.create_user(
                session,
                address,
                role=role,
                display_name=identity.display_name,
                organisation=identity.organisation,
                team_codes=list(team_codes),
            )
        except accounts.AccountError as error:
            raise IdentityError(str(error).capitalize() + ".", code="account") from None
    else:
        user.role = role
        _set_teams(session, user, team_codes)
    identity.user = user
    identity.status = "linked"
    identity.managed_by_claims = False
    identity.decided_by_id = by.id if by is not None else None
    session.flush()
    audit.record_for(
        session,
        by,
        action="sso_approved",
        channel=channel,
        detail={"target_user_id": user.id, "target_role": role},
    )
    return user


def decline_identity(
    session: Session, identity: ExternalIdentity, *, by: User | None, channel: Channel
) -> None:
    """Refuse a waiting sign-in; it is refused at every later attempt, audited."""
    _require_user_manager(by, channel)
    if identity.status != "awaiting_approval":
        raise IdentityError("That sign-in is not waiting for approval.", code="state")
    identity.status = "declined"
    identity.decided_by_id = by.id if by is not None else None
    audit.record_for(
        session,
        by,
        action="sso_declined",
        channel=channel,
        detail={"method": f"sso:{identity.provider}"},
    )


# -- the person through NHS login ------------------------------------------------

NHS_NUMBER = re.compile(r"^[0-9]{10}$")


def nhs_number_is_valid(number: str) -> bool:
    """Say whether a string is a ten-digit NHS number with a right check digit."""
    if not NHS_NUMBER.match(number):
        return False
    total = sum(int(d) * (10 - i) for i, d in enumerate(number[:9]))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(number[9])


# Finds the person whose plan carries this NHS number; None when no plan does.
PersonMatcher = Callable[[Session, str], Person | None]


def match_by_nhs_number(session: Session, nhs_number: str) -> Person | None:
    """Return the person recorded with this NHS number, once people carry one.

    The NHS number column comes with the standards work (issue 16); until it is
    there nobody matches, so NHS login finds no one and stays safe to turn on.
    """
    column: Any = getattr(Person, "nhs_number", None)
    if column is None:
        return None
    return session.scalar(select(Person).where(column == nhs_number))


def person_for_nhs_login(
    session: Session,
    provider: Provider,
    claims: Mapping[str, Any],
    *,
    find_person: PersonMatcher = match_by_nhs_number,
) -> Person:
    """Return the person a verified NHS login (P9) proves to be, or refuse, audited.

    Only a fully verified identity (P9) carries an NHS number we may rely on; the
    number must be well formed and belong to exactly the person whose plan it is.
    """
    if provider.purpose != "person":
        raise IdentityError("This provider is not for people.", code="wrong_purpose")
    if claims.get("identity_proofing_level") != "P9":
        raise _refuse(
            session,
            provider,
            "identity_level",
            "Your NHS login needs to be fully verified to see your plan here. "
            "Please use your card and PIN.",
            None,
        )
    number = str(claims.get("nhs_number", "")).replace(" ", "")
    if not nhs_number_is_valid(number):
        raise _refuse(
            session,
            provider,
            "no_nhs_number",
            "Your NHS login did not give an NHS number. Please use your card and PIN.",
            None,
        )
    person = find_person(session, number)
    if person is None:
        raise _refuse(
            session,
            provider,
            "no_plan",
            "We could not find a plan for you. Please use your card and PIN, or "
            "ask your team.",
            None,
        )
    return person


def linked_providers(session: Session, user_ids: list[int]) -> dict[int, list[str]]:
    """Return the names of the providers linked to each of these users, by id."""
    if not user_ids:
        return {}
    out: dict[int, list[str]] = {}
    rows = session.execute(
        select(ExternalIdentity.user_id, ExternalIdentity.provider)
        .where(
            ExternalIdentity.user_id.in_(user_ids),
            ExternalIdentity.status == "linked",
        )
        .order_by(ExternalIdentity.provider)
    )
    for user_id, provider in rows:
        if user_id is not None:
            out.setdefault(user_id, []).append(provider)
    return out
