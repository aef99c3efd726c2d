"""CPU time of `plans.search.search()` per kind of query, before and after, in one run.

    .venv/bin/python bench/search_cpu.py --plans 100000 --before 03a027b

Builds (or reuses) a SQLite database of `responder.demo` plans in --workdir, loaded
directly as bench/search_speed.py does, then times `search()` in process for
the query mix of bench/search_speed.py plus the kinds of issue 14 (home
address, postcode, behaviour with a town, a name with the responder's area).
With --before REV the same queries run, in a child process on the same
database, against the search code of that git revision (its `plans/` tree,
exported with `git archive`), so both columns share one machine and one load.
CPU time (`time.process_time`) is reported because this machine is shared.
`--before-url` gives the before revision its own database (one built by its own
code, since the search row's contents change), and `--repeat N` runs every query
N times and keeps its least CPU time, which other processes can only inflate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 23)
SEED = 20261123
BAR_P50_MS = 10.0
BAR_P95_MS = 25.0


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the value at a fraction of the sorted values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def make_queries(
    documents: Sequence[dict[str, Any]], count: int
) -> list[dict[str, Any]]:
    """Return the search_speed mix plus the issue's new kinds."""
    sys.path.insert(0, str(ROOT))
    from bench.search_speed import make_queries as speed_queries

    queries = speed_queries(documents, count, SEED)
    rnd = random.Random(SEED + 1)
    for _ in range(count // 4):
        doc = rnd.choice(documents)
        person, plan = doc["person"], doc["plan"]
        address = person.get("address") or {}
        street, _, town = str(address.get("address", "1 High Street, Leeds")).partition(
            ", "
        )
        behaviour = rnd.choice(plan.get("behaviours") or [{"description": "jump"}])
        words = [w for w in behaviour["description"].split() if len(w) > 3][:2]
        queries += [
            {"kind": "address", "q": street},
            {"kind": "postcode", "q": address.get("postcode") or "AB10"},
            {"kind": "behaviour_town", "q": f"{' '.join(words)} {town}"},
            {
                "kind": "name_area",
                "q": person["family_name"],
                "area": [address.get("lat", 51.5), address.get("lon", -0.1)],
            },
        ]
    return queries


def measure(
    url: str, queries: Sequence[dict[str, Any]], repeat: int = 1
) -> dict[str, Any]:
    """Time search() per query; return CPU p50/p95 per kind and overall (ms).

    With `repeat` > 1 every query runs that many times (whole passes, so the
    repeats are spread over the run) and keeps its least CPU time: on a shared
    machine other processes only ever add to a query's time.
    """
    from plans.db import make_engine, make_session_factory
    from plans.search import search

    takes_area = "area" in inspect.signature(search).parameters
    engine = make_engine(url)
    least: dict[int, float] = {}
    with make_session_factory(engine)() as session:
        passes = [list(enumerate(queries[:30]))] + [list(enumerate(queries))] * repeat
        for number, batch in enumerate(passes):
            for index, query in batch:
                extra: dict[str, Any] = {}
                if query.get("area"):
                    if not takes_area:
                        continue
                    extra["area"] = tuple(query["area"])
                started = time.process_time()
                search(
                    session,
                    query["q"],
                    lat=query.get("lat"),
                    lon=query.get("lon"),
                    today=TODAY,
                    **extra,
                )
                spent = (time.process_time() - started) * 1000
                if number:
                    least[index] = min(spent, least.get(index, spent))
                session.rollback()
    engine.dispose()
    cpu: dict[str, list[float]] = defaultdict(list)
    for index, spent in least.items():
        cpu[queries[index]["kind"]].append(spent)
    every = [value for values in cpu.values() for value in values]
    rows = {kind: values for kind, values in cpu.items()} | {"ALL": every}
    return {
        kind: {
            "n": len(values),
            "p50": round(percentile(values, 0.5), 1),
            "p95": round(percentile(values, 0.95), 1),
        }
        for kind, values in rows.items()
    }


def _child(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(args.code))
    queries = json.loads(Path(args.queries_file).read_text())
    print(json.dumps(measure(args.url, queries, args.repeat)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Measure after (and before); return 1 when after misses the CPU bar."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--before", help="git revision to measure beside this tree")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--url", help="use this database instead of building one")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per query, least CPU kept"
    )
    parser.add_argument("--before-url", help="the before revision's database")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--queries-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args)

    sys.path.insert(0, str(ROOT))
    from bench.search_speed import _load_direct
    from responder.demo import generate_documents

    documents = list(generate_documents(args.plans, seed=SEED, today=TODAY))
    url = args.url
    if url is None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        path = args.workdir / f"search_cpu_{args.plans}.db"
        url = f"sqlite:///{path}"
        if not path.exists():
            print(f"loading {args.plans} plans into {path}", flush=True)
            _load_direct(url, documents)
    queries = make_queries(documents, args.queries)
    results = {"after": measure(url, queries, args.repeat)}
    if args.before:
        with tempfile.TemporaryDirectory() as tree:
            archive = subprocess.run(
                ["git", "archive", args.before, "plans"],
                cwd=ROOT,
                capture_output=True,
                check=True,
            )
            subprocess.run(["tar", "-x", "-C", tree], input=archive.stdout, check=True)
            queries_file = Path(tree) / "queries.json"
            queries_file.write_text(json.dumps(queries))
            child = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    "--code",
                    tree,
                    "--url",
                    args.before_url or url,
                    "--repeat",
                    str(args.repeat),
                    "--queries-file",
                    str(queries_file),
                ],
                capture_output=True,
                text=True,
                check=True,
                env=dict(os.environ, PYTHONPATH=tree),
            )
            results["before"] = json.loads(child.stdout.strip().splitlines()[-1])
    load = os.getloadavg()
    print(
        f"{args.plans} plans, {len(queries)} queries, {url.split(':', 1)[0]}, "
        "search() CPU ms; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    names = [name for name in ("before", "after") if name in results]
    print(
        f"{'kind':<18}" + "".join(f" {n + ' p50':>12} {n + ' p95':>12}" for n in names)
    )
    kinds = sorted(results["after"], key=lambda kind: (kind == "ALL", kind))
    for kind in kinds:
        line = f"{kind:<18}"
        for name in names:
            row = results[name].get(kind)
            line += (
                f" {row['p50']:>12} {row['p95']:>12}"
                if row
                else f" {'-':>12} {'-':>12}"
            )
        print(line)
    after = results["after"]["ALL"]
    passed = after["p50"] <= BAR_P50_MS and after["p95"] <= BAR_P95_MS
    print(
        f"after {'meets' if passed else 'MISSES'} the bar "
        f"(p50 <= {BAR_P50_MS} ms, p95 <= {BAR_P95_MS} ms CPU)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
