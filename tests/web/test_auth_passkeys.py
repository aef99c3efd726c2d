"""Passkeys through the pages, with a software authenticator standing in for a phone.

`SoftAuthenticator` builds real WebAuthn responses (ES256 keys, "none" attestation,
CBOR) so the server's checks run unmodified: challenge, origin, RP ID, user
verification and signature.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import accounts
from plans.audit import AuditEvent
from plans.models import Team
from plans.signin import passkeys
from tests.conftest import TEST_PASSWORD, AuthActions

ORIGIN = "http://localhost"
RP_ID = "localhost"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftCredential:
    """One credential held by the software authenticator."""

    credential_id: bytes
    key: ec.EllipticCurvePrivateKey
    user_handle: bytes
    rp_id: str
    sign_count: int = 0


@dataclass
class SoftAuthenticator:
    """A platform authenticator in software that does user verification."""

    origin: str = ORIGIN
    verifies_user: bool = True
    credentials: list[SoftCredential] = field(default_factory=list)

    def _flags(self, attested: bool) -> int:
        flags = 0x01 | (0x04 if self.verifies_user else 0)  # UP, UV
        return flags | (0x40 if attested else 0)  # AT

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        """Answer navigator.credentials.create() for these options."""
        rp_id = options["rp"]["id"]
        key = ec.generate_private_key(ec.SECP256R1())
        numbers = key.public_key().public_numbers()
        cose = {
            1: 2,
            3: -7,
            -1: 1,
            -2: numbers.x.to_bytes(32, "big"),
            -3: numbers.y.to_bytes(32, "big"),
        }
        credential_id = secrets.token_bytes(32)
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([self._flags(attested=True)])
            + struct.pack(">I", 0)
            + bytes(16)
            + struct.pack(">H", len(credential_id))
            + credential_id
            + cbor2.dumps(cose)
        )
        client_data = json.dumps(
            {
                "type": "webauthn.create",
                "challenge": options["challenge"],
                "origin": self.origin,
                "crossOrigin": False,
            }
        ).encode()
        self.credentials.append(
            SoftCredential(
                credential_id, key, unb64(options["user"]["id"]), rp_id=rp_id
            )
        )
        return {
            "id": b64(credential_id),
            "rawId": b64(credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(client_data),
                "attestationObject": b64(
                    cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
                ),
                "transports": ["internal"],
            },
        }

    def get(
        self, options: dict[str, Any], credential: SoftCredential | None = None
    ) -> dict[str, Any]:
        """Answer navigator.credentials.get() with the first matching credential."""
        allowed = {unb64(c["id"]) for c in options.get("allowCredentials") or []}
        if credential is None:
            credential = next(
                c
                for c in self.credentials
                if c.rp_id == options["rpId"]
                and (not allowed or c.credential_id in allowed)
            )
        credential.sign_count += 1
        auth_data = (
            hashlib.sha256(options["rpId"].encode()).digest()
            + bytes([self._flags(attested=False)])
            + struct.pack(">I", credential.sign_count)
        )
        client_data = json.dumps(
            {
                "type": "webauthn.get",
                "challenge": options["challenge"],
                "origin": self.origin,
                "crossOrigin": False,
            }
        ).encode()
        signature = credential.key.sign(
            auth_data + hashlib.sha256(client_data).digest(),
            ec.ECDSA(hashes.SHA256()),
        )
        return {
            "id": b64(credential.credential_id),
            "rawId": b64(credential.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(client_data),
                "authenticatorData": b64(auth_data),
                "signature": b64(signature),
                "userHandle": b64(credential.user_handle),
            },
        }


@pytest.fixture
def phone() -> SoftAuthenticator:
    """Return a fresh software platform authenticator."""
    return SoftAuthenticator()


def new_user(db: Session, email: str = "medic.demo@example.test") -> None:
    if db.scalar(select(Team).where(Team.code == "DEMO-X")) is None:
        db.add(Team(code="DEMO-X", name="Demo team (synthetic)"))
        db.flush()
    accounts.create_user(
        db, email, role="ambulance", password=TEST_PASSWORD, team_codes=["DEMO-X"]
    )
    db.commit()


def enrol_passkey(client: FlaskClient, phone: SoftAuthenticator) -> Any:
    options = client.post("/login/enrol/passkey/options").json
    assert options is not None
    assert options["authenticatorSelection"]["userVerification"] == "required"
    credential = phone.create(options)
    return client.post(
        "/login/enrol/passkey", json={"credential": credential, "name": "Work phone"}
    )


def passkey_sign_in(client: FlaskClient, phone: SoftAuthenticator) -> Any:
    options = client.post("/login/passkey/options").json
    assert options is not None
    return client.post("/login/passkey", json=phone.get(options))


def signed_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def actions(db: Session) -> list[str]:
    db.expire_all()
    return [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.seq))]


def test_first_sign_in_with_a_new_passkey_then_a_passkey_alone(
    app: Flask, client: FlaskClient, db: Session, phone: SoftAuthenticator
) -> None:
    new_user(db)
    client.post(
        "/login", data={"email": "medic.demo@example.test", "password": TEST_PASSWORD}
    )
    response = enrol_passkey(client, phone)
    assert response.status_code == 200
    assert response.json["redirect"].startswith("/account/recovery-codes")
    assert signed_in(client)
    page = client.get(response.json["redirect"]).get_data(as_text=True)
    assert "Create new recovery codes" in page
    # Next shift, a new browser: the passkey alone signs in.
    fresh = app.test_client()
    response = passkey_sign_in(fresh, phone)
    assert response.status_code == 200, response.json
    assert signed_in(fresh)
    assert {"passkey_added", "login_succeeded"} <= set(actions(db))


def test_a_passkey_works_as_the_second_step_after_a_password(
    app: Flask, client: FlaskClient, auth: AuthActions, phone: SoftAuthenticator
) -> None:
    user = auth.login(role="ambulance")
    enrol_passkey(client, phone)
    fresh = app.test_client()
    fresh.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    page = fresh.get("/login/second-factor").get_data(as_text=True)
    assert "Use my passkey" in page
    options = fresh.post("/login/passkey/options").json
    assert options is not None and len(options["allowCredentials"]) == 1
    assert fresh.post("/login/passkey", json=phone.get(options)).status_code == 200
    assert signed_in(fresh)


def test_a_passkey_without_user_verification_is_refused(
    client: FlaskClient, db: Session, phone: SoftAuthenticator
) -> None:
    new_user(db)
    client.post(
        "/login", data={"email": "medic.demo@example.test", "password": TEST_PASSWORD}
    )
    phone.verifies_user = False
    response = enrol_passkey(client, phone)
    assert response.status_code == 400
    assert not signed_in(client)


def test_a_passkey_signature_from_another_site_is_refused(
    app: Flask, client: FlaskClient, auth: AuthActions, phone: SoftAuthenticator
) -> None:
    auth.login()
    enrol_passkey(client, phone)
    phishing = SoftAuthenticator(
        origin="https://responder.evil.example", credentials=phone.credentials
    )
    fresh = app.test_client()
    assert passkey_sign_in(fresh, phishing).status_code == 401
    assert not signed_in(fresh)


def test_a_challenge_is_good_for_one_sign_in(
    app: Flask, client: FlaskClient, auth: AuthActions, phone: SoftAuthenticator
) -> None:
    auth.login()
    enrol_passkey(client, phone)
    fresh = app.test_client()
    options = fresh.post("/login/passkey/options").json
    assert options is not None
    cookie = fresh.get_cookie("__Host-session")
    assert cookie is not None
    assert fresh.post("/login/passkey", json=phone.get(options)).status_code == 200
    # Replaying the cookie that still names the challenge gets nowhere.
    replay = app.test_client()
    replay.set_cookie("__Host-session", cookie.value, domain="localhost")
    assert replay.post("/login/passkey", json=phone.get(options)).status_code == 400
    assert not signed_in(replay)


def test_someone_elses_passkey_cannot_finish_my_password_step(
    app: Flask, client: FlaskClient, auth: AuthActions, phone: SoftAuthenticator
) -> None:
    auth.login(email="attacker@example.test")
    enrol_passkey(client, phone)  # the attacker's own passkey
    victim = AuthActions(app, app.test_client())
    user = victim.login(email="victim@example.test")
    victim.logout()
    attacker = app.test_client()
    attacker.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    options = attacker.post("/login/passkey/options").json
    assert options is not None
    # The browser is asked for the victim's credentials; force the attacker's.
    forged = phone.get(options, credential=phone.credentials[0])
    assert attacker.post("/login/passkey", json=forged).status_code == 401
    assert not signed_in(attacker)


def test_removing_the_last_factor_is_refused(
    client: FlaskClient, db: Session, phone: SoftAuthenticator
) -> None:
    new_user(db)
    client.post(
        "/login", data={"email": "medic.demo@example.test", "password": TEST_PASSWORD}
    )
    enrol_passkey(client, phone)
    passkey = db.scalar(select(passkeys.Passkey))
    assert passkey is not None
    assert "Work phone" in client.get("/account").get_data(as_text=True)
    response = client.post(f"/account/passkeys/{passkey.id}/delete")
    assert response.status_code == 409


def test_a_second_passkey_can_be_added_and_the_first_removed(
    client: FlaskClient, auth: AuthActions, db: Session, phone: SoftAuthenticator
) -> None:
    auth.login()
    assert enrol_passkey(client, phone).json == {"redirect": "/account"}
    assert enrol_passkey(client, phone).status_code == 200
    rows = db.scalars(select(passkeys.Passkey)).all()
    assert len(rows) == 2
    assert client.post(f"/account/passkeys/{rows[0].id}/delete").status_code == 302
    assert "passkey_removed" in actions(db)
    # Someone else's passkey id is not found, not removed.
    assert client.post("/account/passkeys/999999/delete").status_code in (404, 409)
