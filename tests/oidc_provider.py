"""A real OpenID provider on 127.0.0.1 for the tests: discovery, keys, authorize, token.

Served by Werkzeug in a thread. It signs ID tokens (RS256) with its own key,
checks PKCE (S256) and the client's authentication at the token endpoint
(`client_secret_post`, or `private_key_jwt` against the client's registered public
key, with Authlib's own assertion checks), and spends each code once. Nothing
leaves the machine.

A test says who signs in next with `provider.sign_in_as(claims)`; the authorize
endpoint then answers at once with a code for those claims (no login page: the
provider's own login is not under test). `provider.misbehave(...)` makes the next
ID token wrong in one way: another issuer, another key, expired, another nonce
or audience.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class Client:
    """A client registered with the provider."""

    client_id: str
    redirect_uris: list[str]
    secret: str | None = None
    public_key: dict[str, Any] | None = None


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    nonce: str | None
    challenge: str | None
    claims: dict[str, Any]
    issued_at: float


@dataclass
class LocalProvider:
    """The provider's state; `url` is its issuer once started."""

    url: str = ""
    key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, auto_kid=True)
    )
    clients: dict[str, Client] = field(default_factory=dict)
    grants: dict[str, _Grant] = field(default_factory=dict)
    next_claims: dict[str, Any] = field(default_factory=dict)
    faults: set[str] = field(default_factory=set)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    # Like Entra's multi-tenant endpoint: each tenant's tokens name its own issuer.
    per_tenant_issuer: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- what tests call ------------------------------------------------------

    def register(self, client: Client) -> Client:
        """Register a client."""
        self.clients[client.client_id] = client
        return client

    def sign_in_as(self, claims: Mapping[str, Any]) -> None:
        """Make the next authorization sign in someone with these claims."""
        self.next_claims = dict(claims)

    def misbehave(self, *faults: str) -> None:
        """Spoil the ID tokens: wrong_issuer, bad_signature, expired, wrong_nonce,
        wrong_audience, no_id_token."""
        self.faults = set(faults)

    # -- the WSGI app -----------------------------------------------------------

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        routes = {
            "/.well-known/openid-configuration": self.discovery,
            "/jwks": self.jwks,
            "/authorize": self.authorize,
            "/token": self.token,
        }
        handler = routes.get(request.path)
        if handler is None:
            response = Response("not found", status=404)
        else:
            response = handler(request)
        return response(environ, start_response)

    def discovery(self, request: Request) -> Response:
        return _json(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                ],
            }
        )

    def jwks(self, request: Request) -> Response:
        return _json({"keys": [self.key.as_dict(private=False)]})

    def authorize(self, request: Request) -> Response:
        args = request.args
        client = self.clients.get(args.get("client_id", ""))
        redirect_uri = args.get("redirect_uri", "")
        if client is None or redirect_uri not in client.redirect_uris:
            return Response("unknown client or redirect_uri", status=400)
        if (
            args.get("response_type") != "code"
            or "openid" not in args.get("scope", "").split()
        ):
            return Response("unsupported request", status=400)
        if args.get("code_challenge_method") != "S256" or not args.get(
            "code_challenge"
        ):
            return Response("PKCE S256 required", status=400)
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.grants[code] = _Grant(
                client_id=client.client_id,
                redirect_uri=redirect_uri,
                nonce=args.get("nonce"),
                challenge=args.get("code_challenge"),
                claims=dict(self.next_claims),
                issued_at=time.time(),
            )
        query = urlencode({"code": code, "state": args.get("state", "")})
        return Response(status=302, headers={"Location": f"{redirect_uri}?{query}"})

    def _any_client_key(self) -> KeySet:
        return KeySet(
            [
                RSAKey.import_key(c.public_key)
                for c in self.clients.values()
                if c.public_key
            ]
        )

    def _client_from(self, form: Mapping[str, str]) -> Client | None:
        if form.get("client_assertion_type") == ASSERTION_TYPE:
            assertion = form.get("client_assertion", "")
            # The client is named by the assertion's subject (RFC 7523 3).
            try:
                named = jwt.decode(
                    assertion, self._any_client_key(), algorithms=["RS512", "RS256"]
                )
            except (JoseError, ValueError):
                return None
            client = self.clients.get(str(named.claims.get("sub", "")))
            if client is None or client.public_key is None:
                return None
            try:
                token = jwt.decode(
                    assertion,
                    RSAKey.import_key(client.public_key),
                    algorithms=["RS256", "RS384", "RS512"],
                )
                jwt.JWTClaimsRegistry(
                    iss={"essential": True, "value": client.client_id},
                    sub={"essential": True, "value": client.client_id},
                    aud={"essential": True, "value": f"{self.url}/token"},
                    exp={"essential": True},
                    jti={"essential": True},
                ).validate(token.claims)
            except (JoseError, ValueError):
                return None
            return client
        client = self.clients.get(form.get("client_id", ""))
        if client is None or client.secret is None:
            return None
        if not secrets.compare_digest(form.get("client_secret", ""), client.secret):
            return None
        return client

    def token(self, request: Request) -> Response:
        form = request.form
        self.token_requests.append(dict(form))
        client = self._client_from(form)
        if client is None:
            return _json({"error": "invalid_client"}, 401)
        if form.get("grant_type") != "authorization_code":
            return _json({"error": "unsupported_grant_type"}, 400)
        with self.lock:
            # A code is spent on first use, good or bad: a replay finds nothing.
            grant = self.grants.pop(form.get("code", ""), None)
        if (
            grant is None
            or grant.client_id != client.client_id
            or grant.redirect_uri != form.get("redirect_uri")
            or time.time() - grant.issued_at > 60
        ):
            return _json({"error": "invalid_grant"}, 400)
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        if not secrets.compare_digest(challenge, grant.challenge or ""):
            return _json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
        body: dict[str, Any] = {
            "access_token": secrets.token_urlsafe(24),
            "token_type": "Bearer",
            "expires_in": 300,
        }
        if "no_id_token" not in self.faults:
            body["id_token"] = self._id_token(client, grant)
        return _json(body)

    def _id_token(self, client: Client, grant: _Grant) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": client.client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            **grant.claims,
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        if self.per_tenant_issuer and "tid" in grant.claims:
            claims["iss"] = f"{self.url}/{grant.claims['tid']}"
        key = self.key
        if "wrong_issuer" in self.faults:
            claims["iss"] = "https://impostor.invalid"
        if "expired" in self.faults:
            claims["iat"] = now - 3600
            claims["exp"] = now - 1800
        if "wrong_nonce" in self.faults:
            claims["nonce"] = "not-the-nonce-we-were-given"
        if "wrong_audience" in self.faults:
            claims["aud"] = "someone-else"
        if "bad_signature" in self.faults:
            # Same key id, another key: the published keys do not verify it.
            key = RSAKey.generate_key(2048, parameters={"kid": self.key.kid})
        header = {"alg": "RS256", "kid": key.kid}
        return jwt.encode(header, claims, key)


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


@contextmanager
def running_provider() -> Iterator[LocalProvider]:
    """Start a provider on a free port of 127.0.0.1; stop it afterwards."""
    provider = LocalProvider()
    server: BaseWSGIServer = make_server("127.0.0.1", 0, provider, threaded=True)
    provider.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def client_key_pair() -> tuple[dict[str, Any], dict[str, Any]]:
    """Return a client's private JWK (our config) and public JWK (the provider's)."""
    key = RSAKey.generate_key(2048, auto_kid=True)
    private = key.as_dict(private=True)
    private["alg"] = "RS512"
    return private, key.as_dict(private=False)


__all__ = ["Client", "KeySet", "LocalProvider", "client_key_pair", "running_provider"]
