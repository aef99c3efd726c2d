"""A stand-in NRL for tests: token endpoint and producer API on 127.0.0.1.

It checks what the real service checks that matters here (the client assertion's
RS512 signature, the Bearer token, the NHSD ODS header) and keeps the pointers
it was given, so a test can read what an ambulance crew's system would find.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

PRODUCER_PATH = "/record-locator/producer/FHIR/R4"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verify_jwt(token: str, public_key: RSAPublicKey) -> tuple[dict[str, Any], dict]:
    """Return (header, claims) of an RS512 JWT; raise InvalidSignature if forged."""
    head, body, signature = token.split(".")
    public_key.verify(
        _unb64(signature),
        f"{head}.{body}".encode("ascii"),
        padding.PKCS1v15(),
        hashes.SHA512(),
    )
    return json.loads(_unb64(head)), json.loads(_unb64(body))


@dataclass
class Received:
    """One request the stand-in answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class StandInNrl:
    """What the stand-in holds and answers; tests read and steer it."""

    public_key: RSAPublicKey
    base_url: str = ""
    assertions: list[str] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    requests: list[Received] = field(default_factory=list)
    pointers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Statuses to answer the next producer requests with, instead of doing them.
    fail_next: list[int] = field(default_factory=list)

    @property
    def token_url(self) -> str:
        """Return the token endpoint's URL."""
        return self.base_url + "/oauth2/token"

    @property
    def producer_url(self) -> str:
        """Return the producer API's base URL."""
        return self.base_url + PRODUCER_PATH

    def producer_requests(self) -> list[Received]:
        """Return the producer requests received, oldest first."""
        return [r for r in self.requests if r.path.startswith(PRODUCER_PATH)]


def _handler(state: StandInNrl) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Keep the test output quiet."""

        def _answer(
            self, status: int, body: Any = None, headers: dict[str, str] | None = None
        ) -> None:
            payload = json.dumps(body or {}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def _read(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_POST(self) -> None:  # noqa: N802
            raw = self._read()
            if self.path == "/oauth2/token":
                return self._token(raw)
            body = json.loads(raw or b"null")
            self._record("POST", body)
            if not self._authorised():
                return
            if state.fail_next:
                return self._answer(state.fail_next.pop(0))
            ods = self.headers["NHSD-End-User-Organisation-ODS"]
            pointer_id = f"{ods}-{uuid.uuid4()}"
            for relation in body.get("relatesTo") or []:
                if relation.get("code") == "replaces":
                    old = relation["target"]["identifier"]["value"]
                    if old not in state.pointers:
                        return self._answer(422, {"issue": "no such pointer"})
                    del state.pointers[old]
            state.pointers[pointer_id] = dict(body, id=pointer_id)
            self._answer(
                201,
                {"resourceType": "OperationOutcome"},
                {"Location": f"{state.producer_url}/DocumentReference/{pointer_id}"},
            )

        def do_DELETE(self) -> None:  # noqa: N802
            self._read()
            self._record("DELETE", None)
            if not self._authorised():
                return
            if state.fail_next:
                return self._answer(state.fail_next.pop(0))
            pointer_id = self.path.rsplit("/", 1)[-1]
            if state.pointers.pop(pointer_id, None) is None:
                return self._answer(404)
            self._answer(200, {"resourceType": "OperationOutcome"})

        def _record(self, method: str, body: Any) -> None:
            state.requests.append(
                Received(method, self.path, dict(self.headers.items()), body)
            )

        def _authorised(self) -> bool:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in state.tokens:
                self._answer(401)
                return False
            if not self.headers.get("NHSD-End-User-Organisation-ODS"):
                self._answer(400)
                return False
            return True

        def _token(self, raw: bytes) -> None:
            form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            assertion = form.get("client_assertion", "")
            state.assertions.append(assertion)
            try:
                header, claims = verify_jwt(assertion, state.public_key)
            except (InvalidSignature, ValueError):
                return self._answer(401, {"error": "invalid_client"})
            if header.get("alg") != "RS512" or claims.get("aud") != state.token_url:
                return self._answer(401, {"error": "invalid_client"})
            token = uuid.uuid4().hex
            state.tokens.add(token)
            self._answer(200, {"access_token": token, "expires_in": "599"})

    return Handler


@contextmanager
def stand_in_nrl(public_key: RSAPublicKey) -> Iterator[StandInNrl]:
    """Run the stand-in on a free port of 127.0.0.1 for the block."""
    state = StandInNrl(public_key=public_key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    host, port = server.server_address[:2]
    state.base_url = f"http://{host!s}:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
