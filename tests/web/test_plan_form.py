"""The plan form alone: reading a post, refusing bad values, adding rows.

`responder.plan_form` imports neither Flask nor werkzeug, so these are plain
asserts over dictionaries: no app, no client, no database.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from plans import drafts
from responder.plan_form import (
    FIELDSETS,
    Field,
    Fieldset,
    FormProblem,
    FormState,
    change_rows,
    field_name,
    form_rows,
    read_form,
    read_value,
    shown,
    value_at,
)

BASE = {"team": {"code": "TEST-TEAM"}, "person": {"ref": "P-TEST-1"}}
LATITUDE = Field("lat", "Latitude", "number", minimum=-90, maximum=90)


def sample(field: Field, row: int) -> Any:
    """Return a value the form can hold for `field` (rows differ by `row`)."""
    if field.kind == "lines":
        return [f"First line {row}", f"Second line {row}"]
    if field.kind == "date":
        return f"2026-0{row + 1}-1{row}"
    if field.kind == "number":
        return 50.5 - row if (field.maximum or 0) <= 90 else -1.25 - row
    if field.kind == "int":
        return int([key for key, _ in field.choices if key][row])
    if field.kind == "checkbox":
        return True
    if field.kind == "yesno":
        return row % 2 == 0
    if field.kind == "select":
        return [key for key, _ in field.choices if key][-1 - row]
    if field.kind == "textarea":
        return f"{field.label}, row {row}.\nA second paragraph."
    return f"{field.label} {row}"


def full_document() -> dict[str, Any]:
    """Return a document with every field of every fieldset filled in."""
    document: dict[str, Any] = {
        "format": drafts.FORMAT,
        "team": dict(BASE["team"]),
        "person": {"ref": "P-TEST-1"},
        "plan": {},
    }
    for fieldset in FIELDSETS:
        node = document
        for step in fieldset.path[:-1] if fieldset.repeats else fieldset.path:
            node = node.setdefault(step, {})
        if fieldset.repeats:
            node[fieldset.path[-1]] = [
                {field.key: sample(field, row) for field in fieldset.fields}
                for row in range(2)
            ]
        else:
            node.update({field.key: sample(field, 0) for field in fieldset.fields})
    return document


def as_posted(document: dict[str, Any]) -> dict[str, list[str]]:
    """Return what a browser posts for the form the document is shown in.

    The same walk as templates/mentor/edit.html: every fieldset's fields by
    `field_name`, repeating ones by `form_rows` with their count; an unticked
    checkbox is not sent at all.
    """
    posted: dict[str, list[str]] = {}

    def put(fieldset_path: tuple[str | int, ...], field: Field, value: Any) -> None:
        text = shown(field, value)
        if field.kind == "checkbox" and not text:
            return
        posted[field_name((*fieldset_path, field.key))] = [text]

    for fieldset in FIELDSETS:
        if fieldset.repeats:
            rows = form_rows(document, fieldset)
            posted[field_name((*fieldset.path, "count"))] = [str(len(rows))]
            for index, row in enumerate(rows):
                for field in fieldset.fields:
                    put((*fieldset.path, index), field, row.get(field.key))
        else:
            for field in fieldset.fields:
                put(
                    fieldset.path,
                    field,
                    value_at(document, (*fieldset.path, field.key)),
                )
    return posted


def fieldset_at(path: tuple[str, ...]) -> Fieldset:
    return next(f for f in FIELDSETS if f.path == path and f.repeats)


# --- reading ------------------------------------------------------------------


def test_a_document_shown_in_the_form_and_posted_back_is_the_same_document() -> None:
    document = full_document()
    state = read_form(as_posted(document), BASE)
    assert state.problems == []
    assert state.clean == document


def test_every_fieldset_is_filled_by_the_round_trip_document() -> None:
    # The round trip above is only worth something if it covers every field.
    document = full_document()
    for fieldset in FIELDSETS:
        rows = value_at(document, fieldset.path)
        row = rows[1] if fieldset.repeats else rows
        assert all(row[field.key] not in (None, "", []) for field in fieldset.fields)


def test_the_form_reads_values_as_the_document_holds_them() -> None:
    posted = {
        "person.given_name": ["  Robin  "],
        "person.aliases": ["Bobby\r\n\r\n  R.E.  \r\n"],
        "person.date_of_birth": ["1990-02-03"],
        "person.address.lat": ["50.9077"],
        "plan.summary": ["Speak quietly.\r\nGive time."],
        "plan.risk.likelihood": ["4"],
        "plan.capacity.retain": ["no"],
        "plan.capacity.employ": [""],
        "plan.coproduction.agreed_with_person": ["on"],
    }
    clean = read_form(posted, BASE).clean
    assert clean["person"]["given_name"] == "Robin"
    assert clean["person"]["aliases"] == ["Bobby", "R.E."]
    assert clean["person"]["date_of_birth"] == "1990-02-03"
    assert clean["person"]["address"] == {"lat": 50.9077}
    assert clean["plan"]["summary"] == "Speak quietly.\nGive time."
    assert clean["plan"]["risk"] == {"likelihood": 4}
    assert clean["plan"]["capacity"] == {"retain": False}
    assert clean["plan"]["coproduction"] == {"agreed_with_person": True}


def test_the_base_gives_the_format_team_and_person_ref_but_nothing_else() -> None:
    base = {**BASE, "plan": {"summary": "Old words"}, "status": "draft"}
    clean = read_form({}, base).clean
    assert clean == {
        "format": drafts.FORMAT,
        "team": {"code": "TEST-TEAM"},
        "person": {"ref": "P-TEST-1", "aliases": []},
        "plan": {"summary": ""},
    }


def test_a_werkzeug_multidict_reads_like_a_mapping_of_lists() -> None:
    # Flask's request.form is a MultiDict; the form needs only its getlist.
    from werkzeug.datastructures import MultiDict

    posted = as_posted(full_document())
    multidict = MultiDict(
        [(name, value) for name, values in posted.items() for value in values]
    )
    assert read_form(multidict, BASE).clean == read_form(posted, BASE).clean


def test_a_field_sent_twice_is_refused_not_guessed() -> None:
    state = read_form(
        {
            "plan.summary": ["One", "Two"],
            "plan.behaviours.count": ["1"],
            "plan.behaviours.0.advice": ["Quiet", "Loud"],
        },
        BASE,
    )
    assert state.problems == [
        "Summary: sent twice; reload the form",
        "Behaviour 1: What helps: sent twice; reload the form",
    ]


# --- refusing -----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["nan", "NaN", "inf", "-Infinity", "1e999", "north", "5" * 41]
)
def test_a_coordinate_that_is_no_number_is_refused_with_the_field_named(
    raw: str,
) -> None:
    with pytest.raises(FormProblem) as refused:
        read_value(LATITUDE, raw)
    assert str(refused.value) == "Latitude: write a number"
    state = read_form({"person.address.lat": [raw]}, BASE)
    assert state.problems == ["Latitude: write a number"]


@pytest.mark.parametrize(
    ("name", "raw", "words"),
    [
        ("person.address.lat", "90.5", "Latitude: write a number from -90 to 90"),
        ("person.address.lon", "-180.01", "Longitude: write a number from -180 to 180"),
        ("plan.review_by", "next spring", "Review by: write a date as YYYY-MM-DD"),
        ("plan.risk.likelihood", "9", "Likelihood (1 to 5): choose 1 to 5"),
        ("plan.sharing_basis", "because", "choose one of the options"),
        ("person.given_name", "x" * 101, "Given name: at most 100 characters"),
    ],
)
def test_a_value_out_of_range_is_refused_with_the_field_named(
    name: str, raw: str, words: str
) -> None:
    state = read_form({name: [raw]}, BASE)
    assert len(state.problems) == 1
    assert words in state.problems[0]
    # The refused words stay in the form, so the mentor can correct them.
    assert value_at(state.document, tuple(name.split("."))) == raw


def test_a_refused_value_in_a_row_names_the_row() -> None:
    state = read_form(
        {
            "plan.places_of_safety.count": ["2"],
            "plan.places_of_safety.0.name": ["Crisis cafe"],
            "plan.places_of_safety.1.lon": ["inf"],
        },
        BASE,
    )
    assert state.problems == ["Place of safety 2: Longitude: write a number"]


def test_the_edges_of_the_world_are_places() -> None:
    assert read_value(LATITUDE, "-90") == -90.0
    assert read_value(LATITUDE, " 90 ") == 90.0


# --- blanks and rows ----------------------------------------------------------


def test_blank_fields_and_blank_rows_are_pruned() -> None:
    state = read_form(
        {
            "person.given_name": ["   "],
            "plan.behaviours.count": ["3"],
            "plan.behaviours.0.description": [""],
            "plan.behaviours.1.description": ["Paces"],
            "plan.behaviours.2.triggers": ["  "],
            "plan.gp_practice.name": [""],
        },
        BASE,
    )
    assert state.problems == []
    # The posted form keeps every row, so the page shows what was sent...
    assert len(state.document["plan"]["behaviours"]) == 3
    # ...and what is saved has no empty rows or fields.
    assert state.clean["plan"] == {
        "summary": "",
        "behaviours": [{"description": "Paces"}],
    }
    assert state.clean["person"] == {"ref": "P-TEST-1", "aliases": []}


def test_a_row_count_is_bounded_and_unreadable_counts_are_none() -> None:
    behaviours = fieldset_at(("plan", "behaviours"))
    big = read_form({"plan.behaviours.count": ["100000"]}, BASE)
    assert len(big.document["plan"]["behaviours"]) == behaviours.max_items
    for count in ("many", "-3", ""):
        state = read_form({"plan.behaviours.count": [count]}, BASE)
        assert state.document["plan"]["behaviours"] == []


def test_add_and_remove_rows_say_what_changed() -> None:
    state = read_form(
        {
            "plan.behaviours.count": ["2"],
            "plan.behaviours.0.description": ["Paces"],
            "plan.behaviours.1.description": ["Shouts"],
        },
        BASE,
    )
    assert change_rows(state, "add:plan.behaviours") == (
        "Added another behaviour; it is not saved yet."
    )
    assert len(state.document["plan"]["behaviours"]) == 3
    assert change_rows(state, "remove:plan.behaviours:0") == (
        "Removed behaviour 1; this is not saved until you save."
    )
    assert [row.get("description") for row in state.document["plan"]["behaviours"]] == [
        "Shouts",
        None,
    ]


@pytest.mark.parametrize(
    "action",
    [
        "save",
        "add:plan.summary",
        "add:plan.nowhere",
        "remove:plan.behaviours:7",
        "remove:plan.behaviours:-1",
        "remove:plan.behaviours:first",
        "replace:plan.behaviours",
    ],
)
def test_an_action_that_changes_no_row_changes_nothing(action: str) -> None:
    state = read_form(
        {"plan.behaviours.count": ["1"], "plan.behaviours.0.advice": ["Quiet"]}, BASE
    )
    before = copy.deepcopy(state.document)
    assert change_rows(state, action) is None
    assert state.document == before


def test_a_full_fieldset_takes_no_more_rows() -> None:
    mentors = fieldset_at(("plan", "mentors"))
    state = FormState(
        {"plan": {"mentors": [{"name": f"M{n}"} for n in range(mentors.max_items)]}},
        [],
    )
    assert change_rows(state, "add:plan.mentors") == (
        f"A plan holds at most {mentors.max_items} of these."
    )
    assert len(state.document["plan"]["mentors"]) == mentors.max_items


def test_an_empty_repeating_fieldset_shows_one_blank_row() -> None:
    behaviours = fieldset_at(("plan", "behaviours"))
    assert form_rows({"plan": {}}, behaviours) == [{}]
    assert form_rows({"plan": {"behaviours": [{"advice": "Quiet"}]}}, behaviours) == [
        {"advice": "Quiet"}
    ]


def test_the_form_module_needs_neither_flask_nor_werkzeug() -> None:
    import ast
    from pathlib import Path

    import responder.plan_form

    tree = ast.parse(Path(responder.plan_form.__file__).read_text(encoding="utf-8"))
    roots = {
        name.split(".")[0]
        for node in ast.walk(tree)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    }
    assert roots.isdisjoint({"flask", "flask_login", "werkzeug"})
