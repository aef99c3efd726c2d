"""Train the guardrails' small model on the development set only, and check it.

    .venv/bin/python bench/guardrail_train.py [--folds 5] [--write]

Reads `bench/data/guardrails/dev.jsonl` (never a held-out split), turns each
sentence into the features of `plans.guardrails_model`, and fits two logistic
regressions (withhold; mandate/sanction/stigma; good) by AdaGrad with L2, in pure
Python. With `--folds K` it first runs K-fold cross-validation on dev and scores,
for each choice of thresholds, the whole engine (rules, model findings, the good
head's veto) on the held-out folds; it keeps the choice that blocks the most
withholding, then flags the most, while good advice flagged stays at most
`--max-false-positive` (default 3 %, the issue's bar). `--write` saves
`plans/data/guardrails_model.json` (weights rounded, near-zero ones dropped).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plans.guardrails import BLOCK, check_text  # noqa: E402
from plans.guardrails_lexicon import VOCABULARY  # noqa: E402
from plans.guardrails_model import (  # noqa: E402
    MODEL_PATH,
    features,
    withholding_cue,
)
from plans.guardrails_text import normalise  # noqa: E402

DEV = ROOT / "bench" / "data" / "guardrails" / "dev.jsonl"
CONCERN = ("mandate", "sanction", "stigma")
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99)
GOOD_THRESHOLDS = (0.8, 0.9, 0.95, 0.98)
VETO_BELOW = 0.1  # the good head vetoes only when the other two are this unsure
HEADS = ("withhold", "concern", "good")


def _load() -> list[tuple[str, str]]:
    rows = []
    for line in DEV.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows.append((row["kind"], row["text"]))
    return rows


def _extra() -> list[tuple[str, str]]:
    """Return the other development material: the guardrail test tables and the
    sentences of synthetic demo plans (a different seed from the test's), as
    good advice, so the model knows the register of a whole plan."""
    from plans.guardrails import free_text_fields
    from responder.demo import generate_documents
    from tests.plans import test_guardrails as tables
    from tests.plans import test_guardrails_generalise as tricks

    rows = [("withhold", text) for text in tables.CARE_WITHHOLDING]
    rows += [("withhold", text) for text in tricks.WITHHOLDING]
    rows += [("good", text) for text in tables.SUPPORTIVE + tables.NEUTRAL]
    rows += [("good", text) for text in tricks.GOOD_ADVICE]
    rows += [("stigma", text) for text, _ in tables.SANCTION_OR_STIGMA]
    rows += [("mandate", text) for text in tricks.FLAGGED]
    seen: set[str] = set()
    for doc in generate_documents(200, seed=20261203):
        for _, text in free_text_fields(doc):
            for sentence in re.split(r"(?<=[.!?])\s+|\n", text):
                if sentence.strip() and sentence not in seen:
                    seen.add(sentence)
                    rows.append(("good", sentence.strip()))
    return [(kind, text) for kind, text in rows if isinstance(text, str)]


def fit(
    samples: Sequence[list[str]],
    labels: Sequence[int],
    *,
    epochs: int = 20,
    rate: float = 0.3,
    l2: float = 3e-3,
    seed: int = 13,
) -> dict[str, float]:
    """Fit one logistic regression by AdaGrad; classes weighted to balance."""
    weights: dict[str, float] = {}
    squares: dict[str, float] = {}
    positives = sum(labels) or 1
    negatives = (len(labels) - sum(labels)) or 1
    balance = {1: len(labels) / (2 * positives), 0: len(labels) / (2 * negatives)}
    order = list(range(len(samples)))
    rng = random.Random(seed)
    for _ in range(epochs):
        rng.shuffle(order)
        for index in order:
            names = samples[index]
            score = sum(weights.get(name, 0.0) for name in names)
            score = max(-30.0, min(30.0, score))
            probability = 1.0 / (1.0 + math.exp(-score))
            error = (probability - labels[index]) * balance[labels[index]]
            for name in names:
                w = weights.get(name, 0.0)
                grad = error + l2 * w
                squares[name] = squares.get(name, 0.0) + grad * grad
                weights[name] = w - rate * grad / math.sqrt(squares[name] + 1e-8)
    return weights


def _probability(weights: dict[str, float], names: list[str]) -> float:
    score = max(-30.0, min(30.0, sum(weights.get(n, 0.0) for n in names)))
    return 1.0 / (1.0 + math.exp(-score))


def _heads(rows: Sequence[tuple[str, str, list[str]]]) -> dict[str, dict[str, float]]:
    samples = [names for _, _, names in rows]
    return {
        "withhold": fit(samples, [int(kind == "withhold") for kind, _, _ in rows]),
        "concern": fit(samples, [int(kind in CONCERN) for kind, _, _ in rows]),
        "good": fit(samples, [int(kind == "good") for kind, _, _ in rows]),
    }


@dataclass(frozen=True)
class Setting:
    """One choice of thresholds, and what it scored in cross-validation."""

    withhold: float
    concern: float
    good: float  # 1.01: the good head never vetoes
    withhold_blocked: float
    concern_flagged: float
    good_flagged: float


def cross_validate(
    rows: list[tuple[str, str, list[str]]],
    folds: int,
    rules: dict[str, list[str]],
    extra: list[tuple[str, str, list[str]]],
) -> list[Setting]:
    """Score every choice of thresholds on held-out folds of dev, rules included
    (the extra material always trains, never scores)."""
    rng = random.Random(20261203)
    order = list(range(len(rows)))
    rng.shuffle(order)
    scored: list[tuple[str, list[str], float, float, float, bool]] = []
    for fold in range(folds):
        test = set(order[fold::folds])
        heads = _heads([rows[i] for i in range(len(rows)) if i not in test] + extra)
        for i in test:
            kind, text, names = rows[i]
            probabilities = (_probability(heads[h], names) for h in HEADS)
            scored.append((kind, rules[text], *probabilities, withholding_cue(names)))
    table = []
    for tw in THRESHOLDS:
        for tc in THRESHOLDS:
            for tg in (*GOOD_THRESHOLDS, 1.01):
                totals = {"withhold": 0, "concern": 0, "good": 0}
                hits = dict.fromkeys(totals, 0)
                for kind, severities, pw, pc, pg, cue in scored:
                    if pg >= tg and max(pw, pc) < VETO_BELOW and severities:
                        # The veto sets aside refusals only, never a flag.
                        severities = [s for s in severities if s != BLOCK]
                    blocked = BLOCK in severities or (pw >= tw and cue)
                    flagged = bool(severities) or blocked or pc >= tc
                    group = "concern" if kind in CONCERN else kind
                    totals[group] += 1
                    hits[group] += blocked if group == "withhold" else flagged
                table.append(
                    Setting(
                        tw,
                        tc,
                        tg,
                        *(hits[g] / totals[g] for g in ("withhold", "concern", "good")),
                    )
                )
    return table


def _line(s: Setting) -> str:
    good = "never" if s.good > 1 else f"{s.good:.2f}"
    return (
        f"  {s.withhold:.2f} / {s.concern:.2f} / {good}: {s.withhold_blocked:6.1%}"
        f" {s.concern_flagged:6.1%} {s.good_flagged:6.1%}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Cross-validate, choose thresholds, and write the weights."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--max-false-positive", type=float, default=0.03)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--min-weight", type=float, default=0.01)
    args = parser.parse_args(argv)
    rows = [
        (kind, text, features(normalise(text, VOCABULARY).text))
        for kind, text in _load()
    ]
    extra = [
        (kind, text, features(normalise(text, VOCABULARY).text))
        for kind, text in _extra()
    ]
    rules = {
        text: [f.severity for f in check_text(text, use_model=False)]
        for _, text, _ in rows
    }
    chosen = Setting(0.9, 0.9, 0.95, 0.0, 0.0, 0.0)
    if args.folds > 1:
        table = cross_validate(rows, args.folds, rules, extra)
        fitting = [s for s in table if s.good_flagged <= args.max_false_positive]
        print("withhold / concern / good thresholds: blocked, flagged, good flagged")
        for s in sorted(table, key=lambda s: -s.withhold_blocked)[:12]:
            print(_line(s))
        if fitting:
            # Withholding first (the bar that refuses), then the flags, then
            # the most conservative thresholds among equals.
            chosen = max(
                fitting,
                key=lambda s: (
                    round(s.withhold_blocked, 3),
                    round(s.concern_flagged, 3),
                    s.withhold,
                    s.concern,
                    s.good,
                ),
            )
        print("chosen: " + _line(chosen))
    heads = _heads(rows + extra)
    if args.write:
        thresholds = {
            "withhold": chosen.withhold,
            "concern": chosen.concern,
            "good": chosen.good,
        }
        model = {
            "trained_on": "bench/data/guardrails/dev.jsonl",
            "sentences": len(rows) + len(extra),
            "veto_below": VETO_BELOW,
            **{
                head: {
                    "threshold": thresholds[head],
                    "weights": {
                        k: round(v, 4)
                        for k, v in sorted(heads[head].items())
                        if abs(v) >= args.min_weight
                    },
                }
                for head in HEADS
            },
        }
        MODEL_PATH.write_text(
            json.dumps(model, separators=(",", ":"), sort_keys=True) + "\n",
            encoding="utf-8",
        )
        print(
            f"wrote {MODEL_PATH.relative_to(ROOT)}: "
            + " + ".join(str(len(model[h]["weights"])) for h in HEADS)  # type: ignore[index]
            + f" weights, {MODEL_PATH.stat().st_size / 1024:.0f} KiB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
