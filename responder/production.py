"""Refuse to start in production with settings that would be unsafe.

`check_production(app)` gathers every problem at once, so an operator fixes the
whole configuration in one pass rather than one restart per mistake. Development
and test instances are left alone (they get throwaway secrets elsewhere).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from flask import Flask

logger = logging.getLogger(__name__)

SECRET_MIN_LENGTH = 32
SECRET_MIN_DISTINCT = 12
WEBHOOK_SECRET_MIN_LENGTH = 32

# Values copied from examples, tutorials and our own development defaults.
KNOWN_PLACEHOLDERS = frozenset(
    {
        "dev",
        "secret",
        "changeme",
        "change-me",
        "change_me",
        "password",
        "development-only-secret-key",
        "test-secret-key-that-is-long-enough-0123456789",
        "your-secret-key",
        "your_auth_token",
        "your-auth-token",
        "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11",
    }
)
PLACEHOLDER_WORDS = ("development", "changeme", "change-me", "example", "placeholder")

TELEGRAM_TOKEN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")
TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]+$")
TWILIO_SID = re.compile(r"^AC[0-9a-f]{32}$")
TWILIO_TOKEN = re.compile(r"^[0-9a-f]{32}$")
HOST_NAME = re.compile(r"^\.?[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$")

TELEGRAM_KEYS = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_BOT_USERNAME",
    "TELEGRAM_WEBHOOK_SECRET",
)
TWILIO_KEYS = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_SMS_NUMBER",
    "TWILIO_WHATSAPP_NUMBER",
)
CARD_KEY_FILE_NAME = "card-keys.json"


def check_production(app: Flask) -> None:
    """Raise ConfigurationError naming every unsafe setting, outside development."""
    from responder import ConfigurationError, is_development

    if is_development(app):
        return
    problems = production_problems(app)
    if problems:
        raise ConfigurationError(
            "refusing to start in production:\n"
            + "\n".join(f"  - {problem}" for problem in problems)
        )
    if not app.config.get("REDIS_URL") and int(app.config.get("SERVE_WORKERS", 1)) > 1:
        # Not fatal: limits still hold per process, they are just looser.
        logger.warning(
            "REDIS_URL is not set: rate limits are counted per worker process"
        )


def production_problems(app: Flask) -> list[str]:
    """Return every reason the app's settings are unsafe for production."""
    config = app.config
    problems: list[str] = []
    problems += _secret_problems(config)
    problems += _trusted_host_problems(app)
    problems += _proxy_problems(config)
    problems += _telegram_problems(config)
    problems += _twilio_problems(config)
    problems += _card_key_problems(app)
    problems += _webauthn_problems(config)
    problems += _audit_checkpoint_problems(app)
    problems += _nrl_problems(config)
    return problems


def _nrl_problems(config: Mapping[str, Any]) -> list[str]:
    """NRL pointers, once switched on, need every setting and a readable RSA key."""
    from responder import nrl

    if not nrl.enabled(config):
        return []
    problems = []
    for key in ("NRL_BASE_URL", "NRL_TOKEN_URL", "NRL_CONTACT_URL"):
        value = config.get(key)
        if value and not str(value).startswith("https://"):
            problems.append(f"RESPONDER_{key} must be an https:// address")
    try:
        nrl.load_config(config)
    except nrl.NrlNotConfigured as error:
        problems.append(f"NRL pointers are on but {error}")
    except (OSError, ValueError, TypeError) as error:
        problems.append(
            "NRL pointers are on but RESPONDER_NRL_KEY_FILE cannot be read as a PEM "
            f"private key ({type(error).__name__})"
        )
    return problems


def _audit_checkpoint_problems(app: Flask) -> list[str]:
    """The audit chain is anchored off the database with a key it never sees."""
    from plans import audit
    from responder.cli.ops import checkpoint_key

    try:
        key = checkpoint_key(app)
    except (audit.CheckpointError, OSError) as error:
        return [f"the audit checkpoint key cannot be read: {type(error).__name__}"]
    if key is None:
        return [
            "no audit checkpoint key: set RESPONDER_AUDIT_CHECKPOINT_KEY or run "
            "`responder audit checkpoint-key`, and schedule `responder audit "
            "checkpoint` (docs/operations.md)"
        ]
    return []


def _webauthn_problems(config: Mapping[str, Any]) -> list[str]:
    """Passkeys are bound to a host name: the public one, over https."""
    problems = []
    rp_id = str(config.get("WEBAUTHN_RP_ID") or "").strip().lower()
    hosts = config.get("TRUSTED_HOSTS") or []
    if isinstance(hosts, str):
        hosts = [hosts]
    if not rp_id or rp_id == "localhost":
        problems.append(
            "RESPONDER_WEBAUTHN_RP_ID is not set: set it to the public host name "
            "(passkeys are bound to it)"
        )
    elif hosts and not any(
        str(host).lstrip(".").lower() == rp_id
        or str(host).lstrip(".").lower().endswith("." + rp_id)
        for host in hosts
    ):
        problems.append(
            f"RESPONDER_WEBAUTHN_RP_ID {rp_id!r} is not one of the trusted hosts "
            "or a parent domain of one"
        )
    origin = config.get("WEBAUTHN_ORIGIN")
    if origin and not str(origin).startswith("https://"):
        problems.append("RESPONDER_WEBAUTHN_ORIGIN must be an https:// address")
    return problems


def is_weak_secret(value: object, *, min_length: int = SECRET_MIN_LENGTH) -> bool:
    """Say whether a secret is missing, short, a placeholder or too uniform."""
    if not isinstance(value, str | bytes) or not value:
        return True
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    if len(text) < min_length or text in KNOWN_PLACEHOLDERS:
        return True
    lowered = text.lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS):
        return True
    # "aaaa...": long but guessable; a random hex or base64 value has far more.
    return len(set(text)) < SECRET_MIN_DISTINCT


def _secret_problems(config: Mapping[str, Any]) -> list[str]:
    problems = []
    hint = "python -c 'import secrets; print(secrets.token_hex(32))'"
    if is_weak_secret(config.get("SECRET_KEY")):
        problems.append(
            "RESPONDER_SECRET_KEY is missing, short or a known default: set a long "
            f"random value ({hint})"
        )
    fallbacks = config.get("SECRET_KEY_FALLBACKS") or []
    if isinstance(fallbacks, str | bytes):
        problems.append(
            'RESPONDER_SECRET_KEY_FALLBACKS must be a JSON list, e.g. ["old-key"]'
        )
    else:
        for position, fallback in enumerate(fallbacks, start=1):
            if is_weak_secret(fallback):
                problems.append(
                    f"RESPONDER_SECRET_KEY_FALLBACKS entry {position} is weak: a "
                    "weak old key still signs sessions; remove it"
                )
    return problems


def _trusted_host_problems(app: Flask) -> list[str]:
    hosts = app.config.get("TRUSTED_HOSTS")
    if isinstance(hosts, str):
        # An environment variable may list hosts with commas; Flask wants a list,
        # and would otherwise compare the Host header against single characters.
        hosts = [host.strip() for host in hosts.split(",") if host.strip()]
        app.config["TRUSTED_HOSTS"] = hosts
    if not hosts:
        return [
            "RESPONDER_TRUSTED_HOSTS is not set: list the public host names, e.g. "
            '["responder.example.nhs.uk"], so forged Host headers are refused'
        ]
    bad = [str(host) for host in _iterable(hosts) if not _is_host(host)]
    if bad:
        return [
            "RESPONDER_TRUSTED_HOSTS holds entries that are not host names "
            f"(no scheme, path or wildcard): {', '.join(bad)}"
        ]
    return []


def _is_host(host: object) -> bool:
    return isinstance(host, str) and bool(HOST_NAME.match(host)) and host != "."


def _iterable(value: object) -> Iterable[object]:
    return value if isinstance(value, list | tuple | set | frozenset) else [value]


def _proxy_problems(config: Mapping[str, Any]) -> list[str]:
    hops = config.get("TRUSTED_PROXY_HOPS")
    if hops is None:
        return []
    try:
        count = int(hops)
    except (TypeError, ValueError):
        count = -1
    if not 0 <= count <= 5:
        return [
            "RESPONDER_TRUSTED_PROXY_HOPS must be the number of reverse proxies in "
            "front of the app (0 to 5)"
        ]
    return []


def _telegram_problems(config: Mapping[str, Any]) -> list[str]:
    if not telegram_enabled(config):
        return []
    problems = []
    token = str(config.get("TELEGRAM_BOT_TOKEN") or "")
    if token in KNOWN_PLACEHOLDERS or not TELEGRAM_TOKEN.match(token):
        problems.append(
            "Telegram is enabled but RESPONDER_TELEGRAM_BOT_TOKEN is missing or not "
            "a real bot token (from @BotFather)"
        )
    secret = config.get("TELEGRAM_WEBHOOK_SECRET")
    if is_weak_secret(secret, min_length=WEBHOOK_SECRET_MIN_LENGTH) or not (
        TELEGRAM_SECRET.match(str(secret)) and len(str(secret)) <= 256
    ):
        problems.append(
            "Telegram is enabled but RESPONDER_TELEGRAM_WEBHOOK_SECRET is missing or "
            "weak: set 32 to 256 random letters, digits, _ or - "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return problems


def _twilio_problems(config: Mapping[str, Any]) -> list[str]:
    if not twilio_enabled(config):
        return []
    problems = []
    token = str(config.get("TWILIO_AUTH_TOKEN") or "")
    if not TWILIO_TOKEN.match(token) or len(set(token)) < 8:
        problems.append(
            "SMS/WhatsApp is enabled but RESPONDER_TWILIO_AUTH_TOKEN is missing or "
            "not a real auth token; without it webhook signatures cannot be checked"
        )
    if not TWILIO_SID.match(str(config.get("TWILIO_ACCOUNT_SID") or "")):
        problems.append(
            "SMS/WhatsApp is enabled but RESPONDER_TWILIO_ACCOUNT_SID is missing "
            "or malformed (AC followed by 32 hex digits)"
        )
    return problems


def _enabled(config: Mapping[str, Any], switch: str, keys: Iterable[str]) -> bool:
    explicit = config.get(switch)
    if explicit is not None:
        return switched_on(explicit)
    # Any setting of a channel means someone meant to turn it on: half a
    # configuration must fail here rather than at the first message.
    return any(config.get(key) for key in keys)


def switched_on(value: object) -> bool:
    """Read a switch as set in a config file or the environment ("false" is off)."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "no", "off")
    return bool(value)


def telegram_enabled(config: Mapping[str, Any]) -> bool:
    """Say whether the Telegram channel is on (its switch, else any setting)."""
    return _enabled(config, "TELEGRAM_ENABLED", TELEGRAM_KEYS)


def twilio_enabled(config: Mapping[str, Any]) -> bool:
    """Say whether SMS and WhatsApp are on (the switch, else any setting)."""
    return _enabled(config, "TWILIO_ENABLED", TWILIO_KEYS)


def _card_key_problems(app: Flask) -> list[str]:
    if app.config.get("CARDS_ENABLED") is False:
        return []
    from plans import card_keys

    configured = app.config.get("CARD_SIGNING_KEYS")
    try:
        if configured:
            keys = card_keys.parse_keys(str(configured))
            source = "RESPONDER_CARD_SIGNING_KEYS"
        else:
            path = _card_key_file(app)
            if not path.exists():
                return [
                    "no card signing key: set RESPONDER_CARD_SIGNING_KEYS "
                    "(kid:base64-key,...) or create a key file with "
                    f"`responder cards keys generate` at {path}"
                ]
            keys = card_keys.read_key_file(path.read_text(encoding="utf-8"))
            source = f"the card key file {path}"
    except (ValueError, KeyError, OSError) as error:
        # The message names the key id at most, never key material.
        return [f"the card signing keys cannot be read: {type(error).__name__}"]
    development = [m.kid for m in keys.masters if m.kid.upper().startswith("DEV")]
    if development:
        return [
            f"{source} holds development card keys ({', '.join(development)}): "
            "cards signed with them must not reach the public"
        ]
    return []


def _card_key_file(app: Flask) -> Path:
    configured = app.config.get("CARD_KEY_FILE")
    if configured:
        return Path(str(configured))
    return Path(app.instance_path) / CARD_KEY_FILE_NAME
