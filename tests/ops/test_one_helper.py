"""Each small helper is written once: a second copy is how the copies drift.

Issue 11 found two haversines with different Earth radii, four SHA-256 digests,
six date readers, three back-offs, six no-store hooks and eight `*_or_404`
lookups in three naming styles. Each now has one home; this test fails when a
second definition appears, and says where the one definition lives.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("plans", "responder", "bots", "bench")


@functools.cache
def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@functools.cache
def _sources() -> list[Path]:
    return [
        path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
    ]


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@functools.cache
def _functions(path: Path) -> list[ast.FunctionDef]:
    tree = ast.parse(_text(path), filename=str(path))
    return [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]


def _lines_matching(pattern: str, allowed: set[str]) -> list[str]:
    found = []
    for path in _sources():
        if _relative(path) in allowed:
            continue
        for number, line in enumerate(_text(path).splitlines(), 1):
            if re.search(pattern, line):
                found.append(f"{_relative(path)}:{number}")
    return found


# (what, regular expression over source lines, the files allowed to match)
ONE_PLACE = [
    (
        "great-circle distance",
        r"def \w*haversine|math\.asin\(|6_?371",
        {"plans/search/geo.py"},
    ),
    ("SHA-256 hex digest", r"sha256\([^)]*\)\.hexdigest\(\)", {"plans/hashing.py"}),
    ("doubling back-off", r"\b2 ?\*\* ?", {"plans/ratelimit.py"}),
    (
        "Cache-Control: no-store",
        r"[\"']no-store[\"']",
        {"responder/security.py", "responder/middleware.py"},
    ),
    ("case row lookup", r"raise LookupError\(", {"plans/cases/guard.py"}),
    (
        "bench server",
        r"make_server\(|def _csrf\(|def _confirm_totp\(",
        {"bench/bench_server.py"},
    ),
]


@pytest.mark.parametrize(
    ("what", "pattern", "allowed"), ONE_PLACE, ids=[row[0] for row in ONE_PLACE]
)
def test_a_helper_has_one_definition(
    what: str, pattern: str, allowed: set[str]
) -> None:
    found = _lines_matching(pattern, allowed)
    assert found == [], (
        f"{what} is written again; use the one in {sorted(allowed)}: {found}"
    )


def test_dates_are_read_by_clock_iso_date_only() -> None:
    readers = [
        f"{_relative(path)}:{function.lineno} {function.name}"
        for path in _sources()
        if _relative(path) != "plans/clock.py"
        for function in _functions(path)
        if re.fullmatch(
            r"_?(date|day|iso_date|date_or_none|parse_iso_date)", function.name
        )
    ]
    assert readers == [], f"read dates with plans.clock.iso_date: {readers}"


def test_no_store_is_set_in_one_place() -> None:
    hooks = [
        f"{_relative(path)}:{function.lineno}"
        for path in _sources()
        if _relative(path) != "responder/security.py"
        for function in _functions(path)
        if "no_store" in function.name
    ]
    assert hooks == [], f"responder.security sets no-store on every response: {hooks}"


# Lookups that 404 live in responder/rows.py; these few wrap a domain function
# (cases and meetings), an in-memory table (sso) or a scope rule (privacy).
OR_404_ELSEWHERE = {
    ("responder/cases.py", "case_or_404"),
    ("responder/cases.py", "meeting_or_404"),
    ("responder/privacy.py", "alert_or_404"),
    ("responder/sso.py", "provider_or_404"),
}


def test_lookups_that_404_live_in_rows() -> None:
    stray = [
        f"{_relative(path)}:{function.lineno} {function.name}"
        for path in _sources()
        if _relative(path) != "responder/rows.py"
        for function in _functions(path)
        if function.name.endswith("_or_404")
        and (_relative(path), function.name) not in OR_404_ELSEWHERE
    ]
    assert stray == [], (
        f"use responder.rows (get_or_404 and the typed lookups): {stray}"
    )


def test_a_plans_places_are_read_by_plan_places_only() -> None:
    readers = []
    for path in _sources():
        # The demo generator writes places; bench scripts score against them.
        if _relative(path) in {
            "plans/document.py",
            "responder/demo.py",
        }:
            continue
        if _relative(path).startswith("bench/"):
            continue
        for function in _functions(path):
            strings = {
                node.value
                for node in ast.walk(function)
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
            }
            if {"crisis_locations", "lat"} <= strings:
                readers.append(f"{_relative(path)}:{function.lineno} {function.name}")
    assert readers == [], f"read a plan's places with plans.document.places: {readers}"


# Who may still read the plan document's `plan` and `person` objects by their
# keys (`doc["plan"]`, `doc.get("person")`); everything else reads
# plans.document's typed structures. (file, function): why.
DOCUMENT_KEY_READERS = {
    # Writers and editors of the dict: they copy, rewrite or compare the JSON
    # itself, so a key that is present but empty must survive as written.
    ("plans/exchange/fhir.py", "bundle_for"): "maps every key, presence included",
    ("plans/exchange/upgrade.py", "normalise_document"): "rewrites before the schema",
    ("plans/exchange/landing.py", "_comparable"): "copies the dict to compare",
    ("plans/drafts.py", "_normalised"): "writes ref, version and status",
    ("plans/drafts.py", "_words"): "copies the dict to compare",
    ("plans/drafts.py", "_without_agreement"): "removes the agreement",
    ("plans/search/index.py", "_search_document"): "writes the recorded review date",
    # Input the schema has not passed (or refused): its raw values are the
    # subject of the message (a number typed as digits, a ref of any type).
    ("plans/drafts.py", "nhs_number_problem"): "refuses an unvalidated value",
    ("plans/exchange/landing.py", "_ref_of"): "names a refused document",
    # Other dicts that happen to have a "person" or "plan" key.
    ("plans/portal/pdf.py", "render_report_pdf"): "a saved report, not a plan",
    ("responder/chat.py", "_unlink"): "a chat link's owner",
    ("responder/cli/chat.py", "notify_follow"): "the command's target",
    ("responder/privacy.py", "log"): "a query-string argument",
}
DOCUMENT_KEYS = {"plan", "person"}


def _document_key_reads(function: ast.FunctionDef) -> bool:
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and isinstance(node.slice, ast.Constant)
            and node.slice.value in DOCUMENT_KEYS
        ):
            return True
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in DOCUMENT_KEYS
        ):
            return True
    return False


def test_the_plan_document_is_read_through_plans_document() -> None:
    readers = [
        f"{_relative(path)}:{function.lineno} {function.name}"
        for path in _sources()
        if _relative(path) != "plans/document.py"
        and not _relative(path).startswith("bench/")
        for function in _functions(path)
        if _document_key_reads(function)
        and (_relative(path), function.name) not in DOCUMENT_KEY_READERS
    ]
    assert readers == [], (
        "read the response-plan document with plans.document (read, person_of, "
        f"plan_of, places, ...), not by its keys: {readers}"
    )


def test_the_document_key_allowlist_has_no_stale_entries() -> None:
    found = {
        (_relative(path), function.name)
        for path in _sources()
        for function in _functions(path)
        if _document_key_reads(function)
    }
    assert set(DOCUMENT_KEY_READERS) <= found, set(DOCUMENT_KEY_READERS) - found
