"""A production instance refuses to start with unsafe settings, naming them all."""

from __future__ import annotations

import base64
import hashlib
import secrets
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from plans import card_keys
from responder import ConfigurationError
from responder.production import check_production, production_problems

# Fixed values that look random: parametrised test ids must be the same in every
# pytest-xdist worker, or the workers disagree on what they collected.
GOOD_SECRET = hashlib.sha256(b"responder production test secret").hexdigest()
GOOD_TELEGRAM_TOKEN = "7012345678:AAH" + hashlib.sha256(b"telegram").hexdigest()[:32]
GOOD_TWILIO_SID = "AC" + hashlib.sha256(b"twilio sid").hexdigest()[:32]
GOOD_TWILIO_TOKEN = hashlib.sha256(b"twilio token").hexdigest()[:32]
GOOD_CHECKPOINT_KEY = base64.b64encode(hashlib.sha256(b"checkpoint").digest()).decode()


def master_key_text(kid: str = "K2026") -> str:
    return card_keys.generate_master_key(kid).encoded()


def production_app(tmp_path: Path, **settings: Any) -> Flask:
    """Return a bare app configured as production, with sound defaults."""
    app = Flask("production_test", instance_path=str(tmp_path / "instance"))
    app.config.update(
        ENVIRONMENT="production",
        TESTING=False,
        SECRET_KEY=GOOD_SECRET,
        TRUSTED_HOSTS=["responder.example.nhs.uk"],
        CARD_SIGNING_KEYS=master_key_text(),
        WEBAUTHN_RP_ID="responder.example.nhs.uk",
        AUDIT_CHECKPOINT_KEY=GOOD_CHECKPOINT_KEY,
    )
    for key, value in settings.items():
        if value is None:
            app.config.pop(key, None)
        else:
            app.config[key] = value
    return app


def test_a_sound_production_configuration_starts(tmp_path: Path) -> None:
    app = production_app(tmp_path)
    check_production(app)
    assert production_problems(app) == []


def test_every_problem_is_named_in_one_message(tmp_path: Path) -> None:
    app = production_app(
        tmp_path,
        SECRET_KEY="dev",
        TRUSTED_HOSTS=None,
        TELEGRAM_BOT_USERNAME="responder_bot",
        TWILIO_SMS_NUMBER="+441632960001",
        CARD_SIGNING_KEYS=None,
    )
    with pytest.raises(ConfigurationError) as raised:
        check_production(app)
    message = str(raised.value)
    for name in (
        "RESPONDER_SECRET_KEY",
        "RESPONDER_TRUSTED_HOSTS",
        "RESPONDER_TELEGRAM_BOT_TOKEN",
        "RESPONDER_TELEGRAM_WEBHOOK_SECRET",
        "RESPONDER_TWILIO_AUTH_TOKEN",
        "RESPONDER_TWILIO_ACCOUNT_SID",
        "card signing key",
    ):
        assert name in message


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "",
        "dev",
        "changeme",
        "development-only-secret-key",
        "test-secret-key-that-is-long-enough-0123456789",
        "a" * 64,
        "short-but-random-Xq9",
        "an-example-secret-key-for-the-docs-0123456789",
    ],
)
def test_missing_short_or_default_secret_keys_are_refused(
    tmp_path: Path, secret: str | None
) -> None:
    app = production_app(tmp_path, SECRET_KEY=secret)
    with pytest.raises(ConfigurationError, match="RESPONDER_SECRET_KEY"):
        check_production(app)


def test_a_weak_old_key_in_the_fallbacks_is_refused(tmp_path: Path) -> None:
    app = production_app(
        tmp_path, SECRET_KEY_FALLBACKS=[secrets.token_hex(32), "changeme"]
    )
    with pytest.raises(ConfigurationError, match="FALLBACKS entry 2"):
        check_production(app)


def test_strong_old_keys_may_stay_during_rotation(tmp_path: Path) -> None:
    app = production_app(tmp_path, SECRET_KEY_FALLBACKS=[secrets.token_hex(32)])
    check_production(app)


@pytest.mark.parametrize(
    "hosts",
    [None, [], "", ["https://responder.example.nhs.uk"], ["*"], ["host/path"]],
)
def test_untrusted_hosts_are_refused(tmp_path: Path, hosts: Any) -> None:
    app = production_app(tmp_path, TRUSTED_HOSTS=hosts)
    with pytest.raises(ConfigurationError, match="RESPONDER_TRUSTED_HOSTS"):
        check_production(app)


def test_hosts_from_the_environment_may_be_comma_separated(tmp_path: Path) -> None:
    app = production_app(
        tmp_path, TRUSTED_HOSTS="responder.example.nhs.uk, .example.police.uk"
    )
    check_production(app)
    assert app.config["TRUSTED_HOSTS"] == [
        "responder.example.nhs.uk",
        ".example.police.uk",
    ]


def test_a_forged_host_header_is_refused_once_hosts_are_trusted(
    tmp_path: Path,
) -> None:
    app = production_app(tmp_path)
    check_production(app)

    @app.get("/")
    def index() -> str:
        return "ok"

    client = app.test_client()
    assert client.get("/", headers={"Host": "responder.example.nhs.uk"}).text == "ok"
    assert client.get("/", headers={"Host": "evil.example.com"}).status_code == 400


def test_telegram_is_checked_only_when_enabled(tmp_path: Path) -> None:
    assert production_problems(production_app(tmp_path)) == []
    app = production_app(tmp_path, TELEGRAM_ENABLED=True)
    problems = production_problems(app)
    assert len(problems) == 2
    assert all("Telegram" in problem for problem in problems)


@pytest.mark.parametrize(
    "token",
    ["", "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11", "not-a-token", "12345:short"],
)
def test_placeholder_telegram_tokens_are_refused(tmp_path: Path, token: str) -> None:
    app = production_app(
        tmp_path,
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_WEBHOOK_SECRET=secrets.token_urlsafe(32),
    )
    with pytest.raises(ConfigurationError, match="TELEGRAM_BOT_TOKEN"):
        check_production(app)


def test_a_complete_telegram_configuration_starts(tmp_path: Path) -> None:
    app = production_app(
        tmp_path,
        TELEGRAM_BOT_TOKEN=GOOD_TELEGRAM_TOKEN,
        TELEGRAM_WEBHOOK_SECRET=secrets.token_urlsafe(32),
    )
    check_production(app)


@pytest.mark.parametrize(
    "token", ["", "your_auth_token", "0" * 32, "abc", GOOD_TWILIO_TOKEN.upper() + "g"]
)
def test_placeholder_twilio_tokens_are_refused(tmp_path: Path, token: str) -> None:
    app = production_app(
        tmp_path, TWILIO_ACCOUNT_SID=GOOD_TWILIO_SID, TWILIO_AUTH_TOKEN=token
    )
    with pytest.raises(ConfigurationError, match="TWILIO_AUTH_TOKEN"):
        check_production(app)


def test_a_complete_twilio_configuration_starts(tmp_path: Path) -> None:
    app = production_app(
        tmp_path,
        TWILIO_ACCOUNT_SID=GOOD_TWILIO_SID,
        TWILIO_AUTH_TOKEN=GOOD_TWILIO_TOKEN,
        TWILIO_SMS_NUMBER="+441632960001",
    )
    check_production(app)


def test_a_channel_switched_off_is_not_checked(tmp_path: Path) -> None:
    app = production_app(
        tmp_path, TELEGRAM_ENABLED=False, TELEGRAM_BOT_USERNAME="responder_bot"
    )
    check_production(app)


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (None, "no card signing key"),
        ("K1:not-base64!", "cannot be read"),
        ("nonsense", "cannot be read"),
        (master_key_text("DEV1"), "development card keys"),
    ],
    ids=["missing", "not-base64", "nonsense", "development-key"],
)
def test_bad_or_missing_card_keys_are_refused(
    tmp_path: Path, keys: str | None, expected: str
) -> None:
    app = production_app(tmp_path, CARD_SIGNING_KEYS=keys)
    with pytest.raises(ConfigurationError, match=expected) as raised:
        check_production(app)
    assert "not-base64" not in str(raised.value)


def test_a_card_key_file_in_the_instance_folder_is_accepted(tmp_path: Path) -> None:
    app = production_app(tmp_path, CARD_SIGNING_KEYS=None)
    folder = Path(app.instance_path)
    folder.mkdir(parents=True)
    keys = card_keys.KeySet((card_keys.generate_master_key("K2026"),))
    (folder / "card-keys.json").write_text(card_keys.write_key_file(keys))
    check_production(app)


def test_cards_switched_off_need_no_key(tmp_path: Path) -> None:
    app = production_app(tmp_path, CARD_SIGNING_KEYS=None, CARDS_ENABLED=False)
    check_production(app)


def test_production_needs_an_audit_checkpoint_key(tmp_path: Path) -> None:
    """Finding 5: without a key off the database, nothing anchors the chain."""
    problems = production_problems(production_app(tmp_path, AUDIT_CHECKPOINT_KEY=None))
    assert any("audit checkpoint key" in problem for problem in problems)
    broken = production_app(tmp_path, AUDIT_CHECKPOINT_KEY="not a key")
    assert any("cannot be read" in problem for problem in production_problems(broken))


def test_development_and_test_instances_are_not_checked(tmp_path: Path) -> None:
    check_production(
        production_app(tmp_path, ENVIRONMENT="development", SECRET_KEY=None)
    )
    check_production(production_app(tmp_path, ENVIRONMENT="test", SECRET_KEY=None))


def test_testing_does_not_turn_production_checks_off(tmp_path: Path) -> None:
    """Finding 6: TESTING once made a production instance count as development."""
    with pytest.raises(ConfigurationError) as raised:
        check_production(production_app(tmp_path, TESTING=True, TRUSTED_HOSTS=None))
    assert "RESPONDER_TRUSTED_HOSTS" in str(raised.value)


@pytest.mark.parametrize("switch", ["TESTING", "DEBUG"])
@pytest.mark.parametrize("environment", [None, "production", "staging"])
def test_test_switches_refuse_to_start_outside_development(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    switch: str,
    environment: str | None,
) -> None:
    """Finding 6: RESPONDER_TESTING / RESPONDER_DEBUG on a live instance."""
    from responder import create_app

    monkeypatch.setenv("RESPONDER_INSTANCE_PATH", str(tmp_path / "instance"))
    if environment is None:
        monkeypatch.delenv("RESPONDER_ENVIRONMENT", raising=False)
    else:
        monkeypatch.setenv("RESPONDER_ENVIRONMENT", environment)
    monkeypatch.setenv(f"RESPONDER_{switch}", "true")
    card = master_key_text()
    with pytest.raises(ConfigurationError) as raised:
        create_app(
            {
                "SECRET_KEY": GOOD_SECRET,
                "TRUSTED_HOSTS": ["responder.example.nhs.uk"],
                "CARD_SIGNING_KEYS": card,
                "WEBAUTHN_RP_ID": "responder.example.nhs.uk",
            }
        )
    assert f"RESPONDER_{switch}" in str(raised.value)


@pytest.mark.parametrize("environment", ["development", "test"])
def test_test_switches_are_allowed_in_development(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environment: str
) -> None:
    from responder import create_app

    monkeypatch.setenv("RESPONDER_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(
        {
            "ENVIRONMENT": environment,
            "TESTING": True,
            "DEBUG": True,
            "DATABASE_URL": f"sqlite:///{tmp_path}/dev.db",
        }
    )
    assert app.testing and app.debug


def test_a_session_cookie_signed_with_the_test_key_is_refused_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 6: with TESTING the public test key signed a forged session."""
    from responder import create_app

    monkeypatch.setenv("RESPONDER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("RESPONDER_TESTING", "true")
    monkeypatch.setenv("RESPONDER_ENVIRONMENT", "production")
    with pytest.raises(ConfigurationError):
        create_app({"SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789"})


def test_the_app_factory_refuses_an_unsafe_production_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from responder import create_app

    monkeypatch.setenv("RESPONDER_INSTANCE_PATH", str(tmp_path / "instance"))
    with pytest.raises(ConfigurationError) as raised:
        create_app({"SECRET_KEY": "changeme", "ENVIRONMENT": "production"})
    assert "RESPONDER_SECRET_KEY" in str(raised.value)
    assert "RESPONDER_TRUSTED_HOSTS" in str(raised.value)


def test_requests_served_by_responder_serve_never_share_state(
    tmp_path: Path,
) -> None:
    """One visitor's CSRF token (or user, or session) never reaches another."""
    import os
    import re
    import signal
    import socket
    import subprocess
    import time

    import httpx

    from plans.db import create_schema, make_engine
    from responder import ROOT

    url = f"sqlite:///{tmp_path}/responder.db"
    engine = make_engine(url)
    create_schema(engine)
    engine.dispose()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(
        os.environ,
        RESPONDER_ENVIRONMENT="development",
        RESPONDER_DATABASE_URL=url,
        RESPONDER_SECRET_KEY=GOOD_SECRET,
        RESPONDER_INSTANCE_PATH=str(tmp_path / "instance"),
    )
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "responder"),
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        tokens = []
        first: httpx.Response | None = None
        # Generous: on a loaded machine the server takes a minute or more to start.
        for _attempt in range(3000):
            try:
                first = httpx.get(f"http://127.0.0.1:{port}/login", timeout=30)
                break
            except httpx.TransportError:
                assert server.poll() is None, "responder serve exited"
                time.sleep(0.1)
        assert first is not None, "responder serve did not answer"
        second = httpx.get(f"http://127.0.0.1:{port}/login", timeout=30)
        for response in (first, second):
            assert response.status_code == 200
            match = re.search(r'name="csrf_token" value="([^".]+)', response.text)
            assert match is not None
            tokens.append(match.group(1))
            # A visitor without a cookie gets a session of their own.
            assert "set-cookie" in response.headers
        assert tokens[0] != tokens[1]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"WEBAUTHN_RP_ID": None}, "WEBAUTHN_RP_ID is not set"),
        ({"WEBAUTHN_RP_ID": "localhost"}, "WEBAUTHN_RP_ID is not set"),
        ({"WEBAUTHN_RP_ID": "evil.example"}, "not one of the trusted hosts"),
        ({"WEBAUTHN_ORIGIN": "http://responder.example.nhs.uk"}, "https://"),
    ],
)
def test_passkeys_must_be_bound_to_the_public_host(
    tmp_path: Path, settings: dict[str, Any], complaint: str
) -> None:
    app = production_app(tmp_path, **settings)
    with pytest.raises(ConfigurationError, match=complaint):
        check_production(app)


def test_a_parent_domain_may_be_the_relying_party(tmp_path: Path) -> None:
    check_production(production_app(tmp_path, WEBAUTHN_RP_ID="example.nhs.uk"))


def test_the_password_hash_cost_is_only_lowered_in_development() -> None:
    from plans import hashing
    from responder import apply_hash_cost

    before = hashing.cost()
    try:
        live = Flask(__name__)
        live.config.update(ENVIRONMENT="production", PASSWORD_HASH_COST="time_cost=1")
        with pytest.raises(ConfigurationError, match="PASSWORD_HASH_COST"):
            apply_hash_cost(live)
        live.config["PASSWORD_HASH_COST"] = "time_cost=4"
        apply_hash_cost(live)
        assert hashing.cost() == hashing.HashCost(time_cost=4)
    finally:
        hashing.set_cost(before)


def nrl_settings(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "nrl.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    settings = {
        "NRL_BASE_URL": "https://int.api.service.nhs.uk/record-locator/producer/FHIR/R4",
        "NRL_API_KEY": "app-key",
        "NRL_KID": "test-1",
        "NRL_KEY_FILE": str(path),
        "NRL_ODS_CODE": "RX4",
        "NRL_CONTACT_URL": "https://trust.example/crisis-teams/{team}",
    }
    return {**settings, **changes}


def test_a_complete_nrl_configuration_starts(tmp_path: Path) -> None:
    check_production(production_app(tmp_path, **nrl_settings(tmp_path)))


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"NRL_KID": None}, "RESPONDER_NRL_KID"),
        ({"NRL_ODS_CODE": None}, "RESPONDER_NRL_ODS_CODE"),
        ({"NRL_BASE_URL": "http://nrl.example/p"}, "https://"),
        ({"NRL_KEY_FILE": "/nonexistent/nrl.pem"}, "NRL_KEY_FILE"),
    ],
)
def test_a_partial_nrl_configuration_refuses_to_start(
    tmp_path: Path, changes: dict[str, Any], named: str
) -> None:
    app = production_app(tmp_path, **nrl_settings(tmp_path, **changes))
    with pytest.raises(ConfigurationError, match=named):
        check_production(app)
