"""The small guardrail model: what it adds to the rules, and what it may not do."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from plans import guardrails_model
from plans.guardrails import ACKNOWLEDGE, BLOCK, check_plan, check_text
from plans.guardrails_lexicon import VOCABULARY
from plans.guardrails_text import normalise
from tests.plans.factories import document

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "bench" / "data" / "guardrails"

# Withholding the rules alone do not refuse (all from the dev set).
MODEL_REFUSES = [
    "Nurses must not ring her back.",
    "Clinicians are not to check her observations.",
    "It has been decided not to stitch his cuts.",
    "It is not appropriate to allocate a resource to her.",
]
# Good advice a rule flags and the model's good head sets aside (dev set).
MODEL_CLEARS = [
    "Avoid morphine; he has a codeine allergy.",
    "Avoid diazepam; it makes her drowsy for days.",
]


def _severities(text: str, *, use_model: bool = True) -> list[str]:
    return [f.severity for f in check_text(text, use_model=use_model)]


def test_the_shipped_model_has_three_heads_with_thresholds() -> None:
    model = guardrails_model.load()
    assert model is not None
    for head in (model.withhold, model.concern, model.good):
        assert 0.5 <= head.threshold <= 1.0
        assert len(head.weights) > 100
    assert 0.0 < model.veto_below <= 0.5


@pytest.mark.parametrize("text", MODEL_REFUSES)
def test_the_model_refuses_withholding_the_rules_miss(text: str) -> None:
    assert BLOCK not in _severities(text, use_model=False)
    findings = check_text(text, "/plan/advice_for/ambulance")
    assert [(f.severity, f.code) for f in findings] == [(BLOCK, "withholding_wording")]
    # The finding quotes the sentence as written and says what to write instead.
    assert findings[0].phrase == text
    assert "Write what usually helps" in findings[0].message


@pytest.mark.parametrize("text", MODEL_CLEARS)
def test_confident_good_advice_sets_a_rule_finding_aside(text: str) -> None:
    assert _severities(text, use_model=False)
    assert check_text(text) == []


def test_the_good_head_sets_aside_refusals_but_never_a_mandate_or_label(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A model sure that every sentence is good advice and nothing else.
    sure = guardrails_model.Model(
        withhold=guardrails_model.Head({"bias": -20.0}, 0.8),
        concern=guardrails_model.Head({"bias": -20.0}, 0.8),
        good=guardrails_model.Head({"bias": 20.0}, 0.8),
        veto_below=0.1,
    )
    monkeypatch.setattr(guardrails_model, "load", lambda *args: sure)
    assert BLOCK in _severities("Do not convey him.", use_model=False)
    assert check_text("Do not convey him.") == []
    # A coercive order or a label stays held for the lead clinician.
    for text in ("Lock the door so he cannot leave the room.", "Attention seeker."):
        assert ACKNOWLEDGE in _severities(text, use_model=False), text
        assert ACKNOWLEDGE in _severities(text), text


def test_the_model_reads_disguised_letters_after_normalising() -> None:
    text = "Nurses must n\u043et r\u0456ng her back."  # Cyrillic о and і
    assert BLOCK in _severities(text)


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("Do not convey him.", True),
        ("Decline his requests for pain relief.", True),
        ("Attend only if he is injured.", True),
        ("Crews should convey him to the emergency department.", False),
        ("He is a keen gardener.", False),
    ],
)
def test_only_a_sentence_with_a_withholding_word_can_be_refused_by_the_model(
    text: str, cue: bool
) -> None:
    names = guardrails_model.features(normalise(text, VOCABULARY).text)
    assert guardrails_model.withholding_cue(names) is cue


def test_a_plan_is_refused_on_the_model_and_names_the_field() -> None:
    doc = document(advice_for={"ambulance": "Nurses must not ring her back."})
    findings = check_plan(doc)
    assert [(f.severity, f.pointer, f.code) for f in findings] == [
        (BLOCK, "/plan/advice_for/ambulance", "withholding_wording")
    ]


def test_a_label_the_rules_miss_is_held_for_acknowledgement() -> None:
    text = "He is an inadequate personality."
    findings = check_text(text, "/plan/summary")
    assert ACKNOWLEDGE in [f.severity for f in findings]
    assert BLOCK not in [f.severity for f in findings]


@pytest.mark.parametrize(
    "text", ["Second plan.", "Third plan.", "Safety plan.", "Care plan reviewed."]
)
def test_a_fragment_with_nothing_to_order_or_label_with_is_not_held(
    text: str,
) -> None:
    """The model scored "Second plan." as an order from its last word alone."""
    assert check_text(text, "/plan/summary") == []


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("second plan.", False),
        ("he's just a drunk.", True),
        ("consider pressing charges.", True),
        ("responders must follow it.", True),
    ],
)
def test_only_a_sentence_with_an_order_threat_or_label_word_can_be_held(
    text: str, cue: bool
) -> None:
    assert guardrails_model.concern_cue(text) is cue


def test_without_the_weights_the_rules_still_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(guardrails_model, "load", lambda *args: None)
    assert check_text("Nurses must not ring her back.") == []
    assert BLOCK in _severities("Do not convey him.")


def test_no_held_out_sentence_is_in_the_training_material() -> None:
    spec = importlib.util.spec_from_file_location(
        "guardrail_train", ROOT / "bench" / "guardrail_train.py"
    )
    assert spec is not None and spec.loader is not None
    train = importlib.util.module_from_spec(spec)
    # Its dataclasses look their module up by name while it loads.
    sys.modules.setdefault("guardrail_train", train)
    spec.loader.exec_module(train)
    trained = {text.lower() for _, _, text in train._load()}
    assert len(trained) > 2500
    assert set(train.TRAINING_SPLITS).isdisjoint(train.HELD_OUT_SPLITS)
    for split in train.HELD_OUT_SPLITS:
        for line in (DATA / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                assert json.loads(line)["text"].lower() not in trained, split
