"""Load-test Responder as a deployment meets it: many responders, mentors publishing.

    .venv/bin/python bench/load.py       # 100,000 plans, 200 users, 60 s, SQLite
    .venv/bin/python bench/load.py --plans 10000 --seconds 20 --users 50
    .venv/bin/python bench/load.py --url postgresql+psycopg://postgres@127.0.0.1:5432/test

What it does, in order:

1. Builds (or reuses, in --workdir) a database of N synthetic plans from
   `responder.demo.generate_documents`, landed with the exchange import function in
   batches (the same code path as `responder import`), and times the import.
2. Adds synthetic accounts: responders with a password and an authenticator app,
   an API token each; a mentor and a lead clinician; signed plan cards.
3. Serves the app with `responder serve --workers W` (gunicorn on 127.0.0.1) in
   production configuration, with Redis for the rate limits, and a minimal Flask
   endpoint the same way as the ceiling of the stack.
4. Signs every simulated responder in through the real forms (CSRF token,
   password, TOTP code), each from its own loopback address so per-address rate
   limits apply as they would to real phones. Then for --seconds they search (the
   API with bearer tokens, for the full name of a person with a plan; the web
   page, for one name word), open plans with a stated basis (following the form
   with its CSRF token) and scan cards, pausing to read between requests
   (--think), while a separate process of mentors saves, submits and publishes
   new versions through the domain, each step its own transaction as at the desk.
5. Reports errors and p50/p95/p99 per request kind, throughput, and the minimal
   endpoint's throughput; then checks every published version is live or
   superseded by a later one, that each person has exactly one live version,
   that responders see the newest versions, and that the audit chain verifies.

Every person and account is synthetic. Figures go to stdout and, with --json,
to a file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import click  # noqa: E402

RESPONDER_ROLES = ("police", "ambulance", "emergency_department", "control_room")
PASSWORD = "bench-password-not-for-production"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
REDIS_URL = "redis://127.0.0.1:6379/14"
TODAY = dt.date(2026, 11, 23)


# -- the minimal endpoint: the ceiling of the stack ------------------------------


def _minimal() -> Any:
    from flask import Flask, jsonify

    app = Flask("minimal")

    @app.get("/")
    def index() -> Any:
        """Answer as little as a Flask view can."""
        return jsonify(ok=True)

    return app


minimal_app = _minimal()


# -- building the database ----------------------------------------------------------


def database_for(url: str, plans: int, workdir: Path) -> str:
    """Return the URL of the bench database, creating its container if needed."""
    if not url.startswith("postgresql"):
        return f"sqlite:///{workdir}/bench-{plans}.db"
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"responder_bench_{plans}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        )
        if not exists:
            connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    target = make_url(url).set(database=name)
    bench = create_engine(target, isolation_level="AUTOCOMMIT")
    with bench.connect() as connection:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    bench.dispose()
    return target.render_as_string(hide_password=False)


def build_database(url: str, plans: int, seed: int) -> dict[str, float]:
    """Create the schema and import the synthetic plans unless already there."""
    from sqlalchemy import func, select

    from plans import exchange
    from plans.db import create_schema, make_engine, make_session_factory
    from plans.models import Person
    from responder.demo import generate_documents

    engine = make_engine(url)
    create_schema(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        present = session.scalar(select(func.count()).select_from(Person)) or 0
    figures: dict[str, float] = {"plans_present_before": present}
    if present >= plans:
        engine.dispose()
        return figures
    started = time.perf_counter()
    documents = generate_documents(plans, seed=seed, today=TODAY)
    done = 0
    batch: list[dict[str, Any]] = []
    with factory() as session:
        for document in documents:
            batch.append(document)
            if len(batch) == 1000:
                exchange.import_documents(session, batch, actor="bench", source="bench")
                session.commit()
                session.expunge_all()
                done += len(batch)
                batch = []
                rate = done / (time.perf_counter() - started)
                print(f"\r  imported {done}/{plans} ({rate:.0f}/s)", end="", flush=True)
        if batch:
            exchange.import_documents(session, batch, actor="bench", source="bench")
            session.commit()
    elapsed = time.perf_counter() - started
    print()
    engine.dispose()
    figures.update(import_seconds=elapsed, import_per_second=plans / elapsed)
    return figures


@dataclass
class Fixtures:
    """The synthetic accounts, cards and search words the load uses."""

    responders: list[dict[str, str]]
    card_tokens: list[str]
    refs: list[str]
    words: list[str]
    card_keys: str
    secret_key: str
    # Full names of people with plans: what a responder types when told a name.
    names: list[str] = field(default_factory=list)


def full_names(url: str, limit: int = 5000) -> list[str]:
    """Return "given family" of the first people with live plans."""
    from sqlalchemy import select

    from plans.db import make_engine, make_session_factory
    from plans.models import Person, PlanVersion

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        rows = session.execute(
            select(Person.given_name, Person.family_name)
            .join(PlanVersion, PlanVersion.person_id == Person.id)
            .where(PlanVersion.status == "live")
            .order_by(Person.id)
            .limit(limit)
        ).all()
    engine.dispose()
    return [f"{given} {family}" for given, family in rows]


def build_fixtures(url: str, users: int, workdir: Path, seed: int) -> Fixtures:
    """Create (or reload) responders with TOTP and tokens, mentors and cards."""
    from plans.hashing import sha256_hex

    saved = workdir / f"fixtures-{sha256_hex(url)[:10]}.json"
    if saved.exists():
        data = json.loads(saved.read_text())
        if len(data["responders"]) >= users:
            if not data.get("names"):
                data["names"] = full_names(url)
                saved.write_text(json.dumps(data))
            data["responders"] = data["responders"][:users]
            return Fixtures(**data)
    import pyotp
    from sqlalchemy import select

    from plans import accounts, card_keys, cards
    from plans.db import make_engine, make_session_factory, utcnow
    from plans.models import Person, PlanVersion, User
    from plans.signin import authenticator, second_factors
    from responder.demo import demo_teams

    rng = random.Random(seed)
    secret_key = secrets.token_hex(32)
    keys = card_keys.KeySet((card_keys.generate_master_key("BENCH1"),))
    cipher = authenticator.totp_cipher(secret_key)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    team_codes = [team["code"] for team in demo_teams()]
    responders = []
    with factory() as session:
        for index in range(users):
            email = f"responder{index:04d}@bench.example"
            user = accounts.find_user(session, email)
            if user is None:
                user = accounts.create_user(
                    session,
                    email,
                    role=RESPONDER_ROLES[index % len(RESPONDER_ROLES)],
                    password=PASSWORD,
                    display_name=f"Bench Responder {index}",
                )
                session.flush()
            second_factors.reset_second_factors(session, user)
            uri = authenticator.begin_totp(session, user, cipher)
            row = session.get(authenticator.TotpFactor, user.id)
            # Confirmed without spending a code, so the sign-in code is fresh.
            row.confirmed_at = utcnow()
            _row, token = accounts.create_token(session, user, name="bench")
            responders.append(
                {
                    "email": email,
                    "totp": pyotp.parse_uri(uri).secret,
                    "token": token,
                }
            )
        for email, role in (
            ("mentor@bench.example", "mentor"),
            ("lead@bench.example", "lead_clinician"),
        ):
            if accounts.find_user(session, email) is None:
                accounts.create_user(
                    session, email, role=role, password=PASSWORD, team_codes=team_codes
                )
        session.commit()
        people = list(
            session.scalars(
                select(Person)
                .join(PlanVersion, PlanVersion.person_id == Person.id)
                .where(PlanVersion.status == "live")
                .order_by(Person.id)
            )
        )
        refs = [person.ref for person in people]
        words = sorted(
            {person.family_name for person in people[:5000]}
            | {person.given_name for person in people[:5000]}
        )
        lead = accounts.find_user(session, "lead@bench.example")
        card_tokens = []
        for person in rng.sample(people, min(300, len(people))):
            card = cards.issue(session, person, keys, by=lead, channel="cli")
            card_tokens.append(card.token)
        session.commit()
        assert isinstance(lead, User)
    engine.dispose()
    fixtures = Fixtures(
        responders=responders,
        card_tokens=card_tokens,
        refs=refs,
        words=words,
        card_keys=card_keys.format_keys(keys),
        secret_key=secret_key,
        names=full_names(url),
    )
    saved.write_text(json.dumps(fixtures.__dict__))
    saved.chmod(0o600)
    return fixtures


# -- servers ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_app(url: str, fixtures: Fixtures, workers: int, log: Path) -> tuple[Any, int]:
    """Start `responder serve` in production configuration; return it and its port."""
    port = free_port()
    env = dict(
        os.environ,
        RESPONDER_DATABASE_URL=url,
        RESPONDER_SECRET_KEY=fixtures.secret_key,
        RESPONDER_ENVIRONMENT="production",
        RESPONDER_TRUSTED_HOSTS=json.dumps(["127.0.0.1"]),
        RESPONDER_WEBAUTHN_RP_ID="127.0.0.1",
        RESPONDER_CARD_SIGNING_KEYS=fixtures.card_keys,
        RESPONDER_REDIS_URL=REDIS_URL,
    )
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "responder"),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=str(ROOT),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_ready(port, "/healthz", process)
    return process, port


def start_minimal(workers: int, log: Path) -> tuple[Any, int]:
    """Serve the minimal Flask endpoint with gunicorn, workers as for the app."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "bench.load:minimal_app",
        ],
        cwd=str(ROOT),
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_ready(port, "/", process)
    return process, port


def wait_ready(port: int, path: str, process: Any) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            if (
                httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code
                == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not become ready")


def stop(process: Any) -> None:
    with_pid = process.pid
    try:
        os.killpg(with_pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(with_pid, signal.SIGKILL)
        process.wait()


# -- mentors publishing, in a process of their own ----------------------------------


def publish_forever(
    url: str, refs_file: str, log_file: str, rate: float, seed: int
) -> None:
    """Draft, submit and publish new versions of random people until stopped."""
    from sqlalchemy import select

    from plans import accounts, drafts, guardrails
    from plans.db import make_engine, make_session_factory
    from plans.models import Person

    refs = json.loads(Path(refs_file).read_text())
    rng = random.Random(seed)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with open(log_file, "a", encoding="utf-8") as log:
        count = 0
        while True:
            started = time.monotonic()
            ref = rng.choice(refs)
            try:
                with factory() as session:
                    mentor = accounts.find_user(session, "mentor@bench.example")
                    lead = accounts.find_user(session, "lead@bench.example")
                    person = session.scalars(
                        select(Person).where(Person.ref == ref)
                    ).one()
                    if drafts.open_draft(session, person) is not None:
                        continue  # someone is already editing this plan
                    draft = drafts.start_from_live(session, person, author=mentor)
                    document = json.loads(json.dumps(draft.document))
                    count += 1
                    marker = f"Bench revision {seed}-{count}"
                    plan = document["plan"]
                    plan["summary"] = (f"{marker}. " + plan.get("summary", ""))[:2000]
                    # A revision is reviewed and agreed again, as the desk requires.
                    plan["review_by"] = (TODAY + dt.timedelta(days=180)).isoformat()
                    plan["coproduction"] = {
                        **(plan.get("coproduction") or {}),
                        "agreed_with_person": True,
                        "agreed_on": TODAY.isoformat(),
                    }
                    session.commit()
                    # Save, submit and publish are separate requests at the desk,
                    # each its own transaction; so they are here.
                    draft = drafts.edit_draft(
                        session,
                        draft,
                        document,
                        editor=mentor,
                        based_on=draft.edit_count,
                    )
                    session.commit()
                    drafts.submit(session, draft, mentor=mentor, today=TODAY)
                    session.commit()
                    acknowledgements = {
                        finding.key: "Agreed with the person; kept on purpose"
                        for finding in guardrails.to_acknowledge(
                            guardrails.check_plan(draft.document)
                        )
                    }
                    drafts.publish(
                        session,
                        draft,
                        approver=lead,
                        acknowledgements=acknowledgements,
                        today=TODAY,
                    )
                    session.commit()
                    log.write(
                        json.dumps(
                            {"ref": ref, "version": draft.version, "marker": marker}
                        )
                        + "\n"
                    )
                    log.flush()
            except Exception as error:  # noqa: BLE001  counted, not fatal
                log.write(
                    json.dumps(
                        {
                            "ref": ref,
                            "error": type(error).__name__,
                            "message": str(error)[:200],
                        }
                    )
                    + "\n"
                )
                log.flush()
            pause = 1 / rate - (time.monotonic() - started)
            if pause > 0:
                time.sleep(pause)


# -- simulated responders -----------------------------------------------------------


@dataclass
class Results:
    """Latencies and failures per request kind."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)

    def note(self, kind: str, seconds: float, ok: bool, why: str = "") -> None:
        self.latencies[kind].append(seconds)
        if not ok:
            self.errors[kind] += 1
            if len(self.samples) < 20:
                self.samples.append(f"{kind}: {why}")


@dataclass
class Answer:
    """What a request came back with: status, headers and body text."""

    status_code: int
    headers: Any
    text: str


class Browser:
    """One responder's phone: its own address, its own cookies (Secure ones too).

    aiohttp rather than httpx: the clients share the 2 cores with the servers,
    and aiohttp spends about a third of httpx's CPU per request.
    """

    def __init__(self, port: int, address: str) -> None:
        import aiohttp

        self.base = f"http://127.0.0.1:{port}"
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(local_addr=(address, 0), limit=1),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=120),
        )
        self.cookies: dict[str, str] = {}

    async def request(self, method: str, path: str, **kwargs: Any) -> Answer:
        # The session cookie is Secure (production), and a client would not send
        # it over the loopback's plain HTTP, where nginx's TLS would normally be.
        headers = dict(kwargs.pop("headers", {}))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        async with self.http.request(
            method, self.base + path, headers=headers, allow_redirects=False, **kwargs
        ) as response:
            body = await response.text()
            for raw in response.headers.getall("Set-Cookie", []):
                pair, _, attributes = raw.partition(";")
                name, _, value = pair.strip().partition("=")
                if "max-age=0" in attributes.lower() or not value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
            return Answer(response.status, response.headers, body)

    async def close(self) -> None:
        await self.http.close()


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    return match.group(1) if match else ""


async def sign_in(browser: Browser, account: dict[str, str]) -> None:
    import pyotp

    page = await browser.request("GET", "/login")
    response = await browser.request(
        "POST",
        "/login",
        data={
            "email": account["email"],
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
        },
    )
    if response.status_code not in (302, 303):
        raise RuntimeError(f"password step answered {response.status_code}")
    page = await browser.request("GET", "/login/second-factor")
    response = await browser.request(
        "POST",
        "/login/totp",
        data={
            "code": pyotp.TOTP(account["totp"]).now(),
            "csrf_token": csrf_of(page.text),
        },
    )
    if response.status_code not in (302, 303):
        raise RuntimeError(f"code step answered {response.status_code}")


async def timed(results: Results, kind: str, call: Any, expect: tuple[int, ...]) -> Any:
    started = time.perf_counter()
    try:
        response = await call
    except Exception as error:  # noqa: BLE001
        results.note(kind, time.perf_counter() - started, False, type(error).__name__)
        return None
    ok = response.status_code in expect
    results.note(
        kind, time.perf_counter() - started, ok, f"HTTP {response.status_code}"
    )
    return response if ok else None


async def responder_loop(
    browser: Browser,
    account: dict[str, str],
    fixtures: Fixtures,
    results: Results,
    deadline: float,
    rng: random.Random,
    think: float,
) -> None:
    """Search, open plans and scan cards until the deadline, pausing like a person.

    Between one tap and the next a responder reads: results, the form, the plan.
    Each pause is uniform in [0.5, 1.5] x `think` seconds; 0 sends requests back
    to back, which measures saturation rather than a responder.
    """
    bearer = {"Authorization": f"Bearer {account['token']}"}

    async def pause() -> None:
        if think > 0:
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))

    # Responders do not all tap in the same second: start at random offsets.
    await pause()
    while time.monotonic() < deadline:
        roll = rng.random()
        if roll < 0.25:
            # A name the person gave (or a second name, if the bench has none).
            query = (
                rng.choice(fixtures.names)
                if fixtures.names
                else " ".join(rng.sample(fixtures.words, 2))
            )
            await timed(
                results,
                "search_api",
                browser.request(
                    "GET", "/api/v1/search", params={"q": query}, headers=bearer
                ),
                (200,),
            )
            await pause()
        elif roll < 0.45:
            query = rng.choice(fixtures.words)
            await timed(
                results,
                "search_web",
                browser.request("GET", "/search", params={"q": query}),
                (200,),
            )
            await pause()
        elif roll < 0.80:
            ref = urllib.parse.quote(rng.choice(fixtures.refs))
            form = await timed(
                results, "open_form", browser.request("GET", f"/open/{ref}"), (200,)
            )
            await pause()
            if form is None:
                continue
            moved = await timed(
                results,
                "open_submit",
                browser.request(
                    "POST",
                    f"/open/{ref}",
                    data={
                        "basis": "attending_incident",
                        "incident": f"INC-{rng.randrange(10**6):06d}",
                        "csrf_token": csrf_of(form.text),
                    },
                ),
                (302, 303),
            )
            if moved is not None:
                await timed(
                    results,
                    "plan_view",
                    browser.request("GET", moved.headers["location"]),
                    (200,),
                )
            await pause()
        elif fixtures.card_tokens:
            token = rng.choice(fixtures.card_tokens)
            moved = await timed(
                results, "card_scan", browser.request("GET", f"/c/{token}"), (302, 303)
            )
            if moved is not None:
                await timed(
                    results,
                    "plan_view",
                    browser.request("GET", moved.headers["location"]),
                    (200,),
                )
            await pause()
        else:
            await pause()


def address(index: int) -> str:
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


async def run_load(
    port: int, fixtures: Fixtures, users: int, seconds: float, seed: int, think: float
) -> tuple[Results, float, int]:
    results = Results()
    browsers = [Browser(port, address(i)) for i in range(users)]
    # Shifts start over minutes, not in one second: sign in a few at a time.
    gate = asyncio.Semaphore(8)

    async def staggered(browser: Browser, account: dict[str, str]) -> None:
        async with gate:
            started = time.perf_counter()
            await sign_in(browser, account)
            results.note("sign_in_warmup", time.perf_counter() - started, True)

    signed = await asyncio.gather(
        *(
            staggered(browser, account)
            for browser, account in zip(browsers, fixtures.responders, strict=False)
        ),
        return_exceptions=True,
    )
    failures = [s for s in signed if isinstance(s, BaseException)]
    if failures:
        print(f"  {len(failures)} sign-ins failed, e.g. {failures[0]!r}")
    started = time.monotonic()
    deadline = started + seconds
    await asyncio.gather(
        *(
            responder_loop(
                browser,
                account,
                fixtures,
                results,
                deadline,
                random.Random(seed + i),
                think,
            )
            for i, (browser, account) in enumerate(
                zip(browsers, fixtures.responders, strict=False)
            )
            if not isinstance(signed[i], BaseException)
        )
    )
    elapsed = time.monotonic() - started
    for browser in browsers:
        await browser.close()
    return results, elapsed, len(failures)


async def run_minimal(port: int, users: int, seconds: float) -> tuple[Results, float]:
    results = Results()
    browsers = [Browser(port, address(i)) for i in range(users)]
    deadline = time.monotonic() + seconds

    async def loop(browser: Browser) -> None:
        while time.monotonic() < deadline:
            await timed(results, "minimal", browser.request("GET", "/"), (200,))

    started = time.monotonic()
    await asyncio.gather(*(loop(browser) for browser in browsers))
    elapsed = time.monotonic() - started
    for browser in browsers:
        await browser.close()
    return results, elapsed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summarise(results: Results, elapsed: float) -> dict[str, Any]:
    table: dict[str, Any] = {}
    total = 0
    for kind, values in sorted(results.latencies.items()):
        if not kind.endswith("_warmup"):  # before the clock started
            total += len(values)
        table[kind] = {
            "requests": len(values),
            "errors": results.errors.get(kind, 0),
            "p50_ms": round(statistics.median(values) * 1000, 1),
            "p95_ms": round(percentile(values, 0.95) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1),
        }
    timed_requests = [
        value
        for kind, values in results.latencies.items()
        if not kind.endswith("_warmup")
        for value in values
    ]
    if timed_requests:
        table["ALL"] = {
            "requests": len(timed_requests),
            "errors": sum(
                count
                for kind, count in results.errors.items()
                if not kind.endswith("_warmup")
            ),
            "p50_ms": round(statistics.median(timed_requests) * 1000, 1),
            "p95_ms": round(percentile(timed_requests, 0.95) * 1000, 1),
            "p99_ms": round(percentile(timed_requests, 0.99) * 1000, 1),
        }
    return {
        "kinds": table,
        "requests": total,
        "errors": sum(results.errors.values()),
        "seconds": round(elapsed, 1),
        "requests_per_second": round(total / elapsed, 1) if elapsed else 0,
        "error_samples": results.samples,
    }


# -- checks afterwards ---------------------------------------------------------------


def check_consistency(url: str, published_log: Path, refs_file: Path) -> dict[str, Any]:
    """Check published versions, one live version per person, and the audit chain."""
    from sqlalchemy import func, select

    from plans import audit
    from plans.db import make_engine, make_session_factory
    from plans.models import Person, PlanVersion

    entries = [json.loads(line) for line in published_log.read_text().splitlines()]
    published = [e for e in entries if "version" in e]
    failed = [e for e in entries if "error" in e]
    engine = make_engine(url)
    out: dict[str, Any] = {
        "published": len(published),
        "publish_failures": len(failed),
        "publish_failure_samples": failed[:5],
    }
    with make_session_factory(engine)() as session:
        newest: dict[str, int] = {}
        for entry in published:
            newest[entry["ref"]] = max(newest.get(entry["ref"], 0), entry["version"])
        missing = []
        for entry in published:
            status = session.scalar(
                select(PlanVersion.status)
                .join(Person, PlanVersion.person_id == Person.id)
                .where(
                    Person.ref == entry["ref"], PlanVersion.version == entry["version"]
                )
            )
            want = "live" if newest[entry["ref"]] == entry["version"] else "superseded"
            if status != want:
                missing.append({**entry, "status": status, "expected": want})
        out["published_not_visible"] = missing[:10]
        out["published_not_visible_count"] = len(missing)
        live_counts = (
            select(PlanVersion.person_id, func.count().label("n"))
            .where(PlanVersion.status == "live")
            .group_by(PlanVersion.person_id)
            .subquery()
        )
        out["people_with_two_live"] = session.scalar(
            select(func.count()).select_from(live_counts).where(live_counts.c.n > 1)
        )
        refs = json.loads(refs_file.read_text())
        # Compared here, not in SQL: 100,000 refs are more bound parameters than
        # PostgreSQL takes in one statement.
        live_refs = set(
            session.scalars(
                select(Person.ref)
                .join(PlanVersion, PlanVersion.person_id == Person.id)
                .where(PlanVersion.status == "live")
            )
        )
        out["people_live_at_start"] = len(refs)
        out["people_without_live"] = sum(ref not in live_refs for ref in refs)
        started = time.perf_counter()
        report = audit.verify(session)
        out["audit_rows"] = report.checked
        out["audit_ok"] = report.ok
        out["audit_problem"] = report.problem
        out["audit_verify_seconds"] = round(time.perf_counter() - started, 1)
    engine.dispose()
    return out


async def check_visible(
    port: int, fixtures: Fixtures, published_log: Path, sample: int = 20
) -> dict[str, Any]:
    """Open the newest published plans as a responder and look for their markers."""
    entries = [json.loads(line) for line in published_log.read_text().splitlines()]
    newest: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if "version" in entry and entry["version"] >= newest.get(entry["ref"], {}).get(
            "version", 0
        ):
            newest[entry["ref"]] = entry
    chosen = list(newest.values())[-sample:]
    browser = Browser(port, "127.0.9.9")
    await sign_in(browser, fixtures.responders[-1])
    seen = 0
    for entry in chosen:
        ref = urllib.parse.quote(entry["ref"])
        form = await browser.request("GET", f"/open/{ref}")
        moved = await browser.request(
            "POST",
            f"/open/{ref}",
            data={
                "basis": "attending_incident",
                "incident": "INC-CHECK",
                "csrf_token": csrf_of(form.text),
            },
        )
        page = await browser.request(
            "GET", moved.headers.get("location", f"/plans/{ref}")
        )
        seen += entry["marker"] in page.text
    await browser.close()
    return {"checked_in_browser": len(chosen), "newest_version_shown": seen}


# -- the command ----------------------------------------------------------------------


@click.command()
@click.option("--plans", default=100_000, show_default=True)
@click.option("--users", default=200, show_default=True)
@click.option("--seconds", default=60.0, show_default=True)
@click.option("--workers", default=4, show_default=True)
@click.option("--url", default="", help="PostgreSQL admin URL (default: SQLite).")
@click.option("--publish-rate", default=2.0, show_default=True, help="Publishes/s.")
@click.option(
    "--think",
    default=2.0,
    show_default=True,
    help="Mean seconds a responder reads between requests (0: back to back).",
)
@click.option("--seed", default=7, show_default=True)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/tmp/responder-bench"),
    show_default=True,
    help="Keeps the database and accounts between runs.",
)
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--import-only", is_flag=True, help="Build the database and stop.")
def main(
    plans: int,
    users: int,
    seconds: float,
    workers: int,
    url: str,
    publish_rate: float,
    think: float,
    seed: int,
    workdir: Path,
    json_out: Path | None,
    import_only: bool,
) -> None:
    """Load-test search, plan opening and card scans while mentors publish."""
    import multiprocessing

    workdir.mkdir(parents=True, exist_ok=True)
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    print(f"database: {backend}, {plans} plans; {users} users for {seconds:.0f} s")
    target = database_for(url, plans, workdir)
    report: dict[str, Any] = {
        "backend": backend,
        "plans": plans,
        "users": users,
        "workers": workers,
        "think_seconds": think,
        "cpus": os.cpu_count(),
    }
    report["import"] = build_database(target, plans, seed)
    print(f"  import: {report['import']}")
    if import_only:
        print(json.dumps(report, indent=2))
        return
    fixtures = build_fixtures(target, users, workdir, seed)
    refs_file = workdir / "refs.json"
    refs_file.write_text(json.dumps(fixtures.refs))
    published_log = workdir / f"published-{backend}-{int(time.time())}.jsonl"
    published_log.touch()
    server_log = workdir / "server.log"

    minimal, minimal_port = start_minimal(workers, server_log)
    try:
        minimal_results, minimal_elapsed = asyncio.run(
            run_minimal(minimal_port, users, min(seconds, 20))
        )
    finally:
        stop(minimal)
    report["minimal"] = summarise(minimal_results, minimal_elapsed)
    print(f"  minimal endpoint: {report['minimal']['requests_per_second']} req/s")

    app, port = start_app(target, fixtures, workers, server_log)
    publisher = multiprocessing.get_context("spawn").Process(
        target=publish_forever,
        args=(target, str(refs_file), str(published_log), publish_rate, seed),
        daemon=True,
    )
    try:
        publisher.start()
        results, elapsed, sign_in_failures = asyncio.run(
            run_load(port, fixtures, users, seconds, seed, think)
        )
        publisher.terminate()
        publisher.join()
        report["load"] = summarise(results, elapsed)
        report["load"]["sign_in_failures"] = sign_in_failures
        report["visible"] = asyncio.run(check_visible(port, fixtures, published_log))
    finally:
        if publisher.is_alive():
            publisher.kill()
        stop(app)
    report["consistency"] = check_consistency(target, published_log, refs_file)
    print_report(report)
    if json_out:
        json_out.write_text(json.dumps(report, indent=2))


def print_report(report: dict[str, Any]) -> None:
    load = report["load"]
    print(
        f"\n{report['backend']}: {report['plans']} plans, {report['users']} users, "
        f"{report['workers']} workers, {report['cpus']} CPUs, "
        f"think {report['think_seconds']} s"
    )
    print(
        f"{'kind':<14}{'requests':>10}{'errors':>8}"
        f"{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}"
    )
    for kind, row in load["kinds"].items():
        print(
            f"{kind:<14}{row['requests']:>10}{row['errors']:>8}"
            f"{row['p50_ms']:>10}{row['p95_ms']:>10}{row['p99_ms']:>10}"
        )
    print(
        f"total {load['requests']} requests in {load['seconds']} s = "
        f"{load['requests_per_second']} req/s, {load['errors']} errors, "
        f"{load['sign_in_failures']} failed sign-ins"
    )
    minimal = report["minimal"]
    print(
        f"minimal Flask endpoint, same server: {minimal['requests_per_second']} req/s "
        f"(p50 {minimal['kinds']['minimal']['p50_ms']} ms, "
        f"p95 {minimal['kinds']['minimal']['p95_ms']} ms)"
    )
    if load["error_samples"]:
        print("error samples:", "; ".join(load["error_samples"][:5]))
    print("after the run:", json.dumps(report["consistency"]))
    print("in the browser:", json.dumps(report["visible"]))


if __name__ == "__main__":
    main()
