"""Cost of a FHIR bundle beside a response-plan/2 document, per plan (issue 16).

    .venv/bin/python bench/fhir_export.py [--plans N]

Generates N demo plans once, then times, side by side and interleaved so load
on the machine hits each alike: writing each as a JSON document; building its
FHIR bundle; building and checking it with fhir.resources (what the export and
the API do); and reading a bundle back into a document. Prints milliseconds per
plan and the ratio to the plain JSON document.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

from plans.exchange.fhir import bundle_for, document_from_bundle, validate_bundle
from responder.demo import generate_documents


def _timed(work: Callable[[dict[str, Any]], object], items: list[Any]) -> float:
    start = time.perf_counter()
    for item in items:
        work(item)
    return (time.perf_counter() - start) / len(items) * 1000


def main() -> None:
    """Print per-plan milliseconds of each step and its ratio to plain JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    documents = list(generate_documents(args.plans, today=dt.date(2026, 11, 23)))
    bundles = [json.loads(json.dumps(bundle_for(d))) for d in documents]
    validate_bundle(bundles[0])  # load the models once, outside the timings
    steps: dict[str, tuple[Callable[[Any], object], list[Any]]] = {
        "document as JSON": (lambda d: json.dumps(d), documents),
        "bundle built, as JSON": (lambda d: json.dumps(bundle_for(d)), documents),
        "bundle built and checked": (
            lambda d: validate_bundle(bundle_for(d)),
            documents,
        ),
        "bundle read back": (document_from_bundle, bundles),
    }
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(args.rounds):
        for name, (work, items) in steps.items():
            best[name] = min(best[name], _timed(work, items))
    base = best["document as JSON"]
    size = sum(len(json.dumps(d)) for d in documents) / len(documents)
    bundle_size = sum(len(json.dumps(b)) for b in bundles) / len(bundles)
    print(f"{args.plans} demo plans, best of {args.rounds} interleaved rounds")
    print("| step | ms per plan | x plain JSON |")
    print("| --- | --- | --- |")
    for name, value in best.items():
        print(f"| {name} | {value:.3f} | {value / base:.1f} |")
    print(f"bytes per plan: document {size:.0f}, bundle {bundle_size:.0f}")


if __name__ == "__main__":
    main()
