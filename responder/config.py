"""Default configuration; every key can be set as RESPONDER_<KEY> in the environment."""

from __future__ import annotations

import datetime as dt

# "production" unless told otherwise: a forgotten setting must fail closed.
ENVIRONMENT = "production"
SECRET_KEY: str | None = None
DATABASE_URL: str | None = None  # default: SQLite file in the instance folder
REDIS_URL: str | None = None
MAX_CONTENT_LENGTH = 2 * 1024 * 1024
JSON_SORT_KEYS = False

# Search API limits.
SEARCH_MAX_QUERY_LENGTH = 200
SEARCH_MAX_LIMIT = 50
SEARCH_DEFAULT_LIMIT = 10

# Sessions suited to a 12-hour shift.
SESSION_IDLE_TIMEOUT = dt.timedelta(hours=2)
SESSION_ABSOLUTE_TIMEOUT = dt.timedelta(hours=13)

# Workers for `responder serve`.
SERVE_WORKERS = 4
SERVE_THREADS = 1

# Reverse proxies in front of the app whose X-Forwarded-* headers are trusted.
TRUSTED_PROXY_HOPS = 0

# Chat: what a bot sends when a responder opens a plan ("link" or "summary").
CHAT_DISCLOSURE = "link"

# Plan cards (see docs/deploy.md): signing keys as "kid:base64-key,...", current first.
CARD_SIGNING_KEYS: str | None = None
PERSON_SESSION_LIFETIME = dt.timedelta(minutes=20)

# Passkeys (WebAuthn): the relying party is the public host name; outside
# development it must be set to it (and the origin, when given, must be https).
WEBAUTHN_RP_ID = "localhost"
WEBAUTHN_RP_NAME = "Responder"
WEBAUTHN_ORIGIN: str | None = None
ALLOW_HTTP_SESSION_COOKIE = False

# Searches per account, on every channel (web, API, chats), counted in Redis when
# REDIS_URL is set and in the database otherwise. Generous for a busy shift.
SEARCH_RATE_LIMITS = "60/minute;600/hour"

# API tokens expire; `responder tokens create --days` and the account page may
# choose a shorter life, never a longer one.
API_TOKEN_LIFETIME_DAYS = 90

# argon2id cost of passwords and PINs as "time_cost=3,memory_cost=65536,parallelism=4"
# (None: that production profile). Only tests and development may lower it.
PASSWORD_HASH_COST: str | None = None

# Publish rules (plans/publish_rules.py) and the reminders and deadlines around them.
PUBLISH_MAX_REVIEW_MONTHS = 12  # review date at most this far after approval
PUBLISH_MAX_CAPACITY_AGE_MONTHS = 12  # capacity assessment at most this old
REVIEW_REMINDER_DAYS = 30  # the desk lists reviews due within this many days
WITHDRAWAL_DEADLINE_WORKING_DAYS = 5  # a withdrawal request is acted on within

# Single sign-on (see docs/deploy.md): OpenID providers by name, as a JSON object
# (RESPONDER_SSO_PROVIDERS). Empty: local accounts only.
SSO_PROVIDERS: dict[str, object] = {}
# Whom a disabled user is told to ask when no administrator is on record.
ACCOUNT_HELP = "your organisation's Responder administrator"
# The person through NHS login (P9): off until the plan's NHS number is recorded.
NHS_LOGIN_ENABLED = False

# National Record Locator pointers (plans/nrl.py, docs/deploy.md): off while
# NRL_BASE_URL is unset. The producer API's base URL, the token endpoint (default:
# /oauth2/token on the same host), the application's API key and the id and PEM
# file of the private key registered with it, the organisation's ODS code, and a
# public page with the team's contact details (`{team}` becomes its code).
NRL_BASE_URL: str | None = None
NRL_TOKEN_URL: str | None = None
NRL_API_KEY: str | None = None
NRL_KID: str | None = None
NRL_KEY_FILE: str | None = None
NRL_ODS_CODE: str | None = None
NRL_CONTACT_URL: str | None = None
NRL_TIMEOUT_SECONDS = 10.0
