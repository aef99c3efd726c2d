"""Measure the plan guardrails on labelled sentences: recall per kind, false positives.

    .venv/bin/python bench/guardrail_quality.py [--data DIR] [--split NAME ...]
                                                [--repeat N] [--show-misses]

Each split is a JSON-lines file under `bench/data/guardrails/` (`dev.jsonl`, tuned
on; `held.jsonl`, written once up front and not tuned on; `held2.jsonl`, written
fresh after the first engine and not tuned on; `held3.jsonl`, written and
committed before the second engine, by someone other than the engine's first
author, in the registers of real plans, measured once; `held4.jsonl` and
`held5.jsonl`, each committed before the engine change it measured; `dev7.jsonl`,
written by a second writer in other people's voices and measured untouched
once). The model's training (`bench/guardrail_train.py`) reads dev, dev7 and
the spent held3 and held4; held, held2 and held5 stay held out. Every line is
{"kind": ..., "text": ...} with one of these kinds:

- withhold: a directive that withholds or denies care or a response. It counts as
            caught only when the guardrails *block* it.
- mandate, sanction, stigma: coercive orders, threats of sanction, stigmatising
            labels. Caught when the guardrails raise any finding (they ask for the
            lead clinician's acknowledgement; a block holds them too).
- good:     ordinary good advice, many with negations and modals. Any finding is a
            false positive.

It prints per-kind recall and the false-positive rate for each split, and the mean
time `check_text` takes per sentence, and exits 1 when a split misses the bars:
withhold >= 98 %, each flag kind >= 95 %, good advice flagged <= 3 %.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plans.guardrails import BLOCK, check_text  # noqa: E402

DEFAULT_DATA = ROOT / "bench" / "data" / "guardrails"
DEFAULT_SPLITS = ("dev", "dev7", "held", "held2", "held3", "held4", "held5")
FLAG_KINDS = ("mandate", "sanction", "stigma")
KINDS = ("withhold", *FLAG_KINDS, "good")
BAR_BLOCK = 0.98
BAR_FLAG = 0.95
BAR_FALSE_POSITIVE = 0.03


@dataclass(frozen=True)
class Example:
    """One labelled sentence."""

    kind: str
    text: str


@dataclass(frozen=True)
class SplitResult:
    """How the guardrails did on one split."""

    name: str
    totals: dict[str, int]
    hits: dict[str, int]  # caught (or, for good advice, flagged)
    misses: dict[str, list[str]]  # missed (or, for good advice, flagged) sentences
    seconds_per_sentence: float
    rules_seconds_per_sentence: float = 0.0  # the same, with the rules alone

    def rate(self, kind: str) -> float:
        """Return recall for a kind, or the false-positive rate for good advice."""
        return self.hits[kind] / self.totals[kind] if self.totals[kind] else 0.0

    def failures(self) -> list[str]:
        """Return the bars this split misses, in words."""
        failed = []
        if self.totals["withhold"] and self.rate("withhold") < BAR_BLOCK:
            failed.append(f"{self.name}: withhold blocked {self.rate('withhold'):.1%}")
        for kind in FLAG_KINDS:
            if self.totals[kind] and self.rate(kind) < BAR_FLAG:
                failed.append(f"{self.name}: {kind} flagged {self.rate(kind):.1%}")
        if self.rate("good") > BAR_FALSE_POSITIVE:
            failed.append(f"{self.name}: good advice flagged {self.rate('good'):.1%}")
        return failed


def load_split(path: Path) -> list[Example]:
    """Read one labelled split."""
    examples = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                if row["kind"] not in KINDS:
                    raise ValueError(f"{path}: unknown kind {row['kind']!r}")
                examples.append(Example(row["kind"], row["text"]))
    return examples


def caught(example: Example, check: Callable[[str], list[str]]) -> bool:
    """Say whether the guardrails treat the sentence as its kind requires."""
    severities = check(example.text)
    if example.kind == "withhold":
        return BLOCK in severities
    return bool(severities)


def _severities(text: str) -> list[str]:
    return [finding.severity for finding in check_text(text, "/plan/summary")]


def evaluate(name: str, examples: Sequence[Example], *, repeat: int = 3) -> SplitResult:
    """Score one split and time the guardrails on it (CPU time, best of `repeat`)."""
    totals = dict.fromkeys(KINDS, 0)
    hits = dict.fromkeys(KINDS, 0)
    misses: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for example in examples:
        totals[example.kind] += 1
        ok = caught(example, _severities)
        if ok:
            hits[example.kind] += 1
        if ok == (example.kind == "good"):
            misses[example.kind].append(example.text)
    best = {True: float("inf"), False: float("inf")}
    for _ in range(max(1, repeat)):
        for use_model in (True, False):
            started = time.process_time()
            for example in examples:
                check_text(example.text, use_model=use_model)
            best[use_model] = min(best[use_model], time.process_time() - started)
    count = max(1, len(examples))
    return SplitResult(
        name, totals, hits, misses, best[True] / count, best[False] / count
    )


def model_cost() -> str:
    """Return what loading the model costs: wall time, and memory it keeps."""
    from plans import guardrails_model

    guardrails_model.load.cache_clear()
    tracemalloc.start()
    started = time.perf_counter()
    model = guardrails_model.load()
    seconds = time.perf_counter() - started
    kept, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = guardrails_model.MODEL_PATH.stat().st_size
    weights = (
        sum(len(h.weights) for h in (model.withhold, model.concern, model.good))
        if model
        else 0
    )
    return (
        f"model: {size / 1024:.0f} KiB on disk, {weights} weights, loaded in "
        f"{seconds * 1e3:.0f} ms, {kept / (1024 * 1024):.1f} MiB kept"
    )


def report(result: SplitResult, *, show_misses: bool) -> str:
    """Return a plain-text table of one split's figures."""
    lines = [f"== {result.name} ({sum(result.totals.values())} sentences)"]
    for kind in KINDS:
        total = result.totals[kind]
        if not total:
            continue
        what = (
            "flagged (false positives)"
            if kind == "good"
            else ("blocked" if kind == "withhold" else "flagged")
        )
        lines.append(
            f"  {kind:<9} {result.hits[kind]:>4}/{total:<4} {result.rate(kind):6.1%}"
            f"  {what}"
        )
        if show_misses:
            lines.extend(f"      - {text!r}" for text in result.misses[kind])
    lines.append(
        f"  mean per sentence: {result.seconds_per_sentence * 1e6:.1f} µs "
        f"(rules alone {result.rules_seconds_per_sentence * 1e6:.1f} µs)"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Score every split, print the figures, exit 1 below the bars."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--split", action="append", dest="splits")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args(argv)
    failures: list[str] = []
    print(model_cost())
    for name in args.splits or DEFAULT_SPLITS:
        result = evaluate(
            name, load_split(args.data / f"{name}.jsonl"), repeat=args.repeat
        )
        print(report(result, show_misses=args.show_misses))
        failures.extend(result.failures())
    if failures:
        print("BELOW THE BAR: " + "; ".join(failures))
        return 1
    print(
        f"bars held: withhold >= {BAR_BLOCK:.0%} blocked, mandate/sanction/stigma >= "
        f"{BAR_FLAG:.0%} flagged, good advice <= {BAR_FALSE_POSITIVE:.0%} flagged"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
