"""Reading response-plan/1 files: every problem, where it is, in words."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from plans.exchange import ImportProblem, check_document, read_file, read_text
from plans.exchange.reading import pointer_of
from tests.plans.factories import document

SHARED = Path(__file__).resolve().parents[3] / "shared"
EXAMPLE = SHARED / "plan-format" / "example.json"
DEV_PLANS = SHARED / "data" / "dev-search" / "plans.jsonl"


def with_change(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Return a valid document after applying `change` to it."""
    doc = document()
    doc["plan"]["behaviours"] = [
        {"description": "Walks to the bridge", "advice": "Talk calmly."},
        {"description": "Calls 999 at night"},
        {"description": "Sits by the river", "triggers": "Anniversaries"},
    ]
    doc["plan"]["places_of_safety"] = [{"name": "Crisis cafe"}, {"name": "Home"}]
    change(doc)
    return doc


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.strip("/").split("/")
        target: Any = doc
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return change


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        *parents, last = path.strip("/").split("/")
        target: Any = doc
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        del target[last]

    return change


@pytest.mark.parametrize(
    ("change", "pointer", "words"),
    [
        (_delete("/plan/summary"), "/plan/summary", "is required"),
        (_delete("/person/ref"), "/person/ref", "is required"),
        (_delete("/team"), "/team", "is required"),
        (_set("/plan/colour", "blue"), "/plan/colour", "is not a field"),
        (
            _set("/format", "response-plan/3"),
            "/format",
            "must be 'response-plan/1' or 'response-plan/2'",
        ),
        (_set("/plan/status", "superseded"), "/plan/status", "must be one of"),
        (_set("/plan/version", 0), "/plan/version", "at least 1"),
        (_set("/plan/version", "2"), "/plan/version", "must be a whole number"),
        (_set("/plan/review_by", "31/12/2026"), "/plan/review_by", "not a date"),
        (_set("/plan/review_by", "2026-02-30"), "/plan/review_by", "not a date"),
        (
            _set("/plan/published_at", "2026-11-23 morning"),
            "/plan/published_at",
            "not a date and time",
        ),
        (
            _set("/plan/published_at", "2026-13-01T09:00:00Z"),
            "/plan/published_at",
            "not a date and time",
        ),
        (
            _set("/plan/published_at", "2026-11-23T09:00:00"),
            "/plan/published_at",
            "not a date and time",
        ),
        (_set("/person/ref", "bad ref!"), "/person/ref", "HIT/00042"),
        (_set("/team/code", "soton"), "/team/code", "capital letters"),
        (_set("/person/given_name", ""), "/person/given_name", "must not be empty"),
        (
            _set("/plan/behaviours/2/description", "x" * 1001),
            "/plan/behaviours/2/description",
            "1001 characters; at most 1000",
        ),
        (
            _delete("/plan/behaviours/1/description"),
            "/plan/behaviours/1/description",
            "is required",
        ),
        (
            _delete("/plan/places_of_safety/1/name"),
            "/plan/places_of_safety/1/name",
            "is required",
        ),
        (_set("/person/address/lat", 91), "/person/address/lat", "at most 90"),
        (_set("/person/sex", "f"), "/person/sex", "must be one of"),
        (_set("/plan/capacity", {"retain": "yes"}), "/plan/capacity/retain", "true"),
        (
            _set("/plan/mentors", [{"name": "PC Bell", "role": "sergeant"}]),
            "/plan/mentors/0/role",
            "must be one of",
        ),
        (
            _set("/plan/nominated_people", [{"name": "A"}] * 21),
            "/plan/nominated_people",
            "at most 20",
        ),
    ],
)
def test_each_schema_problem_names_its_field_and_says_what_is_wrong(
    change: Callable[[dict[str, Any]], None], pointer: str, words: str
) -> None:
    parsed = check_document(with_change(change), "7")
    assert not parsed.valid
    matching = [p for p in parsed.problems if p.pointer == pointer]
    assert matching, [str(p) for p in parsed.problems]
    assert words in matching[0].message
    assert matching[0].position == "7"


@pytest.mark.parametrize(
    "stamp", ["2026-11-23T09:15:00Z", "2026-11-23T09:15:00.123+01:00"]
)
def test_valid_timestamps_pass(stamp: str) -> None:
    assert check_document(document(published_at=stamp)).valid


def test_every_problem_in_a_document_is_reported_at_once() -> None:
    doc = document()
    del doc["plan"]["summary"]
    doc["plan"]["review_by"] = "soon"
    doc["person"]["sex"] = "f"
    doc["plan"]["extra"] = 1
    pointers = {p.pointer for p in check_document(doc).problems}
    assert pointers == {
        "/plan/summary",
        "/plan/review_by",
        "/person/sex",
        "/plan/extra",
    }


def test_a_document_that_is_not_an_object_is_refused() -> None:
    parsed = check_document(["not", "a", "plan"], "3")
    assert not parsed.valid
    assert parsed.problems == [ImportProblem("3", "", "must be an object")]


def test_problems_read_as_position_pointer_message() -> None:
    problem = ImportProblem("12", "/plan/summary", "is required")
    assert str(problem) == "12 /plan/summary: is required"


def test_pointers_escape_slashes_and_tildes() -> None:
    assert pointer_of(["plan", "a/b", "c~d", 2]) == "/plan/a~1b/c~0d/2"


def jsonl(*lines: object) -> str:
    """Return JSON Lines text; strings are taken as raw lines."""
    return "".join(
        (line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines
    )


def test_json_lines_report_line_numbers_and_keep_reading_after_a_bad_line() -> None:
    broken = document("TEST-TEAM/00003")
    del broken["plan"]["summary"]
    text = jsonl(
        document("TEST-TEAM/00001"),
        "",
        '{"format": "response-plan/1", "team": ',
        broken,
        document("TEST-TEAM/00005"),
    )
    parsed = read_text(text)
    assert [item.position for item in parsed] == ["1", "3", "4", "5"]
    assert [item.valid for item in parsed] == [True, False, False, True]
    syntax = parsed[1].problems[0]
    assert syntax.position == "3" and "not valid JSON" in syntax.message
    assert "column" in syntax.message
    assert parsed[2].problems[0].pointer == "/plan/summary"


def test_a_json_array_reports_the_index_of_each_document() -> None:
    broken = document("TEST-TEAM/00002")
    broken["plan"]["status"] = "published"
    parsed = read_text(json.dumps([document(), broken], indent=2))
    assert [item.position for item in parsed] == ["[0]", "[1]"]
    assert parsed[1].problems[0].position == "[1]"
    assert parsed[1].problems[0].pointer == "/plan/status"


def test_a_single_pretty_printed_document_is_read_whole() -> None:
    parsed = read_text(json.dumps(document(), indent=4))
    assert len(parsed) == 1 and parsed[0].valid and parsed[0].position == ""


def test_a_syntax_error_in_a_pretty_file_gives_its_line_and_column() -> None:
    text = json.dumps(document(), indent=2).replace('"live"', '"live",,', 1)
    line = next(n for n, row in enumerate(text.splitlines(), 1) if ",," in row)
    parsed = read_text("\n" + text)
    (problem,) = parsed[0].problems
    assert problem.position.startswith(f"{line + 1}:")
    assert "not valid JSON" in problem.message


def test_a_one_line_file_with_a_jsonl_name_is_json_lines() -> None:
    parsed = read_text(json.dumps(document()), name="plans.jsonl")
    assert parsed[0].position == "1" and parsed[0].valid


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "holds no documents"),
        ("\n \n", "holds no documents"),
        ("[]", "no documents"),
    ],
)
def test_empty_files_say_so(text: str, words: str) -> None:
    (parsed,) = read_text(text)
    assert not parsed.valid and words in parsed.problems[0].message


def test_a_byte_order_mark_is_tolerated() -> None:
    parsed = read_text("\ufeff" + json.dumps(document()))
    assert parsed[0].valid


def test_the_same_ref_and_version_twice_with_other_content_is_an_error() -> None:
    changed = document()
    changed["plan"]["summary"] = "Something else."
    parsed = read_text(jsonl(document(), document(), changed))
    assert parsed[0].valid and parsed[1].valid
    assert "identical" in parsed[1].problems[0].message
    assert not parsed[2].valid
    assert parsed[2].problems[0].pointer == "/person/ref"
    assert "already appears at 1" in parsed[2].problems[0].message


def test_domain_checks_warn_about_dates_out_of_order() -> None:
    parsed = check_document(document(review_by="2026-01-01", approved_on="2026-06-01"))
    assert parsed.valid
    assert [p.pointer for p in parsed.problems] == ["/plan/review_by"]
    assert parsed.problems[0].severity == "warning"


def test_the_shared_example_is_valid() -> None:
    if not EXAMPLE.exists():
        pytest.skip("shared/plan-format is not beside the repository")
    (parsed,) = list(read_file(EXAMPLE))
    assert parsed.valid, [str(p) for p in parsed.problems]


def test_the_dev_search_plans_are_all_valid() -> None:
    if not DEV_PLANS.exists():
        pytest.skip("shared/data is not beside the repository")
    parsed = list(read_file(DEV_PLANS))
    assert len(parsed) == 1000
    assert [item.position for item in parsed if not item.valid] == []


def test_reading_does_not_change_the_document() -> None:
    original = document()
    kept = copy.deepcopy(original)
    (parsed,) = read_text(json.dumps(original))
    assert parsed.document == kept


def test_a_file_that_is_not_utf8_is_reported_not_crashed_on(tmp_path: Path) -> None:
    path = tmp_path / "plans.jsonl"
    path.write_bytes(
        (json.dumps(document()) + "\n").encode() + b'{"name": "Sin\xe9ad"}\n'
    )
    parsed = list(read_file(path))
    assert parsed[-1].problems[0].message.startswith("the file is not UTF-8 text")
    assert not parsed[-1].valid
