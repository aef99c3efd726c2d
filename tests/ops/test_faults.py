"""Faults a deployment will meet: killed workers, lost databases, full disks, no Redis.

Each test breaks something for real (a SIGKILLed process, a vanished database
file, a TCP path to PostgreSQL that stops answering, a database that may not
grow) and checks what a user or operator would notice: the data stays
consistent, the audit chain verifies, the error is a plain page, and service
comes back without a restart.
"""

from __future__ import annotations

import contextlib
import os
import select as select_module
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from plans import accounts, audit, versions
from plans.audit import AuditEvent, AuditHead
from plans.db import create_schema, make_session_factory
from plans.models import PlanVersion
from responder import ROOT
from responder.access import public
from tests.conftest import BACKEND
from tests.plans import factories

SECRET = "fault-test-secret-key-0123456789abcdefghijklmnop"
TRACE_WORDS = ("Traceback", "OperationalError", "sqlite3", "psycopg", 'File "')

# -- killed workers -------------------------------------------------------------

PUBLISH_THEN_WAIT = """
import sys, time
import plans.all_models
from plans import audit, versions
from plans.db import make_engine, make_session_factory
from plans.models import PlanVersion

url, draft_id, when = sys.argv[1], int(sys.argv[2]), sys.argv[3]
engine = make_engine(url)
with make_session_factory(engine)() as session:
    draft = session.get(PlanVersion, draft_id)
    versions.make_live(session, draft)
    audit.record(session, action="plan_published", channel="system",
                 person_ref=draft.person.ref, plan_version_id=draft.id)
    session.flush()  # the old version is superseded in the database now
    if when == "after_commit":
        session.commit()
    print("ready", flush=True)
    time.sleep(300)
    session.commit()
"""

APPEND_FOREVER = """
import sys
import plans.all_models
from plans import audit
from plans.db import make_engine, make_session_factory

url, per_transaction = sys.argv[1], int(sys.argv[2])
engine = make_engine(url)
factory = make_session_factory(engine)
done = 0
while True:
    with factory() as session:
        for n in range(per_transaction):
            audit.record(session, action="fault_append", channel="system",
                         detail={"count": done * per_transaction + n})
        session.commit()
    done += 1
    print(done, flush=True)
"""

PUBLISH_FOREVER = """
import sys
import plans.all_models
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from plans import audit, versions
from plans.db import make_engine, make_session_factory
from plans.models import Person, PlanVersion

url, seed = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, sys.argv[3])
from tests.plans import factories

engine = make_engine(url)
factory = make_session_factory(engine)
n = seed
while True:
    with factory() as session:
        people = list(session.scalars(select(Person).order_by(Person.id)))
        person = people[n % len(people)]
        try:
            number = versions.next_version_number(session, person)
            draft = factories.draft(session, person, version=number)
        except IntegrityError:
            # Another publisher took that version number first: start again.
            session.rollback()
            continue
        versions.make_live(session, draft)
        audit.record(session, action="plan_published", channel="system",
                     person_ref=person.ref, plan_version_id=draft.id)
        session.commit()
    n += 1
    print(n, flush=True)
"""


def start(script: str, *args: str) -> subprocess.Popen[str]:
    """Start a Python child running `script` with the project importable."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=str(ROOT),
        env=env,
    )


def read_line(process: subprocess.Popen[str], wait: float = 120.0) -> str:
    """Read one line from the child, failing the test if it dies or stalls."""
    assert process.stdout is not None
    ready, _, _ = select_module.select([process.stdout], [], [], wait)
    line = process.stdout.readline() if ready else ""
    if not line:
        process.kill()
        _, errors = process.communicate()
        pytest.fail(f"the child stopped before signalling: {errors[-2000:]}")
    return line.strip()


def kill(process: subprocess.Popen[str]) -> None:
    """SIGKILL the child: no cleanup, no rollback, no atexit."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert process.returncode == -signal.SIGKILL
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def live_versions(session: Session, person_id: int) -> list[int]:
    session.expire_all()
    return list(
        session.scalars(
            select(PlanVersion.version).where(
                PlanVersion.person_id == person_id, PlanVersion.status == "live"
            )
        )
    )


def assert_chain_intact(session: Session) -> int:
    session.expire_all()
    report = audit.verify(session)
    assert report.ok, report.problem
    return report.checked


@pytest.mark.parametrize(
    ("when", "expected_live"), [("before_commit", 1), ("after_commit", 2)]
)
def test_a_worker_killed_mid_publish_leaves_exactly_one_live_version(
    engine: Engine, database_url: str, session: Session, when: str, expected_live: int
) -> None:
    person = factories.person(session)
    first = factories.draft(session, person)
    versions.make_live(session, first)
    audit.record(session, action="plan_published", channel="system")
    second = factories.draft(session, person, version=2)
    session.commit()
    person_id, second_id = person.id, second.id

    child = start(PUBLISH_THEN_WAIT, database_url, str(second_id), when)
    try:
        assert read_line(child) == "ready"
    finally:
        kill(child)

    assert live_versions(session, person_id) == [expected_live]
    assert assert_chain_intact(session) == (1 if when == "before_commit" else 2)
    session.rollback()

    # The dead worker's locks are gone: the next publisher goes through.
    if when == "before_commit":
        versions.make_live(session, session.get(PlanVersion, second_id))
        audit.record(session, action="plan_published", channel="system")
        session.commit()
        assert live_versions(session, person_id) == [2]
        assert assert_chain_intact(session) == 2


@pytest.mark.parametrize("per_transaction", [1, 7])
def test_a_worker_killed_mid_way_through_audit_appends_leaves_the_chain_whole(
    engine: Engine, database_url: str, session: Session, per_transaction: int
) -> None:
    child = start(APPEND_FOREVER, database_url, str(per_transaction))
    try:
        while int(read_line(child)) < 40:
            pass
    finally:
        kill(child)

    checked = assert_chain_intact(session)
    # Only whole transactions survive: never part of one.
    assert checked >= 40 * per_transaction
    assert checked % per_transaction == 0
    head = session.get(AuditHead, 1)
    assert head is not None and head.seq == checked

    # Appends carry on from the tip the dead worker left.
    audit.record(session, action="after_the_crash", channel="system")
    session.commit()
    assert assert_chain_intact(session) == checked + 1


def test_publishers_killed_at_random_never_leave_two_or_no_live_versions(
    engine: Engine, database_url: str, session: Session
) -> None:
    people = [factories.person(session, f"TEST-TEAM/{n:05d}") for n in range(1, 5)]
    for person in people:
        versions.make_live(session, factories.draft(session, person))
    session.commit()
    person_ids = [person.id for person in people]

    children = [
        start(PUBLISH_FOREVER, database_url, str(n), str(ROOT)) for n in range(2)
    ]
    try:
        for round_number in range(3):
            for child in children:
                for _ in range(3):
                    read_line(child)
            # Kill one publisher wherever it happens to be, start a fresh one.
            kill(children[round_number % 2])
            children[round_number % 2] = start(
                PUBLISH_FOREVER, database_url, str(10 + round_number), str(ROOT)
            )
    finally:
        for child in children:
            if child.poll() is None:
                kill(child)

    for person_id in person_ids:
        assert len(live_versions(session, person_id)) == 1
    published = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "plan_published")
    )
    non_draft = session.scalar(
        select(func.count())
        .select_from(PlanVersion)
        .where(PlanVersion.status != "draft")
    )
    # Every version that went live was audited in the same transaction.
    assert published == non_draft - len(people)
    assert assert_chain_intact(session) == published


# -- the app, with a page that writes -----------------------------------------


def make_app(url: str) -> Flask:
    """Return the app on `url`, with one test page that reads and one that writes."""
    from responder import create_app
    from responder.db import get_session

    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": SECRET})

    @public
    def count_people() -> str:
        """Show how many people have plans (reads)."""
        total = get_session().scalar(select(func.count(PlanVersion.id)))
        return f"<p>{total} plan versions</p>"

    @public
    def note() -> str:
        """Write one audit row, as every disclosure does (writes)."""
        session = get_session()
        audit.record(session, action="fault_note", channel="web")
        session.commit()
        return "noted"

    app.add_url_rule("/_faults/count", "fault_count", count_people)
    app.add_url_rule("/_faults/note", "fault_note", note, methods=["POST"])
    return app


def assert_plain_unavailable(response: object, *, json: bool = False) -> None:
    body = response.get_data(as_text=True)  # type: ignore[attr-defined]
    assert response.status_code in (503, 507), body  # type: ignore[attr-defined]
    for word in TRACE_WORDS:
        assert word not in body
    if json:
        assert response.get_json()["error"]  # type: ignore[attr-defined]
    else:
        assert "<html" in body.lower() or "<!doctype" in body.lower()
        assert "try again" in body.lower() or "cannot be saved" in body.lower()


def api_token(app: Flask) -> str:
    engine = app.extensions["responder.engine"]
    with make_session_factory(engine)() as session:
        user = accounts.create_user(session, "medic@example.org", role="ambulance")
        session.flush()
        _row, token = accounts.create_token(session, user)
        session.commit()
    return token


# -- database unreachable ---------------------------------------------------------


@pytest.mark.skipif(BACKEND != "sqlite", reason="the SQLite file case; see below")
def test_a_vanished_sqlite_database_answers_503_and_recovers_without_restart(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    app = make_app(f"sqlite:///{folder}/responder.db")
    create_schema(app.extensions["responder.engine"])
    client = app.test_client()
    assert client.post("/_faults/note").status_code == 200
    token = api_token(app)

    away = tmp_path / "data-unmounted"
    folder.rename(away)  # the volume is gone, as after a failed mount
    try:
        assert_plain_unavailable(client.get("/healthz"))
        assert_plain_unavailable(client.get("/_faults/count"))
        assert_plain_unavailable(client.post("/_faults/note"))
        assert_plain_unavailable(
            client.get(
                "/api/v1/search?q=x", headers={"Authorization": f"Bearer {token}"}
            ),
            json=True,
        )
        assert not folder.exists()  # nothing quietly created an empty database
    finally:
        away.rename(folder)

    # The same process serves again as soon as the file is back.
    assert client.get("/healthz").status_code == 200
    assert client.post("/_faults/note").status_code == 200
    with make_session_factory(app.extensions["responder.engine"])() as session:
        assert assert_chain_intact(session) == 2  # both notes, nothing lost
    app.extensions["responder.engine"].dispose()


class TcpRelay:
    """A TCP relay to PostgreSQL that can be cut and restored, like a network."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self.listener: socket.socket | None = None
        self.connections: list[socket.socket] = []
        self.running = False
        self.lock = threading.Lock()

    def start(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.port = self.listener.getsockname()[1]
        self.listener.settimeout(0.1)
        self.running = True
        threading.Thread(
            target=self._accept, args=(self.listener,), daemon=True
        ).start()

    def cut(self) -> None:
        """Stop listening and drop every open connection."""
        self.running = False
        if self.listener is not None:
            self.listener.close()
        with self.lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self.connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self.running:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self.lock:
                self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pump, args=(source, sink), daemon=True
                ).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@pytest.fixture
def relay() -> Iterator[TcpRelay]:
    relay = TcpRelay(("127.0.0.1", 5432))
    relay.start()
    yield relay
    relay.cut()


@pytest.mark.skipif(BACKEND != "postgresql", reason="the PostgreSQL network case")
def test_a_lost_postgresql_answers_503_and_recovers_without_restart(
    engine: Engine, database_url: str, relay: TcpRelay
) -> None:
    real = make_url(database_url)
    relay.target = (real.host or "127.0.0.1", real.port or 5432)
    url = real.set(host="127.0.0.1", port=relay.port).render_as_string(
        hide_password=False
    )
    app = make_app(url)
    client = app.test_client()
    assert client.post("/_faults/note").status_code == 200  # a pooled connection

    relay.cut()
    assert_plain_unavailable(client.get("/healthz"))
    assert_plain_unavailable(client.get("/_faults/count"))
    assert_plain_unavailable(client.post("/_faults/note"))

    relay.start()  # the network is back, on the same address
    assert client.get("/healthz").status_code == 200
    assert client.post("/_faults/note").status_code == 200
    with make_session_factory(engine)() as session:
        assert assert_chain_intact(session) == 2
    app.extensions["responder.engine"].dispose()


@pytest.mark.skipif(BACKEND != "postgresql", reason="the PostgreSQL restart case")
def test_terminated_postgresql_connections_are_replaced_without_an_error(
    engine: Engine, database_url: str, postgres_admin: Engine
) -> None:
    from sqlalchemy import text

    schema = make_url(database_url).query["options"].split("=")[1].split(",")[0]
    # Name this app's connections, so only they are cut: other tests (and other
    # pytest-xdist workers) share the server.
    app = make_app(f"{database_url}&application_name=fault_{schema}")
    client = app.test_client()
    for _ in range(3):
        assert client.post("/_faults/note").status_code == 200
    with postgres_admin.connect() as admin:
        # As a database restart or failover does to every pooled connection.
        killed = admin.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": f"fault_{schema}"},
        ).scalar()
    assert killed
    # pool_pre_ping finds the dead connection and opens a new one unseen.
    assert client.get("/_faults/count").status_code == 200
    assert client.post("/_faults/note").status_code == 200
    with make_session_factory(engine)() as session:
        assert assert_chain_intact(session) == 4
    app.extensions["responder.engine"].dispose()


def test_a_database_at_an_address_with_nothing_listening_answers_503(
    tmp_path: Path,
) -> None:
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    url = (
        f"postgresql+psycopg://postgres@127.0.0.1:{port}/test?connect_timeout=2"
        if BACKEND == "postgresql"
        else f"sqlite:///{tmp_path}/no-such-folder/responder.db"
    )
    app = make_app(url)
    client = app.test_client()
    assert_plain_unavailable(client.get("/healthz"))
    assert_plain_unavailable(client.get("/_faults/count"))
    assert_plain_unavailable(client.post("/login", data={"email": "a@b.c"}))
    app.extensions["responder.engine"].dispose()


# -- read-only and full disks (SQLite) ----------------------------------------------


sqlite_only = pytest.mark.skipif(
    BACKEND != "sqlite",
    reason="read-only files and max_page_count are SQLite faults; PostgreSQL's "
    "equivalents are the server's to report",
)


def stock(app: Flask, notes: int) -> FlaskClient:
    create_schema(app.extensions["responder.engine"])
    client = app.test_client()
    for _ in range(notes):
        assert client.post("/_faults/note").status_code == 200
    return client


def integrity(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


@sqlite_only
def test_a_read_only_database_refuses_writes_plainly_and_keeps_serving_reads(
    tmp_path: Path,
) -> None:
    path = tmp_path / "responder.db"
    writable = make_app(f"sqlite:///{path}")
    stock(writable, 5)
    writable.extensions["responder.engine"].dispose()

    # As after the volume is remounted read-only (root ignores file modes).
    app = make_app(f"sqlite:///file:{path}?mode=ro&uri=true")
    client = app.test_client()
    assert client.get("/_faults/count").status_code == 200
    assert client.get("/healthz").status_code == 200
    refused = client.post("/_faults/note")
    assert_plain_unavailable(refused)
    assert refused.status_code == 507
    assert "Nothing already saved has been lost" in refused.get_data(as_text=True)
    app.extensions["responder.engine"].dispose()

    assert integrity(path) == "ok"
    check = make_app(f"sqlite:///{path}")
    with make_session_factory(check.extensions["responder.engine"])() as session:
        assert assert_chain_intact(session) == 5
    check.extensions["responder.engine"].dispose()


@sqlite_only
def test_a_full_disk_refuses_writes_plainly_and_loses_nothing_already_stored(
    tmp_path: Path,
) -> None:
    path = tmp_path / "responder.db"
    app = make_app(f"sqlite:///{path}")
    client = stock(app, 3)
    full = {"on": False}

    @event.listens_for(app.extensions["responder.engine"], "connect")
    def cap_size(connection: object, _record: object) -> None:
        if full["on"]:
            # The database may not grow by a single page: a full disk.
            connection.execute("PRAGMA max_page_count = 1")  # type: ignore[attr-defined]

    full["on"] = True
    statuses = []
    for _ in range(500):
        response = client.post("/_faults/note")
        statuses.append(response.status_code)
        if response.status_code != 200:
            assert_plain_unavailable(response)
            assert response.status_code == 507
            break
    assert statuses[-1] != 200, "the capped database never filled"
    stored = 3 + statuses.count(200)

    full["on"] = False  # space freed
    assert client.post("/_faults/note").status_code == 200
    assert integrity(path) == "ok"
    with make_session_factory(app.extensions["responder.engine"])() as session:
        assert assert_chain_intact(session) == stored + 1
    app.extensions["responder.engine"].dispose()


# -- Redis unreachable --------------------------------------------------------------


def _security_module() -> object:
    try:
        from responder import security
    except ImportError:
        return None
    return security if hasattr(security, "require_rate_limit_storage") else None


@pytest.mark.skipif(
    _security_module() is None,
    reason="the rate limiter in responder/security.py has not landed yet",
)
def test_with_redis_unreachable_sign_in_fails_closed_and_plans_stay_reachable(
    database_url: str, tmp_path: Path
) -> None:
    from responder import create_app

    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": SECRET,
            "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        }
    )
    create_schema(app.extensions["responder.engine"])
    with make_session_factory(app.extensions["responder.engine"])() as session:
        accounts.create_user(
            session, "medic@example.org", role="ambulance", password="correct horse 1"
        )
        session.commit()
    client = app.test_client()

    # No limiter store means no guessing budget: sign-in is refused, never open.
    for password in ("correct horse 1", "wrong"):
        response = client.post(
            "/login", data={"email": "medic@example.org", "password": password}
        )
        assert response.status_code == 503
        body = response.get_data(as_text=True)
        assert "Traceback" not in body and "redis" not in body.lower()
    with client.session_transaction() as cookie:
        assert not any("user" in key for key in cookie)

    # Everything that does not guard against guessing keeps working.
    assert client.get("/healthz").status_code == 200
    assert client.get("/login").status_code == 200
    app.extensions["responder.engine"].dispose()
