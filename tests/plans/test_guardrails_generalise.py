"""The guardrails hold whatever the phrasing: issue 13, tricks, the dev set."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from plans.guardrails import ACKNOWLEDGE, BLOCK, check_plan, check_text
from plans.guardrails_lexicon import VOCABULARY
from plans.guardrails_text import normalise
from tests.plans.factories import document

ROOT = Path(__file__).resolve().parents[2]

# Issue 13: each of these published with no finding.
WITHHOLDING = [
    "Staff should decline to see him.",
    "Leave him where he is.",
    "Do not give him any medication.",
    "Avoid taking him to hospital; refuse his requests for pain relief.",
    "Decline to attend unless he is injured.",
    "Do not\u200b convey.",
    "Do\u200bnot convey.",
    "Do n\u043et c\u043env\u0435y.",  # Cyrillic о and е
    "Do n0t convey.",
    "D0 n0t c0nvey.",
    # full width
    "\uff24\uff4f \uff4e\uff4f\uff54 \uff43\uff4f\uff4e\uff56\uff45\uff59.",
    "d.o n.o.t convey",
    "D O  N O T  C O N V E Y",
    "Do not\u00adconvey.",  # soft hyphen
    "Do\x00 not convey.",  # control character
    "1eave him where he is.",
    "Don\u2019t c\u043envey.",
]
FLAGGED = [
    "Police must detain her under section 136 every time.",
    "Officers must take him to custody.",
    "Responders must follow this plan.",
    "Section him every time.",
    "Use force to remove him.",
    "He must be arrested.",
    "He will be prosecuted if he calls again.",
    "Warn him he will be charged.",
    "Subject to an ASBO.",
    "A CBO is in place.",
    "An injunction applies.",
    "Attention seeker.",
    "Frequent flyer.",
    "Time waster.",
    "Very manipulative.",
    "Drunk again.",
    "Nuisance caller.",
    "A pest.",
    "Hypochondriac.",
    "Att\u0435ntion s\u0435eker.",  # Cyrillic е
]
GOOD_ADVICE = [
    "Do not leave her alone.",
    "Never refuse a request for help.",
    "Do not restrain unless necessary.",
    "Avoid raised voices.",
    "Do not argue with him.",
    "Don't use sirens.",
    "Do not delay conveyance if she has taken tablets.",
    "Don't hesitate to call an ambulance.",
    "She prefers not to go to A&E when she is not injured.",
    "If she is detained under section 136, use the place of safety, not a cell.",
    "Do not take him to a police cell; use the health-based place of safety.",
    "Don't send more than two officers.",
    "Do not give him penicillin; he is allergic.",
    "Officers do not need to handcuff him.",
    "Convey if injured or unwell.",
    "Staff must stay with her until the crisis team arrives.",
]


@pytest.mark.parametrize("text", WITHHOLDING)
def test_care_withholding_is_refused_whatever_the_phrasing(text: str) -> None:
    findings = check_text(text, "/plan/advice_for/ambulance")
    assert BLOCK in [f.severity for f in findings], findings
    # The finding quotes the words as written, not as normalised.
    assert all(f.phrase and f.phrase in text for f in findings)


@pytest.mark.parametrize("text", FLAGGED)
def test_mandates_threats_and_labels_need_acknowledgement(text: str) -> None:
    findings = check_text(text, "/plan/advice_for/police")
    assert ACKNOWLEDGE in [f.severity for f in findings], findings
    assert BLOCK not in [f.severity for f in findings]


@pytest.mark.parametrize("text", GOOD_ADVICE)
def test_good_advice_with_negations_and_modals_passes(text: str) -> None:
    assert check_text(text) == []


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Do\u200b not", "do not"),
        ("D\u043e n\u043et", "do not"),
        ("n0t c0nvey", "not convey"),
        ("\uff24\uff4f \uff2e\uff4f\uff54", "do not"),
        ("d.o n.o.t", "do not"),
        ("c o n v e y", "convey"),
        ("don't", "do not"),
        ("won\u2019t", "will not"),
        ("s136 and 999", "s136 and 999"),  # numbers are not letters
        ("e.g. i.e.", "e.g. i.e."),  # abbreviations stay
        ("M\u0443st", "must"),  # Cyrillic у read as u when that spells a word
    ],
)
def test_normalising_folds_tricks_and_keeps_offsets(text: str, folded: str) -> None:
    normalised = normalise(text, VOCABULARY)
    assert normalised.text == folded
    start, end = normalised.span(0, len(normalised.text))
    assert text[start:end] == text.strip()


def test_the_pointer_and_kind_are_named_in_a_plan() -> None:
    doc = document(advice_for={"ambulance": "Leave him where he is."})
    doc["plan"]["summary"] = "Police must detain her under section 136 every time."
    findings = check_plan(doc)
    assert [(f.severity, f.pointer, f.code) for f in findings] == [
        (BLOCK, "/plan/advice_for/ambulance", "no_attendance"),
        (ACKNOWLEDGE, "/plan/summary", "mandate_coercion"),
    ]


def _bench() -> ModuleType:
    path = ROOT / "bench" / "guardrail_quality.py"
    spec = importlib.util.spec_from_file_location("guardrail_quality", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("guardrail_quality", module)
    spec.loader.exec_module(module)
    return module


def test_the_dev_set_holds_the_bars() -> None:
    bench = _bench()
    examples = bench.load_split(ROOT / "bench" / "data" / "guardrails" / "dev.jsonl")
    assert len(examples) >= 300
    result = bench.evaluate("dev", examples, repeat=1)
    assert result.failures() == [], bench.report(result, show_misses=True)


def test_the_quick_word_scan_never_hides_a_lexical_rule() -> None:
    from plans import guardrails
    from tests.plans.test_guardrails import NEUTRAL, SANCTION_OR_STIGMA

    bench = _bench()
    texts = [
        example.text
        for split in ("dev", "held")
        for example in bench.load_split(
            ROOT / "bench" / "data" / "guardrails" / f"{split}.jsonl"
        )
    ]
    texts += FLAGGED + NEUTRAL + [text for text, _ in SANCTION_OR_STIGMA]
    for text in texts:
        plain = normalise(text, VOCABULARY).text
        if guardrails._ANY_LEXICAL.search(plain):
            assert any(stem in plain for stem in guardrails._LEXICAL_STEMS), text
