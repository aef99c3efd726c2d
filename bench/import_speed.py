"""Measure how fast `responder import` lands synthetic plans, on SQLite or PostgreSQL.

    .venv/bin/python bench/import_speed.py --plans 100000
    .venv/bin/python bench/import_speed.py --plans 100000 \
        --url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/import_speed.py --plans 1000000 --once \
        --seed 20261123 --keep-schema search_speed_1000000 \
        --url postgresql+psycopg://postgres@127.0.0.1:5432/test

`--keep-schema` lands the plans in a named PostgreSQL schema and keeps it, so
`bench/search_speed.py` can then measure search on the very database imported.

It writes the demo plans to a JSON Lines file, then imports that file the way the
CLI does (read, validate, land in batches, commit per batch), on an empty database:
a temporary SQLite file, or a throwaway schema in the PostgreSQL database given.
A second pass imports the same file again, which must change nothing.

Wall-clock figures depend on what else the machine runs; the CPU seconds this
process used are the steadier measure of the import's own cost (on PostgreSQL
the server's work is on top of it).
"""

from __future__ import annotations

import datetime as dt
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import click
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plans import exchange  # noqa: E402
from plans.db import create_schema, make_engine, make_session_factory  # noqa: E402
from plans.models import PlanVersion  # noqa: E402
from responder.demo import generate_documents  # noqa: E402


def _write_plans(path: Path, count: int, seed: int) -> float:
    started = time.perf_counter()
    with path.open("w", encoding="utf-8") as stream:
        exchange.write_documents(
            generate_documents(count, seed=seed, today=dt.date(2026, 11, 23)), stream
        )
    return time.perf_counter() - started


def _import(
    factory: sessionmaker[Session], path: Path, count: int, batch_size: int
) -> tuple[float, exchange.ImportReport]:
    total = exchange.ImportReport()
    started = time.perf_counter()
    cpu_started = time.process_time()
    with (
        factory() as session,
        click.progressbar(length=count, label="importing", file=sys.stderr) as bar,
    ):
        batch: list[exchange.ParsedDocument] = []
        for parsed in exchange.read_file(path):
            batch.append(parsed)
            if len(batch) == batch_size:
                total.absorb(_land(session, batch, path), keep_details=False)
                bar.update(len(batch))
                batch = []
        if batch:
            total.absorb(_land(session, batch, path), keep_details=False)
            bar.update(len(batch))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    with factory() as session:
        stored = session.scalar(select(func.count()).select_from(PlanVersion))
    click.echo(f"  {stored} plan versions stored; this process used {cpu:.1f} s CPU")
    return elapsed, total


def _land(
    session: Session, batch: list[exchange.ParsedDocument], path: Path
) -> exchange.ImportReport:
    report = exchange.import_documents(session, batch, actor="bench", source=path.name)
    session.commit()
    session.expunge_all()
    return report


@click.command()
@click.option("--plans", "count", default=100_000, show_default=True)
@click.option("--url", default="", help="Database URL (default: a temp SQLite file).")
@click.option("--batch-size", default=1000, show_default=True)
@click.option("--seed", default=0, show_default=True, help="Of the synthetic plans.")
@click.option("--once", is_flag=True, help="Skip the second, unchanged import.")
@click.option(
    "--keep-schema", default="", help="PostgreSQL: land in this schema and keep it."
)
def main(
    count: int, url: str, batch_size: int, seed: int, once: bool, keep_schema: str
) -> None:
    """Time writing, importing and re-importing COUNT synthetic plans."""
    # A stopped run (timeout, kill) still drops its schema and temporary files.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory() as tmp:
        plans_file = Path(tmp) / "plans.jsonl"
        written = _write_plans(plans_file, count, seed)
        click.echo(f"writing {count} plans: {written:.1f} s")
        schema = None
        if url.startswith("postgresql"):
            schema = keep_schema or "bench_" + uuid.uuid4().hex[:10]
            admin = create_engine(url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                # Extensions live in public, as in the test suite's databases.
                connection.execute(
                    text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
                )
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
                connection.execute(text(f"CREATE SCHEMA {schema}"))
            separator = "&" if "?" in url else "?"
            target = (
                url + separator + "options=" + quote(f"-csearch_path={schema},public")
            )
        else:
            target = url or f"sqlite:///{tmp}/bench.db"
        engine = make_engine(target)
        try:
            create_schema(engine)
            factory = make_session_factory(engine)
            labels = ("first import",) if once else ("first import", "same file again")
            for label in labels:
                elapsed, report = _import(factory, plans_file, count, batch_size)
                click.echo(
                    f"{label}: {elapsed:.1f} s, {count / elapsed:.0f} plans/s "
                    f"({report.summary()})"
                )
        finally:
            engine.dispose()
            if schema is not None and not keep_schema:
                with admin.connect() as connection:
                    connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()


if __name__ == "__main__":
    main()
