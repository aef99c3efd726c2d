"""Sending NRL pointers over HTTPS: the adapter around plans.nrl.

NHS England's application-restricted pattern: a JWT signed (RS512) with the
private key registered for the application is posted to the OAuth token endpoint
as a client assertion; the access token it returns goes out as a Bearer token,
beside the NHSD headers, on every producer request. The domain builds the
requests and records the outcomes; this module only carries them.

A drain is a job, so it owns its transactions, as bots.outbound does: the claim
commits before anything is sent, and each message's outcome commits on its own.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from sqlalchemy.orm import Session, sessionmaker

from plans import nrl
from plans.db import utcnow

logger = logging.getLogger(__name__)

FHIR_JSON = "application/fhir+json"


class NrlNotConfigured(RuntimeError):
    """NRL is off, or a setting it needs is missing."""


class TokenRefused(RuntimeError):
    """The token endpoint did not give an access token."""


@dataclass(frozen=True)
class NrlConfig:
    """Everything needed to reach the NRL, read from the app's configuration."""

    base_url: str
    token_url: str
    api_key: str
    kid: str
    private_key: RSAPrivateKey
    pointers: nrl.PointerSettings
    timeout: float = 10.0


def enabled(config: Mapping[str, Any]) -> bool:
    """Say whether NRL pointers are switched on."""
    return bool(config.get("NRL_BASE_URL"))


def load_config(config: Mapping[str, Any]) -> NrlConfig:
    """Read the NRL settings; refuse in words when one is missing."""
    if not enabled(config):
        raise NrlNotConfigured("NRL is off: set RESPONDER_NRL_BASE_URL to turn it on")
    missing = [
        key
        for key in ("NRL_API_KEY", "NRL_KID", "NRL_KEY_FILE", "NRL_ODS_CODE")
        if not config.get(key)
    ]
    contact = config.get("NRL_CONTACT_URL") or config.get("PUBLIC_BASE_URL")
    if not contact:
        missing.append("NRL_CONTACT_URL")
    if missing:
        raise NrlNotConfigured(
            "NRL needs " + ", ".join(f"RESPONDER_{key}" for key in missing)
        )
    base_url = str(config["NRL_BASE_URL"]).rstrip("/")
    token_url = config.get("NRL_TOKEN_URL")
    if not token_url:
        parts = urlsplit(base_url)
        token_url = f"{parts.scheme}://{parts.netloc}/oauth2/token"
    with open(str(config["NRL_KEY_FILE"]), "rb") as handle:
        key = load_pem_private_key(handle.read(), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise NrlNotConfigured("RESPONDER_NRL_KEY_FILE must hold an RSA private key")
    return NrlConfig(
        base_url=base_url,
        token_url=str(token_url),
        api_key=str(config["NRL_API_KEY"]),
        kid=str(config["NRL_KID"]),
        private_key=key,
        pointers=nrl.PointerSettings(
            ods_code=str(config["NRL_ODS_CODE"]), contact_url=str(contact)
        ),
        timeout=float(config.get("NRL_TIMEOUT_SECONDS") or 10.0),
    )


class HttpTransport:
    """Send plans.nrl requests to the NRL producer API with an access token."""

    def __init__(
        self,
        config: NrlConfig,
        http: requests.Session,
        *,
        now: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.config = config
        self.http = http
        self.now = now
        self._token: str | None = None
        self._token_until: dt.datetime | None = None

    def access_token(self) -> str:
        """Return an access token, asking for a new one when the last runs out."""
        now = self.now()
        if self._token and self._token_until and now < self._token_until:
            return self._token
        assertion = nrl.client_assertion(
            self.config.private_key,
            api_key=self.config.api_key,
            kid=self.config.kid,
            token_url=self.config.token_url,
            jti=str(uuid.uuid4()),
            now=now,
        )
        response = self.http.post(
            self.config.token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": (
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
                ),
                "client_assertion": assertion,
            },
            timeout=self.config.timeout,
        )
        if response.status_code != 200:
            raise TokenRefused(f"token endpoint answered {response.status_code}")
        body = response.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise TokenRefused("token endpoint gave no access token")
        lifetime = int(body.get("expires_in") or 300)
        # A minute's margin, so a token never runs out in flight.
        self._token = token
        self._token_until = now + dt.timedelta(seconds=max(lifetime - 60, 0))
        return token

    def __call__(self, request: nrl.NrlRequest) -> nrl.NrlResponse:
        """Send one request; return its status and the pointer id it names."""
        headers = {
            "Authorization": f"Bearer {self.access_token()}",
            "NHSD-End-User-Organisation-ODS": self.config.pointers.ods_code,
            "X-Request-ID": str(uuid.uuid4()),
            "X-Correlation-ID": str(uuid.uuid4()),
            "Accept": FHIR_JSON,
            **request.headers,
        }
        kwargs: dict[str, Any] = {"headers": headers, "timeout": self.config.timeout}
        if request.body is not None:
            headers["Content-Type"] = FHIR_JSON
            kwargs["json"] = request.body
        response = self.http.request(
            request.method, self.config.base_url + request.path, **kwargs
        )
        return nrl.NrlResponse(
            status=response.status_code, pointer_id=_pointer_id(response)
        )


def _pointer_id(response: requests.Response) -> str | None:
    """Read the created pointer's id from the Location header, else the body."""
    location = response.headers.get("Location")
    if location:
        return location.rstrip("/").rsplit("/", 1)[-1] or None
    try:
        body = response.json()
    except ValueError:
        return None
    found = body.get("id") if isinstance(body, dict) else None
    return str(found) if found else None


@dataclass(frozen=True)
class SendReport:
    """What one drain of the NRL queue did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    refused: int = 0
    cancelled: int = 0


def send_pending(
    sessions: sessionmaker[Session],
    transport: nrl.Transport,
    settings: nrl.PointerSettings,
    *,
    limit: int = 50,
    now: Callable[[], dt.datetime] | None = None,
) -> SendReport:
    """Send every due NRL message once; the domain schedules retries."""
    clock = now or utcnow
    counts = {"sent": 0, "retrying": 0, "failed": 0, "refused": 0, "cancelled": 0}
    with sessions() as session:
        claimed = nrl.claim_due(session, limit=limit, now=clock())
        session.commit()
        for message in claimed:
            outcome = nrl.deliver(session, message, transport, settings, now=clock())
            session.commit()
            counts[outcome] += 1
            if outcome != "sent":
                # Ids and statuses only: never the NHS number or the team's words.
                logger.warning(
                    "NRL message %s %s: %s", message.id, outcome, message.last_error
                )
    return SendReport(**counts)
