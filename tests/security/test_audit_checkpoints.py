"""`responder audit checkpoint` and `verify`: the chain anchored off the database.

Finding 5 of the hostile test pass (issue 12): with the trigger dropped, a
rewritten and re-chained log, or one cut short with the head rewound, passed
`responder audit verify`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import audit
from tests.plans.test_audit import _append, _rewrite_and_rechain, _truncate_and_rewind


@pytest.fixture
def anchored(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> Path:
    """Configure a checkpoint file, create the key, and return the file."""
    path = tmp_path / "elsewhere" / "checkpoints.jsonl"
    app.config["AUDIT_CHECKPOINT_FILE"] = str(path)
    result = runner.invoke(args=["audit", "checkpoint-key"])
    assert result.exit_code == 0, result.output
    return path


def test_checkpoints_append_and_verify_intact(
    runner: FlaskCliRunner, db: Session, anchored: Path
) -> None:
    _append(db, 3)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    _append(db, 2)
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    lines = anchored.read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [3, 5]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "5 rows verified, matching 2 signed checkpoint(s)" in result.output


def test_verify_names_a_rechained_rewrite(
    runner: FlaskCliRunner, db: Session, anchored: Path
) -> None:
    _append(db, 6)
    runner.invoke(args=["audit", "checkpoint"])
    _rewrite_and_rechain(db, 2)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "rewritten" in result.output


def test_verify_names_truncation(
    runner: FlaskCliRunner, db: Session, anchored: Path
) -> None:
    _append(db, 9)
    runner.invoke(args=["audit", "checkpoint"])
    _truncate_and_rewind(db, 4)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "truncated" in result.output


def test_an_edited_checkpoint_file_is_named(
    runner: FlaskCliRunner, db: Session, anchored: Path
) -> None:
    _append(db, 2)
    runner.invoke(args=["audit", "checkpoint"])
    entry = json.loads(anchored.read_text())
    entry["hash"] = "0" * 64
    anchored.write_text(json.dumps(entry) + "\n")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "does not verify" in result.output


def test_the_key_never_enters_the_database(
    app: Flask, runner: FlaskCliRunner, db: Session, anchored: Path
) -> None:
    from responder.cli.ops import checkpoint_key_file

    encoded = checkpoint_key_file(app).read_text().strip()
    _append(db, 1)
    runner.invoke(args=["audit", "checkpoint"])
    rows = db.scalars(select(audit.AuditEvent)).all()
    assert all(encoded not in json.dumps(row.detail) for row in rows)
    assert checkpoint_key_file(app).stat().st_mode & 0o077 == 0


def test_checkpoint_without_a_key_explains(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 1
    assert "RESPONDER_AUDIT_CHECKPOINT_KEY" in result.output
