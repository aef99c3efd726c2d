"""Train the guardrails' small model on the development set only, and check it.

    .venv/bin/python bench/guardrail_train.py [--folds 5] [--write]

Reads `bench/data/guardrails/dev.jsonl` (never a held-out split), turns each
sentence into the features of `plans.guardrails_model`, and fits two logistic
regressions (withhold; mandate/sanction/stigma) by AdaGrad with L2, in pure
Python. With `--folds K` it first runs K-fold cross-validation on dev and prints,
for each candidate threshold, what the rules OR the model would score on the
held-out folds; the thresholds written are the lowest that keep good advice
flagged *by the model* (beyond what the rules already flag) at most
`--max-false-positive` (default 1 %) in cross-validation. `--write` saves `plans/guardrails_model.json` (weights rounded,
near-zero ones dropped).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plans.guardrails import BLOCK, check_text  # noqa: E402
from plans.guardrails_lexicon import VOCABULARY  # noqa: E402
from plans.guardrails_model import MODEL_PATH, features  # noqa: E402
from plans.guardrails_text import normalise  # noqa: E402

DEV = ROOT / "bench" / "data" / "guardrails" / "dev.jsonl"
CONCERN = ("mandate", "sanction", "stigma")
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.98, 0.99)


def _load() -> list[tuple[str, str]]:
    rows = []
    for line in DEV.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows.append((row["kind"], row["text"]))
    return rows


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


def _heads(rows: Sequence[tuple[str, str, list[str]]]) -> tuple[dict, dict]:
    samples = [names for _, _, names in rows]
    withhold = fit(samples, [int(kind == "withhold") for kind, _, _ in rows])
    concern = fit(samples, [int(kind in CONCERN) for kind, _, _ in rows])
    return withhold, concern


def cross_validate(
    rows: list[tuple[str, str, list[str]]], folds: int, rules: dict[str, list[str]]
) -> list[tuple[str, float, float, float, float, float, float]]:
    """Return (label, thresholds, withhold blocked, concern flagged, good flagged,
    good flagged by the model alone) for each pair of thresholds."""
    rng = random.Random(20261203)
    order = list(range(len(rows)))
    rng.shuffle(order)
    scored: list[tuple[str, list[str], float, float]] = []
    for fold in range(folds):
        test = set(order[fold::folds])
        train = [rows[i] for i in range(len(rows)) if i not in test]
        withhold, concern = _heads(train)
        for i in test:
            kind, text, names = rows[i]
            scored.append(
                (
                    kind,
                    rules[text],
                    _probability(withhold, names),
                    _probability(concern, names),
                )
            )
    table = []
    for tw in THRESHOLDS:
        for tc in THRESHOLDS:
            totals = {"withhold": 0, "concern": 0, "good": 0}
            hits = dict.fromkeys(totals, 0)
            added = 0  # good advice flagged by the model and not by the rules
            for kind, severities, pw, pc in scored:
                blocked = BLOCK in severities or pw >= tw
                flagged = bool(severities) or blocked or pc >= tc
                group = "concern" if kind in CONCERN else kind
                totals[group] += 1
                hits[group] += blocked if group == "withhold" else flagged
                added += group == "good" and flagged and not severities
            table.append(
                (
                    f"{tw:.2f}/{tc:.2f}",
                    tw,
                    tc,
                    hits["withhold"] / totals["withhold"],
                    hits["concern"] / totals["concern"],
                    hits["good"] / totals["good"],
                    added / totals["good"],
                )
            )
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """Cross-validate, choose thresholds, and write the weights."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--max-false-positive", type=float, default=0.01)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--min-weight", type=float, default=0.01)
    args = parser.parse_args(argv)
    rows = [
        (kind, text, features(normalise(text, VOCABULARY).text))
        for kind, text in _load()
    ]
    rules = {
        text: [f.severity for f in check_text(text, use_model=False)]
        for _, text, _ in rows
    }
    threshold_w, threshold_c = 0.9, 0.9
    if args.folds > 1:
        table = cross_validate(rows, args.folds, rules)
        print(
            "thresholds w/c   withhold blocked  concern flagged  good flagged"
            "  (by the model alone)"
        )
        for label, _, _, w, c, g, a in table:
            print(f"  {label}      {w:7.1%}          {c:7.1%}        {g:6.1%}  ({a:.1%})")
        fitting = [row for row in table if row[6] <= args.max_false_positive]
        if fitting:
            best = max(fitting, key=lambda row: (row[3] + row[4], -row[1], -row[2]))
            threshold_w, threshold_c = best[1], best[2]
        print(f"chosen thresholds: withhold {threshold_w}, concern {threshold_c}")
    withhold, concern = _heads(rows)
    if args.write:
        model = {
            "trained_on": "bench/data/guardrails/dev.jsonl",
            "sentences": len(rows),
            "withhold": {
                "threshold": threshold_w,
                "weights": {
                    k: round(v, 4)
                    for k, v in sorted(withhold.items())
                    if abs(v) >= args.min_weight
                },
            },
            "concern": {
                "threshold": threshold_c,
                "weights": {
                    k: round(v, 4)
                    for k, v in sorted(concern.items())
                    if abs(v) >= args.min_weight
                },
            },
        }
        MODEL_PATH.write_text(
            json.dumps(model, separators=(",", ":"), sort_keys=True) + "\n",
            encoding="utf-8",
        )
        print(
            f"wrote {MODEL_PATH.relative_to(ROOT)}: "
            f"{len(model['withhold']['weights'])} + "
            f"{len(model['concern']['weights'])} weights, "
            f"{MODEL_PATH.stat().st_size / 1024:.0f} KiB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
