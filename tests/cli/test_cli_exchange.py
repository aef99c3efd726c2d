"""The `import`, `export` and `demo` commands as an operator uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plans.audit import AuditEvent
from plans.exchange import read_file
from plans.models import Person, PlanVersion, Team
from responder.demo import demo_teams
from tests.plans.factories import document


def write_jsonl(path: Path, *documents: object) -> Path:
    """Write documents (or raw strings) as JSON Lines."""
    path.write_text(
        "".join(
            (doc if isinstance(doc, str) else json.dumps(doc)) + "\n"
            for doc in documents
        ),
        encoding="utf-8",
    )
    return path


def test_import_lands_plans_and_prints_a_summary(
    runner: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    plans = write_jsonl(
        tmp_path / "plans.jsonl", document(), document("TEST-TEAM/00002")
    )
    result = runner.invoke(args=["import", str(plans)])
    assert result.exit_code == 0, result.output
    assert "added 2, updated 0, unchanged 0, refused 0, drafted 0" in result.stdout
    assert db.scalar(select(func.count()).select_from(Person)) == 2


def test_import_prints_every_problem_as_file_position_pointer_message(
    runner: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    broken = document("TEST-TEAM/00003")
    del broken["plan"]["summary"]
    broken["person"]["sex"] = "f"
    plans = write_jsonl(
        tmp_path / "plans.jsonl", document(), "{not json", broken, document()
    )
    result = runner.invoke(args=["import", str(plans)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert (
        f"{plans}:3 /person/sex: must be one of: female, male, other, unknown "
        in ("".join(line for line in lines if ":3 /person/sex" in line).split("(")[0])
    )
    assert f"{plans}:3 /plan/summary: is required" in lines
    assert any(line.startswith(f"{plans}:2 /: not valid JSON") for line in lines)
    assert "added 1, updated 0, unchanged 1, refused 0, drafted 0, invalid 2" in (
        result.stdout
    )
    assert db.scalar(select(func.count()).select_from(Person)) == 1


def test_import_exits_non_zero_when_a_version_is_refused(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    newer = write_jsonl(tmp_path / "newer.jsonl", document(version=2))
    older = tmp_path / "older.json"
    older.write_text(json.dumps(document(version=1), indent=2), encoding="utf-8")
    assert runner.invoke(args=["import", str(newer)]).exit_code == 0
    result = runner.invoke(args=["import", str(older)])
    assert result.exit_code == 1
    assert f"{older}:/plan/version: version 1 of TEST-TEAM/00001 is older" in (
        result.stderr
    )
    assert "refused 1" in result.stdout


def test_import_reads_json_arrays_and_reports_their_indexes(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    broken = document("TEST-TEAM/00002", status="published")
    plans = tmp_path / "plans.json"
    plans.write_text(json.dumps([document(), broken]), encoding="utf-8")
    result = runner.invoke(args=["import", str(plans)])
    assert result.exit_code == 1
    assert f"{plans}:[1] /plan/status: must be one of" in result.stderr


def test_import_shows_no_progress_bar_when_not_on_a_terminal(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    plans = write_jsonl(tmp_path / "plans.jsonl", document())
    result = runner.invoke(args=["import", str(plans)])
    assert result.stderr == ""
    assert result.stdout.strip().splitlines() == [
        "added 1, updated 0, unchanged 0, refused 0, drafted 0"
    ]


def test_import_audits_the_batch(
    runner: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    plans = write_jsonl(tmp_path / "plans.jsonl", document())
    runner.invoke(args=["import", str(plans)])
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "import")).one()
    assert event.channel == "cli" and event.detail["added"] == 1


def test_import_of_a_missing_file_fails_cleanly(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["import", "/nonexistent/plans.jsonl"])
    assert result.exit_code == 2
    assert "does not exist" in result.output


@pytest.mark.parametrize("export_format", ["jsonl", "json"])
def test_export_round_trips_through_import(
    runner: FlaskCliRunner, tmp_path: Path, export_format: str
) -> None:
    originals = [document(), document("TEST-TEAM/00002", summary="Second plan.")]
    runner.invoke(args=["import", str(write_jsonl(tmp_path / "in.jsonl", *originals))])
    out = tmp_path / f"out.{export_format}"
    result = runner.invoke(
        args=["export", "--output", str(out), "--format", export_format]
    )
    assert result.exit_code == 0, result.output
    assert "exported 2 plans" in result.stderr
    parsed = list(read_file(out))
    assert [item.document for item in parsed] == originals
    again = runner.invoke(args=["import", str(out)])
    assert "unchanged 2" in again.stdout


def test_export_to_standard_output_by_ref(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    runner.invoke(
        args=[
            "import",
            str(
                write_jsonl(tmp_path / "in.jsonl", document(), document("TEST-TEAM/2"))
            ),
        ]
    )
    result = runner.invoke(args=["export", "--ref", "TEST-TEAM/2"])
    assert result.exit_code == 0
    (line,) = result.stdout.splitlines()
    assert json.loads(line)["person"]["ref"] == "TEST-TEAM/2"


def test_export_of_an_unknown_ref_says_so(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["export", "--ref", "NOPE/1"])
    assert result.exit_code == 1
    assert "no plan for NOPE/1" in result.output


def test_demo_creates_every_demo_team_and_the_plans_asked_for(
    runner: FlaskCliRunner, db: Session
) -> None:
    result = runner.invoke(args=["demo", "--plans", "30", "--seed", "2"])
    assert result.exit_code == 0, result.output
    codes = set(db.scalars(select(Team.code)))
    assert {team["code"] for team in demo_teams()} <= codes
    assert db.scalar(select(func.count()).select_from(Person)) == 30
    live = db.scalar(
        select(func.count())
        .select_from(PlanVersion)
        .where(PlanVersion.status == "live")
    )
    assert live and live >= 25


def test_demo_twice_changes_nothing(runner: FlaskCliRunner) -> None:
    runner.invoke(args=["demo", "--plans", "10"])
    result = runner.invoke(args=["demo", "--plans", "10"])
    assert result.exit_code == 0
    assert "teams created 0" in result.stdout
    assert "unchanged 10" in result.stdout
