"""The `import`, `export` and `demo` commands: plans in and out as response-plan/1."""

from __future__ import annotations

import getpass
import io
import itertools
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from plans import document as plan_document
from plans import exchange, operations
from plans.publish_rules import PublishRules
from responder.db import get_session
from responder.demo import apply_demo_contacts, demo_teams, generate_documents

DEFAULT_BATCH = 1000
Item = TypeVar("Item")


def _batches(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return "cli"


class _Null(io.StringIO):
    """A stream that swallows the progress bar when stderr is not a terminal."""

    def isatty(self) -> bool:
        return False


def _count_lines(path: str) -> int:
    lines = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            lines += chunk.count(b"\n")
    return max(lines, 1)


def _line_of(position: str) -> int | None:
    return int(position) if position.isdigit() else None


def _echo_problems(path: str, problems: Iterable[exchange.ImportProblem]) -> None:
    for problem in problems:
        click.echo(f"{path}:{problem}", err=True)


@click.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False)
)
@click.option(
    "--batch-size",
    default=DEFAULT_BATCH,
    show_default=True,
    type=click.IntRange(1),
    help="Documents per transaction.",
)
@with_appcontext
def import_command(files: tuple[str, ...], batch_size: int) -> None:
    """Import response-plan files or our FHIR bundles: one, an array or JSON Lines."""
    session = get_session()
    actor = _cli_actor()
    rules = PublishRules.from_config(current_app.config)
    total = exchange.ImportReport()
    show_progress = sys.stderr.isatty()
    for path in files:
        lines = _count_lines(path) if show_progress else 0
        with click.progressbar(
            length=lines, label=path, file=sys.stderr if show_progress else _Null()
        ) as bar:
            done = 0
            for batch in _batches(exchange.read_file(path), batch_size):
                # A live document that breaks a publish rule lands as a draft,
                # and the problems printed below say why.
                report = exchange.import_documents(
                    session, batch, actor=actor, source=path, rules=rules
                )
                session.commit()
                # Let go of the landed rows; the next batch needs none of them.
                session.expunge_all()
                if show_progress and report.problems:
                    click.echo("\r\033[K", nl=False, err=True)  # clear the bar line
                _echo_problems(path, report.problems)
                total.absorb(report, keep_details=False)
                line = _line_of(batch[-1].position) or lines
                bar.update(max(line - done, 0))
                done = max(line, done)
            bar.update(max(lines - done, 0))
    click.echo(total.summary())
    if not total.ok:
        sys.exit(1)


@click.command("export")
@click.option(
    "--ref", "refs", multiple=True, help="Export only this person (repeatable)."
)
@click.option(
    "--output",
    "-o",
    default="-",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="File to write (default: standard output).",
)
@click.option(
    "--format",
    "export_format",
    type=click.Choice(exchange.EXPORT_FORMATS),
    default="jsonl",
    show_default=True,
)
@with_appcontext
def export_command(refs: tuple[str, ...], output: str, export_format: str) -> None:
    """Export each person's current plan: response-plan/2, or FHIR R4 bundles."""
    session = get_session()
    if refs:
        known = {
            plan_document.ref(version.document)
            for version in exchange.current_versions(session, refs=refs)
        }
        missing = sorted(set(refs) - known)
        if missing:
            raise click.ClickException("no plan for " + ", ".join(missing))
    # atomic: a failed export never leaves a half-written file behind.
    with click.open_file(output, "w", encoding="utf-8", atomic=output != "-") as out:
        count = exchange.write_documents(
            exchange.export_documents(session, refs=refs or None),
            out,
            format=export_format,
        )
    operations.record_export(session, count=count, actor=_cli_actor())
    session.commit()
    click.echo(f"exported {count} plans", err=True)


@click.command("demo")
@click.option(
    "--plans",
    "plan_count",
    default=200,
    show_default=True,
    type=click.IntRange(0),
    help="How many synthetic plans to load.",
)
@click.option("--seed", default=0, show_default=True, help="Same seed, same plans.")
@with_appcontext
def demo_command(plan_count: int, seed: int) -> None:
    """Load the demo teams and synthetic demo plans (no real person)."""
    session = get_session()
    created = exchange.ensure_teams(session, demo_teams())
    session.commit()
    total = exchange.ImportReport()
    for batch in _batches(generate_documents(plan_count, seed=seed), DEFAULT_BATCH):
        report = exchange.import_documents(
            session, batch, actor="demo", source=f"demo seed {seed}"
        )
        session.commit()
        session.expunge_all()
        total.absorb(report, keep_details=False)
    apply_demo_contacts(session)
    session.commit()
    click.echo(f"demo teams created {created}; plans {total.summary()}")
    if not total.ok:
        sys.exit(1)


def register(app: Flask) -> None:
    """Add the exchange commands to the app's CLI."""
    for command in (import_command, export_command, demo_command):
        app.cli.add_command(command)
