"""Time comes from one place: `plans.clock`.

A call to the wall clock anywhere else escapes `clock.frozen` in the tests and
reads the process clock in production, which the clock-ahead run moves 400 days
on: the bugs issue 10 found were all of this kind.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("plans", "responder", "bots")
ALLOWED = {Path("plans/clock.py")}
WALL_CLOCK = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
}


def _calls_to_the_wall_clock(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value
        name = (
            owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
        )
        if (name, node.func.attr) in WALL_CLOCK:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_only_plans_clock_reads_the_wall_clock() -> None:
    found = [
        place
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path.relative_to(ROOT) not in ALLOWED
        for place in _calls_to_the_wall_clock(path)
    ]
    assert found == [], "use plans.clock.now() / clock.today() instead: " + ", ".join(
        found
    )
