"""Claim mapping, multi-factor assertions and account linking (plans.identity).

Pure functions get plain asserts; the domain functions run on a plain session.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import accounts, identity, rules
from plans.audit import AuditEvent
from plans.identity import ExternalIdentity, Provider, RoleGrant
from plans.models import Team

CIS2 = Provider.from_config(
    "cis2",
    {
        "issuer": "https://cis2.example/openam/oauth2/realms/root/realms/oidc",
        "client_id": "c",
        "private_key": {"kty": "RSA"},
        "mfa_acr": ["AAL3_ANY"],
        "mappings": [
            {
                "claim": "nhsid_nrbac_roles",
                "role_code": "R8000",
                "org_code": "RX1",
                "role": "lead_clinician",
                "teams": ["T1"],
            },
            {
                "claim": "nhsid_nrbac_roles",
                "role_code": "R8003",
                "role": "mentor",
                "teams": ["T1"],
            },
        ],
    },
)
ENTRA = Provider.from_config(
    "force",
    {
        "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
        "tenants": ["t-1"],
        "client_id": "c",
        "client_secret": "s",
        "mappings": [{"claim": "groups", "value": "g-police", "role": "police"}],
        "link_by_email": True,
    },
)


def nrbac(role_code: str, org: str = "RX1") -> dict[str, Any]:
    return {"nhsid_nrbac_roles": [{"org_code": org, "role_code": f"S1:G1:{role_code}"}]}


def test_cis2_roles_map_by_job_role_and_organisation() -> None:
    assert identity.map_claims(CIS2, nrbac("R8000")) == RoleGrant(
        "lead_clinician", ("T1",)
    )
    # R8000 elsewhere is not a lead clinician here; the R8003 line has no org.
    assert identity.map_claims(CIS2, nrbac("R8000", org="ZZ9")) is None
    assert identity.map_claims(CIS2, nrbac("R8003", org="ZZ9")) == RoleGrant(
        "mentor", ("T1",)
    )
    assert identity.map_claims(CIS2, nrbac("R80")) is None
    assert identity.map_claims(CIS2, {"nhsid_nrbac_roles": "R8000"}) is None
    assert identity.map_claims(CIS2, {}) is None


def test_entra_groups_map_by_object_id() -> None:
    assert identity.map_claims(ENTRA, {"groups": ["x", "g-police"]}) == RoleGrant(
        "police", ()
    )
    assert identity.map_claims(ENTRA, {"groups": ["g-police-2"]}) is None


@pytest.mark.parametrize(
    ("claims", "asserted"),
    [
        ({"amr": ["pwd", "mfa"]}, True),
        ({"amr": ["hwk"]}, True),
        ({"amr": ["pwd"]}, False),
        ({"amr": "mfa"}, False),
        ({}, False),
        ({"acr": "AAL3_ANY"}, True),
        ({"acr": "AAL1_USERPASS"}, False),
    ],
)
def test_only_a_multi_factor_claim_stands_in_for_ours(
    claims: dict[str, Any], asserted: bool
) -> None:
    assert identity.provider_asserts_mfa(CIS2, claims) is asserted


def test_entra_tenants_name_their_own_issuer() -> None:
    assert (
        ENTRA.expected_issuer({"tid": "t-1"})
        == "https://login.microsoftonline.com/t-1/v2.0"
    )
    with pytest.raises(identity.IdentityError) as refused:
        ENTRA.expected_issuer({"tid": "t-2"})
    assert refused.value.code == "tenant_not_allowed"
    assert identity.identity_subject(ENTRA, {"sub": "s", "tid": "t-1"}) == "t-1/s"
    assert identity.identity_subject(CIS2, {"sub": "s"}) == "s"


def test_a_trusted_provider_links_an_existing_account_by_email(
    session: Session,
) -> None:
    session.add(Team(code="T1", name="T1"))
    existing = accounts.create_user(session, "pc@force.example", role="police")
    outcome = identity.sign_in_with_provider(
        session,
        ENTRA,
        {"sub": "s", "tid": "t-1", "email": "PC@force.example", "groups": ["g-police"]},
        disabled_help="the desk",
    )
    assert outcome.user is existing and outcome.second_factor_owed
    assert accounts.count_users(session) == 1


def test_an_untrusted_provider_never_takes_over_an_account_by_email(
    session: Session,
) -> None:
    session.add(Team(code="T1", name="T1"))
    accounts.create_user(session, "mentor@nhs.example", role="privacy_officer")
    outcome = identity.sign_in_with_provider(
        session,
        CIS2,
        {
            "sub": "s",
            "email": "mentor@nhs.example",
            **nrbac("R8003"),
            "acr": "AAL3_ANY",
        },
        disabled_help="the desk",
    )
    assert outcome.status == "awaiting_approval" and outcome.user is None
    user = accounts.find_user(session, "mentor@nhs.example")
    assert user is not None and user.role == "privacy_officer"


def test_only_administrators_approve_sign_ins(session: Session) -> None:
    outcome = identity.sign_in_with_provider(
        session, ENTRA, {"sub": "s", "tid": "t-1", "groups": []}, disabled_help="x"
    )
    officer = accounts.create_user(session, "o@x.example", role="police")
    with pytest.raises(rules.NotAllowed):
        identity.approve_identity(
            session, outcome.identity, by=officer, channel="web", role="police"
        )
    user = identity.approve_identity(
        session, outcome.identity, by=None, channel="cli", role="police"
    )
    assert user.role == "police"
    assert session.scalar(select(ExternalIdentity.status)) == "linked"
    actions = list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    assert actions == ["sso_awaiting_approval", "sso_approved"]
