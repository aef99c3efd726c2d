"""The `responder` command in a new shell: settings found, refusals in words."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

RESPONDER = str(Path(sys.executable).with_name("responder"))


def shell_env() -> dict[str, str]:
    """Return a new shell's environment: none of the RESPONDER_ settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("RESPONDER_")}


def test_unsafe_production_settings_are_named_in_a_paragraph_not_a_traceback(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [RESPONDER, "cards", "issue", "REF"],
        cwd=tmp_path,
        env=shell_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Responder did not start" in result.stderr
    assert "RESPONDER_SECRET_KEY" in result.stderr
    assert "RESPONDER_TRUSTED_HOSTS" in result.stderr
    assert str(tmp_path / "instance" / "config.py") in result.stderr


def test_the_instance_config_that_make_run_writes_serves_every_new_shell(
    tmp_path: Path,
) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text('ENVIRONMENT = "development"\n')
    result = subprocess.run(
        [RESPONDER, "db", "upgrade"],
        cwd=tmp_path,
        env=shell_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (instance / "responder.db").is_file()


def test_make_run_writes_the_development_settings_and_points_at_localhost() -> None:
    makefile = (Path(__file__).parents[2] / "Makefile").read_text()
    assert 'ENVIRONMENT = "development"' in makefile
    assert "instance/config.py" in makefile
    assert "http://localhost:$(PORT)" in makefile
    assert "http://127.0.0.1:$(PORT)" not in makefile
