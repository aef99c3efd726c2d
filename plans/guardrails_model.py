"""A small logistic reading of plan sentences, beside the guardrail rules.

The rules in `plans.guardrails` read structure they were written for; every fresh
held-out set found phrasings they did not know. This model reads a sentence as a
bag of features that generalise beyond one phrase: word stems and stem pairs
(read after `plans.guardrails_text` has folded disguised letters, so "c0nveying"
is "convey"), and the *classes* of words in order (a negator, then a care action
within a few words; a negator, then a safety word such as "alone" or "restrain").
The classes come from `plans.guardrails_lexicon`, so a care verb added there is
read by both.

Three heads, each a logistic regression trained on the development set only
(`bench/guardrail_train.py`, pure Python): *withhold* (the sentence withholds
care or a response), *concern* (a mandate, a threat of sanction or a
stigmatising label) and *good* (ordinary advice; when it is confident and the
other two are not, a refusal the rules found in that sentence is set aside;
a mandate, threat or label the rules found is kept). The weights
ship as `plans/data/guardrails_model.json`; nothing is fetched at runtime. The
thresholds, chosen by cross-validation on dev, are in the JSON too;
`plans.guardrails` ORs the model with its rules.

Pure: the weights are read once from the package directory; no other IO.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from plans import guardrails_lexicon as lexicon

MODEL_PATH = Path(__file__).parent / "data" / "guardrails_model.json"

_WORD = re.compile(r"[a-z0-9]+(?:[&'-][a-z0-9]+)*")

_NEGATORS = frozenset(
    {"not", "never", "no", "nobody", "none", "nothing", "neither", "nor",
     "without", "cannot", "nowhere", "unnecessary", "needless",
     "pointless", "inappropriate", "unsuitable", "ineligible"}
)  # fmt: skip
_WITHHOLDERS = frozenset(
    {"avoid", "refrain", "decline", "refuse", "withhold", "deny", "ignore",
     "disregard", "stop", "cease", "bar", "ban", "barred", "banned", "exclude",
     "turn", "leave", "hang", "cancel", "screen", "withdraw", "discharge",
     "close", "stand", "waste", "bother", "point", "discourage", "dissuade",
     "downgrade", "deprioritise", "deprioritize", "delay", "redirect", "block",
     "terminate", "limit", "limited", "restrict", "maximum", "rather", "instead",
     "queue", "wait"}
)  # fmt: skip
_SAFETY = frozenset(
    {"alone", "own", "unattended", "himself", "herself", "themselves", "restrain",
     "restraint", "handcuff", "handcuffs", "cuff", "shout", "argue", "rush",
     "hesitate", "delay", "siren", "sirens", "crowd", "judge", "assume", "touch",
     "promise", "promises", "mock", "threaten", "label", "labels", "uniform",
     "allergic", "allergy", "cell", "van", "sedate", "search", "raise", "voice",
     "wait", "waiting", "corridor", "lights"}
)  # fmt: skip
_MODALS = frozenset(
    {"should", "must", "shall", "will", "ought", "need", "needs", "may", "can",
     "is", "are", "be", "to", "required", "expected", "asked", "advised"}
)  # fmt: skip
_CONDITIONS = frozenset({"if", "unless", "only", "until", "when", "whenever"})
_PERSON = frozenset({"he", "she", "him", "her", "his", "they", "them", "their"})


def _care_words() -> frozenset[str]:
    words = set(lexicon.CARE_NOUNS) | set(lexicon.CARE_PLACES)
    words |= set(lexicon.SERVICES) | set(lexicon.CALLS)
    for form, lemma in lexicon.FORMS.items():
        if lemma in lexicon.CARE_VERBS:
            words.add(form)
    return frozenset(words)


_CARE = _care_words()
_COERCE = frozenset(
    {form for form, lemma in lexicon.FORMS.items() if lemma in lexicon.COERCIVE_VERBS}
    | lexicon.COERCIVE_NOUNS
    | lexicon.CUSTODY_PLACES
)


def _stem(word: str) -> str:
    """Fold an inflection to a rough stem: lemma when known, else strip a suffix."""
    lemma = lexicon.FORMS.get(word)
    if lemma:
        return lemma
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _word_class(word: str) -> str:
    if word in _NEGATORS or word.endswith("n't"):
        return "NEG"
    if word in _SAFETY:
        return "SAFE"
    if word in _CARE:
        return "CARE"
    if word in _COERCE:
        return "COERCE"
    if word in _WITHHOLDERS or lexicon.FORMS.get(word) in _WITHHOLDERS:
        return "WOP"
    if word in _CONDITIONS:
        return "COND"
    if word in _MODALS:
        return "MOD"
    if word in _PERSON:
        return "P"
    return "w"


def features(text: str) -> list[str]:
    """Return the feature names of one normalised sentence (lower case)."""
    words = _WORD.findall(text)
    stems = [_stem(word) for word in words]
    classes = [_word_class(word) for word in words]
    found = ["bias"]
    found += ["w:" + stem for stem in stems]
    padded = ["<s>", *stems, "</s>"]
    found += [f"b:{a}_{b}" for a, b in zip(padded, padded[1:], strict=False)]
    found += [f"k:{a}_{b}" for a, b in zip(classes, classes[1:], strict=False)]
    found += [
        f"k3:{a}_{b}_{c}"
        for a, b, c in zip(classes, classes[1:], classes[2:], strict=False)
    ]
    # A negator or a withholding verb and what it governs, a few words on.
    for i, cls in enumerate(classes):
        if cls in ("NEG", "WOP", "COND"):
            for j in range(i + 1, min(len(words), i + 6)):
                if classes[j] in ("CARE", "SAFE", "COERCE", "WOP"):
                    found.append(f"g:{cls}>{classes[j]}")
                    found.append(f"gs:{cls}>{stems[j]}")
                    break
    if classes and classes[0] in ("NEG", "WOP"):
        found.append("first:" + classes[0])
    found += sorted({"has:" + cls for cls in classes if cls in ("NEG", "WOP", "COND")})
    return found


def withholding_cue(names: Iterable[str]) -> bool:
    """Say whether a sentence has a word that can withhold: a negator, a refusing
    verb ("decline", "leave", "ignore") or a condition ("only if").

    The model may refuse only such sentences: a description of the person or a
    plain instruction to help has nothing to withhold with, whatever its score.
    """
    return any(name.startswith("has:") for name in names)


_CONCERN_CUES = frozenset({"MOD", "COERCE", "NEG", "WOP", "COND", "P"})
# Words of the law and its penalties, which a threat of sanction leans on.
_SANCTION_STEMS = frozenset(
    {"charge", "prosecute", "prosecution", "arrest", "caution", "fine", "court",
     "harassment", "offence", "criminal", "crime", "sanction", "penalty", "punish",
     "consequence", "conviction", "injunction", "order", "breach", "warning"}
)  # fmt: skip


def concern_cue(sentence: str) -> bool:
    """Say whether a sentence has a word an order, a threat or a label needs: a
    modal ("must", "will"), a coercive word, a negator or refusing verb, a
    condition, the person ("he", "her's"), or a word of the law's penalties.

    The model may hold only such sentences: "Second plan." scored as an order from
    its last word alone, and a plan's headings and fragments would be held too.
    """
    for word in _WORD.findall(sentence):
        head = word.split("'")[0]  # "he's", "she'd"
        if _word_class(word) in _CONCERN_CUES or head in _PERSON:
            return True
        if _stem(word) in _SANCTION_STEMS:
            return True
    return False


@dataclass(frozen=True)
class Head:
    """One logistic regression: weights by feature name, and its threshold."""

    weights: dict[str, float]
    threshold: float

    def probability(self, names: Iterable[str]) -> float:
        """Return the probability that a sentence with these features is positive."""
        score = sum(self.weights.get(name, 0.0) for name in names)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))


@dataclass(frozen=True)
class Model:
    """The three heads, and how unsure the others must be for *good* to veto."""

    withhold: Head
    concern: Head
    good: Head
    veto_below: float


@lru_cache(maxsize=1)
def load(path: str = str(MODEL_PATH)) -> Model | None:
    """Read the shipped weights once; None when the file is absent."""
    file = Path(path)
    if not file.exists():
        return None
    data = json.loads(file.read_text(encoding="utf-8"))
    heads = {
        name: Head(
            {str(k): float(v) for k, v in data[name]["weights"].items()},
            float(data[name]["threshold"]),
        )
        for name in ("withhold", "concern", "good")
    }
    return Model(
        heads["withhold"], heads["concern"], heads["good"], float(data["veto_below"])
    )
