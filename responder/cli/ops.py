"""The `backup` and `restore` commands for the SQLite default deployment.

A backup is taken with SQLite's online backup API, so the service keeps running
while it is copied, and is checked before the command says it succeeded. A
restore checks the backup (integrity, audit chain, schema revision) before it
touches the live file, keeps a copy of what it replaces, and refuses to replace a
database that is in use unless told to. PostgreSQL deployments use pg_dump and
pg_restore; the commands print how.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from plans import audit, clock, operations
from plans.db import make_engine, make_session_factory
from plans.models import PlanVersion

SQLITE_HEADER = b"SQLite format 3\x00"
# A file written this recently is taken to belong to a running service.
RECENT_WRITE = dt.timedelta(seconds=60)
LOCK_WAIT_SECONDS = 0.5
# How long recording a backup in the audit log waits for a busy writer.
RECORD_WAIT_MS = 5000


class BackupError(click.ClickException):
    """A backup or restore step failed; the message says what to do."""


@dataclass(frozen=True)
class BackupCheck:
    """What checking a database file found."""

    revision: str | None
    audit_rows: int
    plan_versions: int


# -- helpers --------------------------------------------------------------------


def _database_url(app: Flask) -> str:
    from responder.db import database_url

    return database_url(app)


def sqlite_path(url: str) -> Path | None:
    """Return the file behind a SQLite URL, or None for other databases."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory database cannot be backed up or restored")
    return Path(parsed.database)


def postgres_guidance(url: str, action: str) -> str:
    """Return how to back up or restore a PostgreSQL deployment by hand."""
    parsed = make_url(url).set(drivername="postgresql")
    # libpq tools take the URL without the driver; never print the password.
    shown = parsed.render_as_string(hide_password=True)
    if action == "backup":
        return (
            "This deployment uses PostgreSQL: back it up with pg_dump, as a role "
            "that may read every table, e.g.\n\n"
            "  pg_dump --format=custom --no-owner "
            f'--file=responder-$(date +%F).dump "{shown}"\n\n'
            "Keep the dump encrypted and off this host; it holds personal data. "
            "See docs/deploy.md, 'Backups'."
        )
    return (
        "This deployment uses PostgreSQL: stop the service, then restore into an "
        "EMPTY database as the owner role with pg_restore, e.g.\n\n"
        "  createdb --owner=responder_owner responder_restored\n"
        "  pg_restore --no-owner --role=responder_owner "
        '--dbname="postgresql://responder_owner@HOST/responder_restored" '
        "responder-YYYY-MM-DD.dump\n\n"
        "then re-grant the app role (docs/deploy.md), point RESPONDER_DATABASE_URL "
        "at it and check it before serving:\n\n"
        "  responder db current\n  responder audit verify\n\n"
        f"(current database: {shown})"
    )


def code_revision(app: Flask) -> str | None:
    """Return the newest migration revision this code knows."""
    from alembic.script import ScriptDirectory

    from responder.cli.database import alembic_config

    return ScriptDirectory.from_config(alembic_config(app)).get_current_head()


def _is_sqlite_file(path: Path) -> bool:
    with path.open("rb") as stream:
        return stream.read(len(SQLITE_HEADER)) == SQLITE_HEADER


def check_database_file(path: Path) -> BackupCheck:
    """Check a SQLite file's integrity and audit chain; raise BackupError if bad."""
    if not path.is_file() or not _is_sqlite_file(path):
        raise BackupError(f"{path} is not a SQLite database")
    connection = sqlite3.connect(path)
    try:
        result = connection.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            problems = "; ".join(str(row[0]) for row in result[:5])
            raise BackupError(f"{path} failed the integrity check: {problems}")
        tables = {
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
        if not {"audit_events", "audit_head", "plan_versions"} <= tables:
            raise BackupError(f"{path} is not a Responder database")
        revision = None
        if "alembic_version" in tables:
            row = connection.execute(
                "SELECT version_num FROM alembic_version"
            ).fetchone()
            revision = row[0] if row else None
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} cannot be read: {error}") from None
    finally:
        connection.close()
    engine = make_engine(f"sqlite:///{path}")
    try:
        with make_session_factory(engine)() as session:
            report = audit.verify(session)
            versions = session.scalar(select(func.count()).select_from(PlanVersion))
    finally:
        engine.dispose()
    if not report.ok:
        raise BackupError(
            f"the audit chain in {path} is broken at row {report.broken_seq}: "
            f"{report.problem}"
        )
    return BackupCheck(revision, report.checked, versions or 0)


def copy_database(source: Path, target: Path) -> None:
    """Copy a live SQLite database with the online backup API into one file."""
    source_connection = sqlite3.connect(
        f"{source.resolve().as_uri()}?mode=ro", uri=True, timeout=15
    )
    target_connection = sqlite3.connect(target)
    try:
        # One step (pages=-1) copies a consistent snapshot while writers carry on
        # in WAL mode; a stepwise copy would restart whenever the source changes.
        source_connection.backup(target_connection, pages=-1)
        # A backup is one self-contained file, not a database plus a WAL.
        target_connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        target_connection.close()
        source_connection.close()


def _companions(path: Path) -> list[Path]:
    return [
        path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")
    ]


def _remove_quietly(path: Path) -> None:
    for candidate in (path, *_companions(path)):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()


def _fsync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _filesystem_now(directory: Path) -> float:
    """Return the time as the file system that stamps the database sees it.

    A file's age is measured on the clock that wrote its time stamp: a process
    clock that is off (a skewed host, a network file system, a faked clock)
    would make a database written a second ago look a year old, or the reverse.
    """
    with tempfile.NamedTemporaryFile(
        dir=directory, prefix=".responder-clock-"
    ) as probe:
        return os.fstat(probe.fileno()).st_mtime


def in_use_reason(path: Path, *, now: float | None = None) -> str | None:
    """Say why the database file looks in use by a running service, if it does."""
    if not path.exists():
        return None
    open_files = [p.name for p in _companions(path) if p.exists()]
    if open_files:
        return (
            f"{', '.join(open_files)} exist: a process has the database open "
            "(or stopped without closing it)"
        )
    age = (now or _filesystem_now(path.parent)) - path.stat().st_mtime
    if age < RECENT_WRITE.total_seconds():
        return f"it was written {int(age)} seconds ago"
    connection = sqlite3.connect(path, timeout=LOCK_WAIT_SECONDS)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        connection.rollback()
    except sqlite3.OperationalError:
        return "another process holds a lock on it"
    finally:
        connection.close()
    for companion in _companions(path):
        # Our own look left these behind only if another connection appeared.
        if companion.exists():
            return "another process opened it while we looked"
    return None


def _restrict(path: Path) -> None:
    # A database copy holds personal data: owner-only, like the original should.
    os.chmod(path, 0o600)


# -- commands -------------------------------------------------------------------


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it already exists.")
@with_appcontext
def backup_command(path: Path, force: bool) -> None:
    """Copy the live SQLite database to PATH, then check the copy."""
    url = _database_url(current_app)
    source = sqlite_path(url)
    if source is None:
        click.echo(postgres_guidance(url, "backup"))
        sys.exit(2)
    if not source.exists():
        raise BackupError(f"there is no database at {source} to back up")
    path = path.resolve()
    if path == source.resolve():
        raise BackupError("the backup must not be the database itself")
    if path.exists() and not force:
        raise BackupError(f"{path} exists; choose a new name or pass --force")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    _remove_quietly(partial)
    try:
        partial.touch(mode=0o600)
        _copy_or_explain(source, partial)
        check = check_database_file(partial)
        _restrict(partial)
        os.replace(partial, path)
        _fsync_directory(path.parent)
    except BaseException:
        _remove_quietly(partial)
        raise
    _record(action="database_backed_up", count=check.plan_versions)
    click.echo(
        f"backup written to {path}: {check.plan_versions} plan versions, "
        f"audit chain intact ({check.audit_rows} rows), "
        f"schema revision {check.revision or 'unknown'}"
    )


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Replace the database even if it looks in use (restart the service after).",
)
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Check the backup at PATH, then make it the live SQLite database."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    url = _database_url(app)
    target = sqlite_path(url)
    if target is None:
        click.echo(postgres_guidance(url, "restore"))
        sys.exit(2)
    target = target.resolve()
    if path.resolve() == target:
        raise BackupError("the backup is the database itself; nothing to restore")
    if not force:
        reason = in_use_reason(target)
        if reason:
            raise BackupError(
                f"refusing to replace {target}: {reason}. Stop the service first, "
                "or pass --force and restart every worker afterwards."
            )
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.{os.getpid()}.restoring")
    _remove_quietly(staged)
    if not _is_sqlite_file(path):
        raise BackupError(f"{path} is not a SQLite database")
    try:
        staged.touch(mode=0o600)
        # Copy first and check the copy: the backup file itself is never written.
        _copy_or_explain(path, staged)
        check = check_database_file(staged)
        expected = code_revision(app)
        if check.revision != expected:
            raise BackupError(
                f"the backup is at schema revision {check.revision or 'unknown'} "
                f"but this code expects {expected}: restore it with the release "
                "that made it, or migrate a copy with `responder db upgrade` first"
            )
        kept = _keep_current(target)
        _remove_quietly_companions(target)
        os.replace(staged, target)
        _fsync_directory(target.parent)
    except BaseException:
        _remove_quietly(staged)
        raise
    _record(action="database_restored", count=check.plan_versions)
    click.echo(
        f"restored {path} to {target}: {check.plan_versions} plan versions, "
        f"audit chain intact ({check.audit_rows} rows), schema revision "
        f"{check.revision}"
    )
    if kept is not None:
        click.echo(f"the database it replaced is kept at {kept}")
    click.echo("check it with `responder audit verify` before serving")


def _keep_current(target: Path) -> Path | None:
    if not target.exists():
        return None
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    kept = target.with_name(f"{target.name}.before-restore-{stamp}")
    kept.touch(mode=0o600)
    # Through the backup API, so anything still in a WAL is kept too.
    copy_database(target, kept)
    return kept


def _remove_quietly_companions(path: Path) -> None:
    # A stale WAL left beside the new file would be replayed into it.
    for companion in _companions(path):
        with contextlib.suppress(FileNotFoundError):
            companion.unlink()


def _copy_or_explain(source: Path, target: Path) -> None:
    try:
        copy_database(source, target)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{source} cannot be copied: {error}") from None


def _record(*, action: operations.DatabaseCopy, count: int) -> None:
    from sqlalchemy.exc import OperationalError

    from responder.db import get_session

    session = get_session()
    try:
        if session.get_bind().dialect.name == "sqlite":
            session.connection().exec_driver_sql(
                f"PRAGMA busy_timeout={RECORD_WAIT_MS}"
            )
        operations.record_database_copy(session, action, count=count)
        session.commit()
    except OperationalError:
        # The copy is done and checked; a writer holding the database for longer
        # than the busy timeout must not turn a good backup into a failed one.
        session.rollback()
        click.echo(
            f"warning: the database was busy, so '{action}' was not added to the "
            "audit log; note it in the operations log",
            err=True,
        )


# -- audit ----------------------------------------------------------------------

audit_cli = click.Group("audit", help="Check the audit log and anchor it outside.")
CHECKPOINT_KEY_FILE_NAME = "audit-checkpoint.key"
CHECKPOINT_FILE_NAME = "audit-checkpoints.jsonl"


def checkpoint_key_file(app: Flask) -> Path:
    """Return where the checkpoint signing key file lives."""
    configured = app.config.get("AUDIT_CHECKPOINT_KEY_FILE")
    if configured:
        return Path(str(configured))
    return Path(app.instance_path) / CHECKPOINT_KEY_FILE_NAME


def checkpoint_file(app: Flask) -> Path:
    """Return the append-only JSON Lines file the checkpoints go to."""
    configured = app.config.get("AUDIT_CHECKPOINT_FILE")
    if configured:
        return Path(str(configured))
    return Path(app.instance_path) / CHECKPOINT_FILE_NAME


def checkpoint_key(app: Flask) -> Any:
    """Return the checkpoint signing key from the setting or its file, or None."""
    configured = app.config.get("AUDIT_CHECKPOINT_KEY")
    if configured:
        return audit.parse_checkpoint_key(str(configured))
    path = checkpoint_key_file(app)
    if not path.exists():
        return None
    return audit.parse_checkpoint_key(path.read_text(encoding="utf-8"))


def _send_to_syslog(target: str, line: str) -> None:
    import logging.handlers

    if ":" in target and not target.startswith("/"):
        host, _, port = target.rpartition(":")
        address: Any = (host, int(port))
    else:
        address = target
    handler = logging.handlers.SysLogHandler(
        address=address, facility=logging.handlers.SysLogHandler.LOG_AUTH
    )
    try:
        record = logging.LogRecord(
            "responder.audit",
            logging.WARNING,
            __file__,
            0,
            "responder-audit-checkpoint %s",
            (line,),
            None,
        )
        handler.emit(record)
    finally:
        handler.close()


@audit_cli.command("checkpoint")
@with_appcontext
def audit_checkpoint() -> None:
    """Sign the audit chain's head and append it to the checkpoint file (and syslog)."""
    from responder.db import get_session

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        key = checkpoint_key(app)
    except audit.CheckpointError as error:
        raise click.ClickException(str(error)) from None
    if key is None:
        raise click.ClickException(
            "no audit checkpoint key: set RESPONDER_AUDIT_CHECKPOINT_KEY or run "
            "`responder audit checkpoint-key`"
        )
    entry = audit.checkpoint(get_session(), key)
    line = entry.to_json()
    path = checkpoint_file(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: each checkpoint lands after the last, whatever else writes there.
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(descriptor, (line + "\n").encode("utf-8"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    target = app.config.get("AUDIT_CHECKPOINT_SYSLOG")
    if target:
        _send_to_syslog(str(target), line)
    click.echo(f"checkpoint written: row {entry.seq}, {entry.hash[:12]}… to {path}")


@audit_cli.command("checkpoint-key")
@with_appcontext
def audit_checkpoint_key() -> None:
    """Create the checkpoint signing key file (refuses to replace one)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = checkpoint_key_file(current_app)
    if path.exists():
        raise click.ClickException(
            f"{path} exists; a new key would orphan its checkpoints"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as key_file:
        key_file.write(audit.encode_checkpoint_key(Ed25519PrivateKey.generate()) + "\n")
    click.echo(f"checkpoint key written to {path}; keep a copy off this server")


@audit_cli.command("verify")
@click.option(
    "--checkpoints",
    "checkpoints_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Checkpoint file to check against (default: the configured one).",
)
@with_appcontext
def audit_verify(checkpoints_path: Path | None) -> None:
    """Check the audit chain, and against the signed checkpoints, naming any break."""
    from responder.db import get_session

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    signed: list[audit.Checkpoint] = []
    try:
        key = checkpoint_key(app)
        path = checkpoints_path or checkpoint_file(app)
        if key is not None and path.exists():
            with path.open(encoding="utf-8") as lines:
                signed = audit.read_checkpoints(lines, key.public_key())
        elif checkpoints_path is not None:
            raise audit.CheckpointError(f"{checkpoints_path} cannot be checked")
    except audit.CheckpointError as error:
        click.echo(f"audit checkpoints BROKEN: {error}", err=True)
        sys.exit(1)
    report = audit.verify(get_session(), checkpoints=signed)
    if report.ok:
        anchored = (
            f", matching {len(signed)} signed checkpoint(s) up to row "
            f"{max(c.seq for c in signed)}"
            if signed
            else " (no signed checkpoints to check against)"
        )
        click.echo(f"audit chain intact: {report.checked} rows verified{anchored}")
        return
    click.echo(
        f"audit chain BROKEN at row {report.broken_seq}: {report.problem} "
        f"({report.checked} rows verified before it)",
        err=True,
    )
    sys.exit(1)


def register(app: Flask) -> None:
    """Add the backup, restore and audit commands to the app's CLI."""
    for command in (backup_command, restore_command, audit_cli):
        app.cli.add_command(command)
