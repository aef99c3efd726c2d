"""Blueprint `sso`: staff sign in through their organisation's OpenID provider.

The authorization code flow with PKCE (S256), a state and a nonce, all kept in
the signed session cookie for the one round trip; the code is exchanged with the
provider's token endpoint through Authlib, authenticating the client with
`private_key_jwt` (CIS2) or a client secret (Entra ID). The ID token is checked
(signature against the provider's published keys, iss, aud, exp, nonce) by
`plans.identity.verify_id_token`; who signs in, with which role, and whether our
own second factor is still owed is decided by `plans.identity`.

Providers are configured in `SSO_PROVIDERS` (a JSON object, see docs/deploy.md).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from joserfc.jwk import RSAKey
from sqlalchemy.exc import IntegrityError

from plans import clock, identity
from plans.signin import second_factors
from responder.access import public
from responder.db import get_session
from responder.security import limiter

logger = logging.getLogger(__name__)

bp = Blueprint("sso", __name__)

FLOW_LIFETIME = 600  # seconds from leaving for the provider to coming back
METADATA_TTL = 3600.0
HTTP_TIMEOUT = 10.0
SESSION_KEY = "sso_flow"
SSO_LIMIT = "30 per minute;300 per hour"


def init_app(app: Flask) -> None:
    """Read the configured providers, refusing to start on a bad one."""
    from responder import is_development

    raw = app.config.get("SSO_PROVIDERS") or {}
    configured = identity.providers_from_config(raw)
    if not is_development(app):
        plain = [
            p.name for p in configured.values() if not p.issuer.startswith("https:")
        ]
        if plain:
            raise ValueError(
                f"SSO providers must use https issuers: {', '.join(plain)}"
            )
    app.extensions["responder.sso"] = configured
    app.extensions["responder.sso_metadata"] = _MetadataCache()
    app.context_processor(lambda: {"sso_providers": staff_providers()})


def providers() -> dict[str, identity.Provider]:
    """Return the configured providers, by name."""
    configured: dict[str, identity.Provider] = current_app.extensions.get(
        "responder.sso", {}
    )
    return configured


def staff_providers() -> list[identity.Provider]:
    """Return the providers staff sign in with, for the sign-in page."""
    return [p for p in providers().values() if p.purpose == "staff"]


def provider_or_404(name: str, purpose: str = "staff") -> identity.Provider:
    """Return a configured provider by name, or abort 404."""
    provider = providers().get(name)
    if provider is None or provider.purpose != purpose:
        abort(404)
    return provider


class _MetadataCache:
    """Each provider's discovery document and keys, fetched at most hourly."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, dict[str, Any]]] = {}

    def _get(self, url: str, *, fresh: bool = False) -> dict[str, Any]:
        with self._lock:
            cached = self._entries.get(url)
        if cached and not fresh and time.monotonic() - cached[0] < METADATA_TTL:
            return cached[1]
        response = requests.get(url, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError(f"{url} did not answer with a JSON object")
        with self._lock:
            self._entries[url] = (time.monotonic(), body)
        return body

    def discovery(self, provider: identity.Provider) -> dict[str, Any]:
        url = provider.discovery_url or (
            provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
        )
        return self._get(url)

    def jwks(self, provider: identity.Provider, *, fresh: bool = False) -> Any:
        return self._get(str(self.discovery(provider)["jwks_uri"]), fresh=fresh)


def _metadata() -> _MetadataCache:
    cache: _MetadataCache = current_app.extensions["responder.sso_metadata"]
    return cache


def oauth_client(provider: identity.Provider, redirect_uri: str) -> OAuth2Session:
    """Return an Authlib client for one provider, with its client authentication."""
    if provider.private_key is not None:
        key = RSAKey.import_key(dict(provider.private_key))
        client = OAuth2Session(
            provider.client_id,
            key,
            token_endpoint_auth_method="private_key_jwt",
            scope=" ".join(provider.scopes),
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
        )
        # CIS2 asks for RS512 and the key's id in the assertion's header.
        alg = str(provider.private_key.get("alg") or "RS512")
        headers = {"kid": key.kid} if key.kid else None
        client.register_client_auth_method(PrivateKeyJWT(alg=alg, headers=headers))
        return client
    return OAuth2Session(
        provider.client_id,
        provider.client_secret,
        token_endpoint_auth_method="client_secret_post",
        scope=" ".join(provider.scopes),
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )


def begin(
    provider: identity.Provider, callback_endpoint: str, next_path: str | None
) -> ResponseReturnValue:
    """Send the browser to the provider with a fresh state, nonce and PKCE verifier."""
    try:
        metadata = _metadata().discovery(provider)
    except (requests.RequestException, ValueError):
        logger.warning("provider %s: discovery failed", provider.name)
        return _unavailable(provider)
    redirect_uri = url_for(callback_endpoint, name=provider.name, _external=True)
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)
    client = oauth_client(provider, redirect_uri)
    extra: dict[str, Any] = {}
    if provider.required_identity_level:
        # NHS login: ask for the proofing level we need (P9: fully verified).
        extra["vtr"] = f'["{provider.required_identity_level}.Cp.Cd"]'
    url, _ = client.create_authorization_url(
        str(metadata["authorization_endpoint"]),
        state=state,
        nonce=nonce,
        code_verifier=verifier,
        **extra,
    )
    session[SESSION_KEY] = {
        "provider": provider.name,
        "state": state,
        "nonce": nonce,
        "verifier": verifier,
        "next": next_path,
        "started": int(clock.now().timestamp()),
    }
    return redirect(url)


def _unavailable(provider: identity.Provider) -> ResponseReturnValue:
    return render_template(
        "auth/sso_refused.html",
        provider=provider,
        message=f"{provider.label} cannot be reached just now. Please try again.",
    ), 503


def finish(
    provider: identity.Provider, callback_endpoint: str
) -> tuple[dict[str, Any], str | None]:
    """Check the provider's answer and return the ID token's claims and `next`.

    Raise IdentityError (with a code for the audit) for anything that fails: a
    missing or wrong state, an error from the provider, a refused code exchange
    (a replayed or expired code), or an ID token that does not check out.
    """
    flow = session.pop(SESSION_KEY, None)
    if not isinstance(flow, dict) or flow.get("provider") != provider.name:
        raise identity.IdentityError(
            "That sign-in was not started here, or has already been used.",
            code="no_flow",
        )
    state = request.args.get("state", "")
    if not hmac.compare_digest(str(flow.get("state", "")), state):
        raise identity.IdentityError("That sign-in did not match.", code="bad_state")
    if clock.now().timestamp() - int(flow.get("started", 0)) > FLOW_LIFETIME:
        raise identity.IdentityError("That sign-in took too long.", code="flow_expired")
    if "error" in request.args:
        raise identity.IdentityError(
            f"{provider.label} did not sign you in.",
            code="provider_error",
        )
    code = request.args.get("code", "")
    if not code or len(code) > 2000:
        raise identity.IdentityError("The sign-in came back empty.", code="no_code")
    try:
        metadata = _metadata().discovery(provider)
        client = oauth_client(
            provider, url_for(callback_endpoint, name=provider.name, _external=True)
        )
        token = client.fetch_token(
            str(metadata["token_endpoint"]),
            grant_type="authorization_code",
            code=code,
            code_verifier=str(flow["verifier"]),
            timeout=HTTP_TIMEOUT,
        )
    except (OAuthError, requests.RequestException, ValueError, KeyError) as error:
        logger.warning("provider %s: code exchange refused", provider.name)
        raise identity.IdentityError(
            f"{provider.label} did not confirm the sign-in.", code="code_refused"
        ) from error
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise identity.IdentityError("No ID token came back.", code="no_id_token")
    now = clock.now()
    try:
        claims = identity.verify_id_token(
            provider,
            id_token,
            _metadata().jwks(provider),
            nonce=str(flow["nonce"]),
            now=now,
        )
    except identity.IdentityError as error:
        if error.code != "bad_signature":
            raise
        # The provider may have rotated its keys since we cached them.
        claims = identity.verify_id_token(
            provider,
            id_token,
            _metadata().jwks(provider, fresh=True),
            nonce=str(flow["nonce"]),
            now=now,
        )
    next_path = flow.get("next")
    return claims, next_path if isinstance(next_path, str) else None


def refused(
    provider: identity.Provider, error: identity.IdentityError
) -> ResponseReturnValue:
    """Audit a refused sign-in and tell the user in words (no detail of why)."""
    db = get_session()
    db.rollback()
    identity.record_refusal(db, provider, error.code)
    db.commit()
    return render_template(
        "auth/sso_refused.html", provider=provider, message=str(error)
    ), 401


@bp.route("/login/sso/<name>")
@public
@limiter.limit(SSO_LIMIT)
def start(name: str) -> ResponseReturnValue:
    """Leave for the organisation's sign-in page (CIS2, Entra ID)."""
    from responder.auth import safe_next

    provider = provider_or_404(name)
    return begin(provider, "sso.callback", safe_next(request.args.get("next")))


@bp.route("/login/sso/<name>/callback")
@public
@limiter.limit(SSO_LIMIT)
def callback(name: str) -> ResponseReturnValue:
    """Come back from the organisation's sign-in page and sign in, or wait."""
    from responder import auth

    provider = provider_or_404(name)
    db = get_session()
    try:
        claims, next_path = finish(provider, "sso.callback")
        try:
            outcome = identity.sign_in_with_provider(
                db, provider, claims, disabled_help=auth._account_help()
            )
        except IntegrityError:
            # The same first sign-in in two tabs at once: the other one created
            # the identity (or the account) first, so this one now finds it.
            db.rollback()
            outcome = identity.sign_in_with_provider(
                db, provider, claims, disabled_help=auth._account_help()
            )
    except identity.IdentityError as error:
        if error.code in ("inactive", "unmapped", "declined"):
            # The domain audited the refusal with the account it concerns.
            db.commit()
            return render_template(
                "auth/sso_refused.html", provider=provider, message=str(error)
            ), 403
        return refused(provider, error)
    if outcome.status == "awaiting_approval":
        db.commit()
        return render_template("auth/sso_waiting.html", provider=provider), 202
    user = outcome.user
    assert user is not None
    db.commit()
    if not outcome.second_factor_owed:
        session["next"] = next_path
        return redirect(auth.complete_sign_in(user, provider.method))
    # The provider did not say a second factor was used: ours is still owed.
    auth._start_pending(user, next_path)
    if not second_factors.has_second_factor(db, user):
        return redirect(url_for("auth.enrol"))
    return redirect(url_for("auth.second_factor"))
