"""response-plan/2: the PRSB and NRL fields validate, are guarded and read in order."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from plans import guardrails, plan_view, rules
from plans.exchange import read_text
from plans.vocabulary import RESPONDER_ROLES
from tests.plans import factories

TODAY = dt.date(2026, 11, 23)
NEW_KINDS = (
    "mental_health_crisis_team",
    "home_treatment_team",
    "liaison_psychiatry",
    "nhs_111_crisis_line",
    "street_triage",
    "liaison_and_diversion",
)

V2_FIELDS: dict[str, Any] = {
    "early_warning_signs": ["Stops answering the phone", "Gives away belongings"],
    "please_do": ["Use my first name", "Give me time to answer"],
    "please_dont": ["Stand between me and the door"],
    "communication": "Short sentences; I lip-read, so face me.",
    "reasonable_adjustments": "A quiet room; a British Sign Language interpreter.",
    "coping_strategies": ["Walking the dog", "Calling my sister"],
    "dependants": [
        {"who": "Son, 8", "kind": "child", "action": "Call his grandmother first."},
        {"who": "Dog, Biscuit", "kind": "pet", "action": "Neighbour at no. 4."},
    ],
    "supported_by": [{"name": "Jo Example", "role": "peer support worker"}],
    "review": {"responsible": "Care coordinator", "interval_months": 6},
    "capacity_decisions": [
        {
            "decision": "Whether to go to hospital when in crisis",
            "outcome": "has_capacity",
            "assessor": "Dr Example",
            "assessed_on": "2026-05-20",
            "best_interests": "Not needed: has capacity.",
        }
    ],
    "mental_health_act": {"status": "community_treatment_order", "notes": "Recall"},
    "legal": {"lpa_health_welfare": False, "adrt": True, "notes": "Copy with GP."},
    "gp_practice": {"name": "Test Surgery", "ods_code": "J82001", "phone": "023 8000"},
}


def v2_document(**plan: Any) -> dict[str, Any]:
    doc = factories.document(**copy.deepcopy(V2_FIELDS))
    doc["plan"]["advice_for"] = {kind: f"ADVICE-{kind}" for kind in RESPONDER_ROLES}
    doc["plan"].update(plan)
    return doc


def test_a_full_v2_document_reads_without_a_problem() -> None:
    (parsed,) = read_text(json.dumps(v2_document()))
    assert parsed.valid, parsed.problems
    assert [p for p in parsed.problems if p.is_error] == []


@pytest.mark.parametrize(
    ("plan", "pointer", "words"),
    [
        ({"gp_practice": {"ods_code": "j82 001"}}, "/plan/gp_practice/ods_code", ""),
        ({"review": {"interval_months": 36}}, "/plan/review/interval_months", "24"),
        (
            {"mental_health_act": {"status": "sectioned"}},
            "/plan/mental_health_act/status",
            "must be one of",
        ),
        (
            {"capacity_decisions": [{"outcome": "has_capacity"}]},
            "/plan/capacity_decisions/0/decision",
            "is required",
        ),
        (
            {"dependants": [{"who": "Cat", "kind": "goldfish"}]},
            "/plan/dependants/0/kind",
            "must be one of",
        ),
        ({"please_do": [""]}, "/plan/please_do/0", "must not be empty"),
    ],
)
def test_each_v2_problem_is_named_with_its_pointer(
    plan: dict[str, Any], pointer: str, words: str
) -> None:
    (parsed,) = read_text(json.dumps(v2_document(**plan)))
    assert not parsed.valid
    assert pointer in [problem.pointer for problem in parsed.problems]
    assert any(words in problem.message for problem in parsed.problems)


# Every free-text field response-plan/2 adds, with the pointer a finding names.
NEW_FREE_TEXT = (
    ("early_warning_signs", ["{}"], "/plan/early_warning_signs/0"),
    ("please_do", ["{}"], "/plan/please_do/0"),
    ("please_dont", ["{}"], "/plan/please_dont/0"),
    ("communication", "{}", "/plan/communication"),
    ("reasonable_adjustments", "{}", "/plan/reasonable_adjustments"),
    ("coping_strategies", ["{}"], "/plan/coping_strategies/0"),
    ("dependants", [{"who": "Son", "action": "{}"}], "/plan/dependants/0/action"),
    ("dependants", [{"who": "{}"}], "/plan/dependants/0/who"),
    (
        "capacity_decisions",
        [{"decision": "{}"}],
        "/plan/capacity_decisions/0/decision",
    ),
    (
        "capacity_decisions",
        [{"decision": "Hospital", "best_interests": "{}"}],
        "/plan/capacity_decisions/0/best_interests",
    ),
    ("mental_health_act", {"notes": "{}"}, "/plan/mental_health_act/notes"),
    ("legal", {"notes": "{}"}, "/plan/legal/notes"),
    *(("advice_for", {kind: "{}"}, f"/plan/advice_for/{kind}") for kind in NEW_KINDS),
)


def _filled(template: Any, words: str) -> Any:
    return json.loads(json.dumps(template).replace("{}", words))


@pytest.mark.parametrize(("key", "template", "pointer"), NEW_FREE_TEXT)
def test_guardrails_read_every_new_free_text_field(
    key: str, template: Any, pointer: str
) -> None:
    doc = factories.document()
    doc["plan"][key] = _filled(template, "Not to be conveyed.")
    findings = guardrails.check_plan(doc)
    assert (pointer, guardrails.BLOCK) in {(f.pointer, f.severity) for f in findings}


def test_codes_and_names_of_who_helped_are_not_read_as_advice() -> None:
    doc = v2_document()
    doc["plan"]["gp_practice"]["name"] = "Fine Lane Surgery"
    doc["plan"]["supported_by"] = [{"name": "Sam Fine", "role": "sister"}]
    pointers = {f.pointer for f in guardrails.check_plan(doc)}
    assert not any(
        p.startswith(("/plan/gp_practice", "/plan/supported_by")) for p in pointers
    )


def test_the_plan_page_keeps_the_readers_advice_first_then_the_at_scene_fields() -> (
    None
):
    doc = v2_document(
        boundaries=[{"boundary": "Calls the team first.", "if_breached": "Call us."}],
        behaviours=[{"description": "Paces", "triggers": "Noise"}],
        nominated_people=[
            {"name": "Sam", "phone": "07700 900123", "consent_recorded": True}
        ],
    )
    view = plan_view.build(doc, "street_triage", today=TODAY)
    keys = view.keys
    assert keys[:2] == ("advice_street_triage", "summary")
    assert view.sections[0].entries[0].text == "ADVICE-street_triage"
    order = [
        "boundaries",
        "please",
        "communication",
        "behaviours",
        "early_warning_signs",
        "nominated_people",
        "dependants",
        "team",
        "gp_practice",
        "capacity",
        "legal",
        "capacity_decisions",
        "coping_strategies",
        "advice_other_roles",
        "about",
    ]
    assert [key for key in keys if key in order] == order
    about = dict(view.section("about").entries[0].details)  # type: ignore[union-attr]
    assert about["Written with the support of"] == "Jo Example (peer support worker)"
    assert about["Reviewed every"] == "6 months"
    legal = dict(view.section("legal").entries[0].details)  # type: ignore[union-attr]
    assert legal["Mental Health Act"] == "Community treatment order"
    assert legal["Advance Decision to Refuse Treatment"] == "Yes"
    others = view.section("advice_other_roles")
    assert others is not None
    assert len(others.entries) == len(RESPONDER_ROLES) - 1


@pytest.mark.parametrize("kind", NEW_KINDS)
def test_the_new_kinds_search_open_and_read_plans_as_responders(kind: str) -> None:
    for action, channel in (
        ("search", "web"),
        ("search", "api"),
        ("open_plan", "web"),
        ("view_plan", "web"),
    ):
        assert rules.allowed(kind, channel, action)  # type: ignore[arg-type]
    assert not rules.allowed(kind, "web", "edit_drafts")
    view = plan_view.build(v2_document(), kind, today=TODAY)
    assert view.role_label == plan_view.ROLE_LABELS[kind]
    assert view.sections[0].key == f"advice_{kind}"
