"""The guardrails refuse care-withholding directives and flag sanction words."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from plans.guardrails import (
    ACKNOWLEDGE,
    BLOCK,
    Finding,
    blocking,
    check_plan,
    check_text,
    free_text_fields,
    to_acknowledge,
)
from responder.demo import generate_documents
from tests.plans.factories import document

CARE_WITHHOLDING = [
    "Do not convey.",
    "do not convey to hospital",
    "Don't convey her unless injured.",
    "Don\u2019t convey.",
    "She should not be conveyed.",
    "He must not be conveyed under any circumstances.",
    "Is not to be conveyed.",
    "Never convey to A&E.",
    "Do not transport.",
    "Must not be taken to A&E.",
    "Do not take her to A&E.",
    "Don't take him to hospital.",
    "Should not be taken to the emergency department.",
    "Not to be taken into hospital.",
    "Do not bring to ED.",
    "No ambulance.",
    "No ambulance to be sent.",
    "Ambulance: no ambulance needed, she is always fine.",
    "Do not attend.",
    "Police should not attend.",
    "Police are not to attend calls from this address.",
    "Do not deploy officers.",
    "Do not dispatch.",
    "No police attendance.",
    "No police response to 999 calls.",
    "No ambulance response.",
    "Do not send an ambulance.",
    "Don't call 999 for her.",
    "Do not call the police.",
    "Not to be treated.",
    "Do not treat.",
    "Do not treat her.",
    "Staff must not assess him.",
    "Refuse treatment.",
    "Refuse admission.",
    "Refuse her admission to the ward.",
    "Deny care.",
    "Withhold pain relief.",
    "She is to be refused admission.",
    "Should be denied treatment.",
    "Do not admit.",
    "Not to be admitted.",
    "He should not be admitted.",
    "Do not respond.",
    "Don't respond to calls from her.",
    "Control room: do not respond.",
    "Not for conveyance.",
    "Banned from A&E.",
    "Not for admission.",
    "She does not need to be conveyed.",
    "Doesn't need an ambulance.",
    "There is no need to convey.",
    "No need to attend.",
    "She should not be given pain relief.",
    "Must not receive treatment.",
    "No need for an ambulance.",
    "Ignore her calls.",
    "Control room: ignore 999 calls from this number.",
]

SUPPORTIVE = [
    "Always assess and treat.",
    "Always assess and treat any injury as you would for anyone.",
    "Do not hesitate to convey if injured.",
    "Never refuse care.",
    "Do not refuse treatment because of previous calls.",
    "Never withhold pain relief.",
    "Please don't treat her as a nuisance.",
    "She should not be treated differently from anyone else.",
    "Don't be treated with suspicion.",
    "I would prefer not to be taken to A&E if I am not hurt.",
    "She prefers not to be conveyed by police car.",
    "He tends not to attend appointments.",
    "They don't attend groups.",
    "I don't respond well to shouting.",
    "She may refuse treatment at first; give her time.",
    "If no ambulance is available, police may convey.",
    "When no ambulance is free, call the team.",
    "She has refused treatment before when frightened.",
    "Convey if injured or unwell.",
    "Take her to A&E if she has taken an overdose.",
    "Treat wounds as you would for anyone.",
    "Do not delay treatment.",
    "Do not leave her alone.",
    "He will not admit to feeling unwell; ask gently.",
    "She gets anxious in hospital; a quiet cubicle helps.",
    "Don't hesitate to call the team.",
    "She prefers not to be given medication in front of others.",
    "Ignore the shouting; she calms within minutes.",
]

SANCTION_OR_STIGMA = [
    ("Will be arrested if she calls again.", "sanction_arrest"),
    ("Arrest for breach.", "sanction_arrest"),
    ("Consider arresting for wasting police time.", "sanction_arrest"),
    ("Police will prosecute.", "sanction_prosecution"),
    ("Prosecution is being considered.", "sanction_prosecution"),
    ("She was charged with criminal damage.", "sanction_prosecution"),
    ("Explain the consequences of calling.", "sanction_consequences"),
    ("Section 35 dispersal applies.", "sanction_order"),
    ("Subject to a CBO.", "sanction_order"),
    ("Has an ASBO.", "sanction_order"),
    ("Criminal behaviour order in place.", "sanction_order"),
    ("Anti-social behaviour injunction.", "sanction_order"),
    ("Community protection notice issued.", "sanction_order"),
    ("Warn him about his calls.", "sanction_warning"),
    ("He has been warned.", "sanction_warning"),
    ("Give a final warning.", "sanction_warning"),
    ("Send a warning letter.", "sanction_warning"),
    ("Warn her that she will be arrested.", "sanction_warning"),
    ("She will be fined.", "sanction_fine"),
    ("Issue a fine.", "sanction_fine"),
    ("Has had a \u00a3100 fine before.", "sanction_fine"),
    ("Fixed penalty notice.", "sanction_fine"),
    ("He was cautioned last year.", "sanction_caution"),
    ("Consider a formal caution.", "sanction_caution"),
    ("Has two previous cautions.", "sanction_caution"),
    ("Zero tolerance.", "sanction_punishment"),
    ("Frequent flyer.", "stigma_frequent_flyer"),
    ("A known frequent flier.", "stigma_frequent_flyer"),
    ("Attention seeking.", "stigma_attention_seeking"),
    ("Attention-seeking behaviour.", "stigma_attention_seeking"),
    ("Very manipulative.", "stigma_manipulative"),
    ("Time waster.", "stigma_time_waster"),
    ("A time-waster.", "stigma_time_waster"),
    ("Wasting police time.", "stigma_time_waster"),
    ("A nuisance caller.", "stigma_label"),
]

NEUTRAL = [
    "She is cautious with strangers.",
    "Approach with caution; she startles easily.",
    "Use caution near the river.",
    "Cardiac arrest risk with her heart condition.",
    "Respiratory arrest after overdose is possible.",
    "She is usually fine after a cup of tea.",
    "There is a fine line between support and pressure.",
    "He feels fine by morning.",
    "Watch for early warning signs: pacing, silence.",
    "Warning signs include not eating.",
    "As a consequence of the injury she limps.",
    "She likes to sit at a fine dining restaurant.",
    "Her CPN visits weekly.",
    "She was a warden at the hostel.",
    "Prefers a female officer.",
    "Speak calmly and give her time.",
    "Please warn me before you touch me.",
    "Warn her before you move her; she startles.",
    "Give a warning before lights and sirens.",
]


@pytest.mark.parametrize("text", CARE_WITHHOLDING)
def test_care_withholding_directives_block(text: str) -> None:
    findings = check_text(text, "/plan/summary")
    assert [f.severity for f in findings].count(BLOCK) >= 1, findings


@pytest.mark.parametrize("text", SUPPORTIVE)
def test_supportive_phrasings_do_not_block(text: str) -> None:
    assert blocking(check_text(text)) == []


@pytest.mark.parametrize(("text", "code"), SANCTION_OR_STIGMA)
def test_sanction_and_stigma_need_acknowledgement(text: str, code: str) -> None:
    findings = check_text(text)
    assert code in {f.code for f in findings}
    assert all(f.severity == ACKNOWLEDGE for f in findings if f.code == code)


@pytest.mark.parametrize("text", NEUTRAL)
def test_neutral_words_that_look_alike_pass(text: str) -> None:
    assert check_text(text) == []


def _plan_with(pointer_path: list[str | int], text: str) -> dict[str, Any]:
    doc = document(
        behaviours=[{"description": "Paces.", "triggers": "", "advice": ""}],
        boundaries=[{"boundary": "Calls the team first.", "if_breached": ""}],
        crisis_locations=[{"name": "Bridge", "notes": ""}],
        places_of_safety=[{"name": "Crisis cafe", "notes": ""}],
        advice_for={"police": "", "ambulance": "", "emergency_department": ""},
        diagnosis={"name": "", "plain_explanation": ""},
        capacity={"notes": ""},
    )
    target: Any = doc
    for step in pointer_path[:-1]:
        target = target[step]
    target[pointer_path[-1]] = text
    return doc


FIELDS = [
    (["plan", "summary"], "/plan/summary"),
    (["plan", "behaviours", 0, "description"], "/plan/behaviours/0/description"),
    (["plan", "behaviours", 0, "triggers"], "/plan/behaviours/0/triggers"),
    (["plan", "behaviours", 0, "advice"], "/plan/behaviours/0/advice"),
    (["plan", "boundaries", 0, "boundary"], "/plan/boundaries/0/boundary"),
    (["plan", "boundaries", 0, "if_breached"], "/plan/boundaries/0/if_breached"),
    (["plan", "advice_for", "ambulance"], "/plan/advice_for/ambulance"),
    (["plan", "advice_for", "police"], "/plan/advice_for/police"),
    (
        ["plan", "advice_for", "emergency_department"],
        "/plan/advice_for/emergency_department",
    ),
    (["plan", "diagnosis", "name"], "/plan/diagnosis/name"),
    (["plan", "diagnosis", "plain_explanation"], "/plan/diagnosis/plain_explanation"),
    (["plan", "capacity", "notes"], "/plan/capacity/notes"),
    (
        ["plan", "coproduction", "person_statement"],
        "/plan/coproduction/person_statement",
    ),
    (["plan", "crisis_locations", 0, "notes"], "/plan/crisis_locations/0/notes"),
    (["plan", "places_of_safety", 0, "notes"], "/plan/places_of_safety/0/notes"),
    (["person", "description"], "/person/description"),
]


@pytest.mark.parametrize(("path", "pointer"), FIELDS)
def test_every_free_text_field_is_checked_and_named(
    path: list[str | int], pointer: str
) -> None:
    findings = check_plan(_plan_with(path, "Do not convey. Frequent flyer."))
    assert [(f.severity, f.pointer, f.phrase) for f in findings] == [
        (BLOCK, pointer, "Do not convey"),
        (ACKNOWLEDGE, pointer, "Frequent flyer"),
    ]


def test_names_and_identifiers_are_not_read_as_advice() -> None:
    doc = document()
    doc["person"]["family_name"] = "Fine"
    doc["person"]["given_name"] = "Warner"
    doc["person"]["aliases"] = ["Arrest"]
    doc["person"]["address"]["address"] = "1 Caution Road, Testtown"
    doc["team"]["name"] = "Do not convey team"
    doc["plan"]["nominated_people"] = [{"name": "Mo Warn", "relationship": "warden"}]
    assert check_plan(doc) == []


def test_findings_say_why_and_what_to_write_instead() -> None:
    (finding,) = check_plan(
        _plan_with(["plan", "advice_for", "ambulance"], "Don't convey her.")
    )
    assert finding == Finding(
        code="no_conveyance",
        severity=BLOCK,
        pointer="/plan/advice_for/ambulance",
        phrase="Don't convey",
        message=finding.message,
    )
    assert "never withhold care" in finding.message
    assert "convey if injured" in finding.message
    assert dataclasses.is_dataclass(finding)
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.code = "other"  # type: ignore[misc]
    assert finding.to_dict()["pointer"] == "/plan/advice_for/ambulance"


def test_blocks_come_first_and_acknowledgements_are_separable() -> None:
    doc = _plan_with(["plan", "summary"], "A frequent flyer. Do not treat.")
    findings = check_plan(doc)
    assert [f.severity for f in findings] == [BLOCK, ACKNOWLEDGE]
    assert [f.code for f in blocking(findings)] == ["no_treatment"]
    assert [f.code for f in to_acknowledge(findings)] == ["stigma_frequent_flyer"]


def test_pointers_escape_slashes_in_keys() -> None:
    doc = copy.deepcopy(document())
    doc["plan"]["advice_for"] = {"a/b": "Do not convey"}
    assert [pointer for pointer, _ in free_text_fields(doc)].count(
        "/plan/advice_for/a~1b"
    ) == 1


def test_a_clean_plan_has_no_findings() -> None:
    assert check_plan(document()) == []


def test_synthetic_demo_plans_raise_nothing() -> None:
    flagged = [
        (doc["person"]["ref"], check_plan(doc))
        for doc in generate_documents(300, seed=11)
        if check_plan(doc)
    ]
    assert flagged == []
