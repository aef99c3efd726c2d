"""A built wheel works on its own: migrations, templates and static files inside it.

The wheel is built from this checkout and installed with `pip --no-deps` into a
fresh virtual environment. Its dependencies are borrowed from the test environment
(a path entry, which does not run that environment's own .pth files, so this
checkout's editable install stays out of sight): the test needs no network.
Then, from an empty folder, the installed `responder` migrates, loads demo plans,
serves, and answers /login, its stylesheet and /healthz.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest

from responder import ROOT
from tests.conftest import BACKEND

pytestmark = pytest.mark.skipif(
    BACKEND != "sqlite", reason="packaging does not depend on the database: once"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the project's wheel from this checkout."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out)]
        + [str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    )
    (built,) = out.glob("responder-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Install the wheel into a fresh virtual environment; return its bin folder."""
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    here = sysconfig.get_path("purelib")
    Path(purelib, "borrowed-dependencies.pth").write_text(here + "\n")
    # pip itself is borrowed too; run by the new interpreter, it installs there.
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
        text=True,
    )
    return env_dir / "bin"


def test_the_wheel_carries_migrations_templates_and_static_files(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "responder/templates/base.html" in names
    assert "responder/static/css/app.css" in names
    assert "responder/static/sw.js" in names
    assert "responder/migrations/env.py" in names
    assert "responder/migrations/script.py.mako" in names
    assert "responder/migrations/versions/0001_initial_schema.py" in names
    assert "plans/schema/response-plan-1.schema.json" in names
    assert not any(name.startswith(("tests/", "bench/")) for name in names)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def empty_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    return folder


def run(bin_dir: Path, folder: Path, *args: str) -> str:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("RESPONDER_") and key != "PYTHONPATH"
    }
    env["RESPONDER_ENVIRONMENT"] = "development"
    result = subprocess.run(
        [str(bin_dir / "responder"), *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_the_installed_app_migrates_loads_demo_plans_and_serves(
    installed: Path, empty_folder: Path
) -> None:
    # The code runs from the fresh environment, not from this checkout.
    where = subprocess.run(
        [str(installed / "python"), "-c", "import responder; print(responder.PACKAGE)"],
        cwd=empty_folder,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert not where.startswith(str(ROOT)), where
    run(installed, empty_folder, "db", "upgrade")
    run(installed, empty_folder, "demo", "--plans", "5")
    # The instance folder is made in the working directory, never in site-packages.
    assert (empty_folder / "instance" / "responder.db").is_file()

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESPONDER_")}
    env["RESPONDER_ENVIRONMENT"] = "development"
    server = subprocess.Popen(
        [str(installed / "responder"), "serve", "--host", "127.0.0.1"]
        + ["--port", str(port), "--workers", "1"],
        cwd=empty_folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        login = fetch_when_up(base + "/login", server)
        assert "Sign in" in login
        stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', login)
        assert stylesheet, login[:500]
        with urllib.request.urlopen(base + stylesheet.group(1), timeout=10) as css:
            assert css.status == 200 and b"{" in css.read()
        with urllib.request.urlopen(base + "/healthz", timeout=10) as health:
            assert health.status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr:
            server.stderr.close()


def fetch_when_up(url: str, server: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return str(response.read().decode("utf-8"))
        except OSError:
            if server.poll() is not None:
                output = server.stderr.read() if server.stderr else ""
                raise AssertionError(output) from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
