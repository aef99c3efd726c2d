"""Measure search quality on a query set with known answers, beside a bm25 baseline.

    .venv/bin/python bench/search_quality.py [--data DIR] [--json PATH] [--no-db]

For every query the script ranks the plans three ways and checks where the expected
person lands:

- ranker:   the pure ranker (`plans.search.rank`) over every plan in the set;
- database: the real path, `plans.search.search(session, ...)`, on a fresh SQLite
            database (and on PostgreSQL with --postgres URL) holding the same plans,
            so candidate fetching is measured too;
- baseline: SQLite FTS5 bm25 over one text column per plan (name, aliases,
            description, behaviours, crisis location names), every typed word quoted
            and joined with OR. A query with no words is answered nearest-first
            (distance to home and crisis locations); a query with words and a
            position is answered by bm25 alone, the position ignored.

It prints top-1 and top-3 overall and per kind, can write them as JSON, and exits 1
when the ranker or database path misses the bar: top-1 >= 97%, top-3 >= 99.5%,
every kind top-1 >= 90%.
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import json
import random
import sqlite3
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plans.search import candidate_from_document, parse_query, rank  # noqa: E402
from plans.search.geo import haversine_m  # noqa: E402
from plans.search.text import words  # noqa: E402

DEFAULT_DATA = Path("/work/shared/data/dev-search")
BAR_TOP1 = 0.97
BAR_TOP3 = 0.995
BAR_KIND_TOP1 = 0.90

HARD_DATA = ROOT / "bench" / "data" / "search-hard"
HARD_TOP1 = 0.95
HARD_TOP3 = 0.99
HARD_KIND_TOP1 = 0.85
NO_PLAN_STRONG = 0.02

# A ranker returns the top refs, each with its match strength.
Ranker = Callable[[dict[str, Any]], list[tuple[str, str]]]


def _area(query: dict[str, Any], function: Callable[..., Any]) -> dict[str, Any]:
    """Return the `area` keyword for a query, if the function takes one.

    Older search code (measured for "before" figures) has no area parameter.
    """
    if query.get("area_lat") is None:
        return {}
    if "area" not in inspect.signature(function).parameters:
        return {}
    return {"area": (query["area_lat"], query["area_lon"])}


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read one JSON object a line."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def pure_ranker(documents: Sequence[dict[str, Any]], today: dt.date) -> Ranker:
    """Return a function ranking every plan with the pure ranker."""
    candidates = [candidate_from_document(doc) for doc in documents]

    def run(query: dict[str, Any]) -> list[str]:
        parsed = parse_query(
            query["q"],
            lat=query.get("lat"),
            lon=query.get("lon"),
            today=today,
            **_area(query, parse_query),
        )
        return [
            (r.candidate.ref, getattr(r, "match", "weak"))
            for r in rank(parsed, candidates, today=today, limit=3)
        ]

    return run


def _baseline_text(doc: dict[str, Any]) -> str:
    person, plan = doc["person"], doc["plan"]
    parts = [person["given_name"], person["family_name"]]
    parts += [person.get("preferred_name") or ""] + list(person.get("aliases") or [])
    parts.append(person.get("description") or "")
    for behaviour in plan.get("behaviours") or ():
        parts += [behaviour.get("description", ""), behaviour.get("triggers") or ""]
    parts += [place.get("name", "") for place in plan.get("crisis_locations") or ()]
    return " ".join(parts)


def _points(doc: dict[str, Any]) -> list[tuple[float, float]]:
    places = [doc["person"].get("address") or {}]
    places += list(doc["plan"].get("crisis_locations") or ())
    return [(p["lat"], p["lon"]) for p in places if "lat" in p and "lon" in p]


def baseline_ranker(documents: Sequence[dict[str, Any]]) -> Ranker:
    """Return a function ranking plans by FTS5 bm25 (nearest-first with no words)."""
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE VIRTUAL TABLE plan_text USING fts5(ref UNINDEXED, body)")
    connection.executemany(
        "INSERT INTO plan_text (ref, body) VALUES (?, ?)",
        [(doc["person"]["ref"], _baseline_text(doc)) for doc in documents],
    )
    points = {doc["person"]["ref"]: _points(doc) for doc in documents}

    def run(query: dict[str, Any]) -> list[str]:
        typed = words(query["q"])
        if not typed:
            if query.get("lat") is None:
                return []
            lat, lon = query["lat"], query["lon"]
            nearest = sorted(
                points,
                key=lambda ref: min(
                    (haversine_m(lat, lon, a, b) for a, b in points[ref]),
                    default=float("inf"),
                ),
            )
            return [(ref, "weak") for ref in nearest[:3]]
        match = " OR ".join(f'"{word}"' for word in typed)
        rows = connection.execute(
            "SELECT ref FROM plan_text WHERE plan_text MATCH ? "
            "ORDER BY bm25(plan_text) LIMIT 3",
            (match,),
        )
        return [(ref, "weak") for (ref,) in rows]

    return run


def database_ranker(
    documents: Sequence[dict[str, Any]],
    today: dt.date,
    url: str | None,
    *,
    direct: bool = False,
) -> tuple[Ranker, Callable[[], None]]:
    """Return a function ranking through `plans.search.search` on a real database."""
    from sqlalchemy import text

    from plans.db import create_schema, make_engine, make_session_factory
    from plans.search.index import load_documents_for_bench, search

    cleanup: list[Callable[[], None]] = []
    if url is None:
        directory = tempfile.TemporaryDirectory()
        cleanup.append(directory.cleanup)
        url = f"sqlite:///{directory.name}/bench.db"
        engine = make_engine(url)
    else:
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS search_bench CASCADE"))
            connection.execute(text("CREATE SCHEMA search_bench"))
        engine.dispose()
        engine = make_engine(
            url, connect_args={"options": "-csearch_path=search_bench,public"}
        )
    direct = direct and engine.dialect.name == "sqlite"
    if direct:
        # Every plan live, as the pure ranker sees them: the import's
        # guardrails refuse a few demo plans, which would make their queries
        # unanswerable on this path only.
        from bench.search_speed import _load_direct

        engine.dispose()
        _load_direct(url, documents)
        engine = make_engine(url)
    else:
        create_schema(engine)
    session = make_session_factory(engine)()
    if not direct:
        load_documents_for_bench(session, documents)
        session.commit()

    def run(query: dict[str, Any]) -> list[str]:
        results = search(
            session,
            query["q"],
            lat=query.get("lat"),
            lon=query.get("lon"),
            limit=3,
            today=today,
            **_area(query, search),
        )
        return [(result.ref, getattr(result, "match", "weak")) for result in results]

    def close() -> None:
        session.close()
        engine.dispose()
        for step in cleanup:
            step()

    return run, close


def _edit(word: str, rnd: random.Random) -> str:
    """Return a word with one slip a responder might make."""
    i = rnd.randrange(1, len(word) - 1)
    kind = rnd.choice(("swap", "double", "drop", "vowel"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    vowels = "aeiou"
    letter = word[i]
    swapped = (
        rnd.choice([v for v in vowels if v != letter]) if letter in vowels else "a"
    )
    return word[:i] + swapped + word[i + 1 :]


def _date_forms(born: dt.date, rnd: random.Random) -> str:
    month = born.strftime("%B")
    return rnd.choice(
        [
            f"{born.day:02d}/{born.month:02d}/{born.year}",
            f"{born.day}.{born.month}.{born.year % 100:02d}",
            f"{born.day} {month} {born.year}",
            born.isoformat(),
            f"{born.day}/{born.month}/{born.year}",
        ]
    )


def holdout_queries(
    documents: Sequence[dict[str, Any]], *, per_kind: int, seed: int
) -> list[dict[str, Any]]:
    """Make queries of each kind with answers a careful human would give.

    Independent of the ranker: answers come from plain rules (the unique holder of
    a name or date, or the nearest holder of a surname, given name or behaviour).
    """
    rnd = random.Random(seed)
    people = [doc["person"] for doc in documents]
    full = defaultdict(list)
    for person in people:
        full[(person["given_name"], person["family_name"])].append(person["ref"])
    points = {doc["person"]["ref"]: _points(doc) for doc in documents}
    by_ref = {doc["person"]["ref"]: doc for doc in documents}

    def distance(ref: str, lat: float, lon: float) -> float:
        return min(
            (haversine_m(lat, lon, a, b) for a, b in points[ref]), default=float("inf")
        )

    def nearest(refs: Iterable[str], lat: float, lon: float) -> str:
        return min(refs, key=lambda ref: (distance(ref, lat, lon), ref))

    def near(doc: dict[str, Any]) -> tuple[float, float] | None:
        spots = points[doc["person"]["ref"]]
        if not spots:
            return None
        lat, lon = rnd.choice(spots)
        return lat + rnd.uniform(-0.002, 0.002), lon + rnd.uniform(-0.002, 0.002)

    def unique(person: dict[str, Any]) -> bool:
        return len(full[(person["given_name"], person["family_name"])]) == 1

    def sex_word(person: dict[str, Any]) -> str:
        return {"male": "man", "female": "woman"}.get(person.get("sex") or "", "")

    queries: list[dict[str, Any]] = []
    makers: dict[str, Callable[[dict[str, Any]], dict[str, Any] | None]] = {}

    def exact(doc: dict[str, Any]) -> dict[str, Any] | None:
        person = doc["person"]
        if not unique(person):
            return None
        return {"q": f"{person['given_name']} {person['family_name']}"}

    def typo(doc: dict[str, Any]) -> dict[str, Any] | None:
        person = doc["person"]
        given, family = person["given_name"], person["family_name"]
        if not unique(person) or len(family) < 5 or not family.isalpha():
            return None
        if rnd.random() < 0.5 and len(given) >= 5 and given.isalpha():
            given = _edit(given, rnd)
        else:
            family = _edit(family, rnd)
        return {"q": f"{given} {family}"}

    def prefix(doc: dict[str, Any]) -> dict[str, Any] | None:
        person = doc["person"]
        given = person["given_name"][: rnd.choice((3, 4))]
        family = person["family_name"][: rnd.choice((3, 4, 5))]
        holders = [
            other["ref"]
            for other in people
            if other["given_name"].lower().startswith(given.lower())
            and other["family_name"].lower().startswith(family.lower())
        ]
        if holders != [person["ref"]]:
            return None
        return {"q": f"{given} {family}"}

    def dob(doc: dict[str, Any]) -> dict[str, Any] | None:
        person = doc["person"]
        if not person.get("date_of_birth"):
            return None
        born = dt.date.fromisoformat(person["date_of_birth"])
        holders = [
            other["ref"]
            for other in people
            if other["family_name"] == person["family_name"]
            and other.get("date_of_birth") == person["date_of_birth"]
        ]
        if len(holders) != 1:
            return None
        return {"q": f"{person['family_name']} {_date_forms(born, rnd)}"}

    def alias(doc: dict[str, Any]) -> dict[str, Any] | None:
        person = doc["person"]
        names = [a for a in person.get("aliases") or () if len(a.split()) >= 2]
        if not names:
            return None
        chosen = rnd.choice(names)
        clashes = [
            other["ref"]
            for other in people
            if chosen
            in (other.get("aliases") or [])
            + [f"{other['given_name']} {other['family_name']}"]
        ]
        return {"q": chosen} if clashes == [person["ref"]] else None

    def name_near(field: str) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
        def make(doc: dict[str, Any]) -> dict[str, Any] | None:
            spot = near(doc)
            if spot is None:
                return None
            value = doc["person"][field]
            holders = [p["ref"] for p in people if p[field] == value]
            return {
                "q": value,
                "lat": spot[0],
                "lon": spot[1],
                "expect": nearest(holders, *spot),
            }

        return make

    def near_me(doc: dict[str, Any]) -> dict[str, Any] | None:
        spot = near(doc)
        if spot is None:
            return None
        return {
            "q": "",
            "lat": spot[0],
            "lon": spot[1],
            "expect": nearest(by_ref, *spot),
        }

    def clue_near(
        source: Callable[[dict[str, Any]], list[str]],
    ) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
        def make(doc: dict[str, Any]) -> dict[str, Any] | None:
            texts = source(doc)
            spot = near(doc)
            if not texts or spot is None:
                return None
            chosen = rnd.choice(texts)
            content = [w for w in words(chosen) if len(w) > 3][:6]
            if len(content) < 2:
                return None
            clue = sorted(rnd.sample(content, 2), key=content.index)
            sex = doc["person"].get("sex")
            said = sex_word(doc["person"])
            holders = [
                ref
                for ref, other in by_ref.items()
                if (not said or other["person"].get("sex") == sex)
                and any(set(clue) <= set(words(text)) for text in source(other))
            ]
            if doc["person"]["ref"] not in holders:
                return None
            q = f"{said} {' '.join(clue)}".strip()
            return {
                "q": q,
                "lat": spot[0],
                "lon": spot[1],
                "expect": nearest(holders, *spot),
            }

        return make

    makers = {
        "exact": exact,
        "typo": typo,
        "prefix": prefix,
        "dob": dob,
        "alias": alias,
        "surname_near": name_near("family_name"),
        "given_near": name_near("given_name"),
        "near_me": near_me,
        "behaviour_near": clue_near(
            lambda d: [b["description"] for b in d["plan"].get("behaviours") or ()]
        ),
        "description_near": clue_near(
            lambda d: [
                part for part in (d["person"].get("description") or "").split(",")[2:]
            ]
        ),
    }
    for kind, make in makers.items():
        made = 0
        for doc in rnd.sample(list(documents), len(documents)):
            if made >= per_kind:
                break
            query = make(doc)
            if query is None:
                continue
            query.setdefault("expect", doc["person"]["ref"])
            query.update(id=f"h{len(queries):04d}", kind=kind)
            queries.append(query)
            made += 1
    return queries


def evaluate(queries: Sequence[dict[str, Any]], ranker: Ranker) -> dict[str, Any]:
    """Return top-1 and top-3 overall and per kind, and how strength was used.

    Queries whose `expect` is null are people with no plan: they count only
    towards `no_plan_strong`, the share of them where any result is `strong`.
    """
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    misses: list[dict[str, Any]] = []
    no_plan = no_plan_strong = strong_wrong = strong_right = 0
    for query in queries:
        found = ranker(query)
        refs = [ref for ref, _match in found]
        strong = [ref for ref, match in found if match == "strong"]
        if query.get("expect") is None:
            no_plan += 1
            if strong:
                no_plan_strong += 1
                misses.append({"id": query["id"], "q": query["q"], "strong": strong})
            continue
        row = counts[query["kind"]]
        row[2] += 1
        if strong:
            if strong[0] == query["expect"]:
                strong_right += 1
            else:
                strong_wrong += 1
        if refs[:1] == [query["expect"]]:
            row[0] += 1
        else:
            misses.append(
                {
                    "id": query["id"],
                    "kind": query["kind"],
                    "q": query["q"],
                    "got": found,
                }
            )
        if query["expect"] in refs[:3]:
            row[1] += 1
    kinds = {
        kind: {"n": n, "top1": top1 / n, "top3": top3 / n}
        for kind, (top1, top3, n) in sorted(counts.items())
    }
    total = sum(row[2] for row in counts.values())
    return {
        "n": total,
        "top1": sum(row[0] for row in counts.values()) / total,
        "top3": sum(row[1] for row in counts.values()) / total,
        "kinds": kinds,
        "no_plan": no_plan,
        "no_plan_strong": no_plan_strong / no_plan if no_plan else 0.0,
        "strong_right": strong_right / total,
        "strong_wrong": strong_wrong / total,
        "misses": misses,
    }


def meets_hard_bar(result: dict[str, Any]) -> bool:
    """Say whether a result clears the hard set's bar."""
    return (
        result["top1"] >= HARD_TOP1
        and result["top3"] >= HARD_TOP3
        and all(kind["top1"] >= HARD_KIND_TOP1 for kind in result["kinds"].values())
        and result["no_plan_strong"] <= NO_PLAN_STRONG
    )


def meets_bar(result: dict[str, Any]) -> bool:
    """Say whether a result clears the quality bar."""
    return (
        result["top1"] >= BAR_TOP1
        and result["top3"] >= BAR_TOP3
        and all(kind["top1"] >= BAR_KIND_TOP1 for kind in result["kinds"].values())
    )


def print_table(results: dict[str, dict[str, Any]]) -> None:
    """Print top-1/top-3 per kind, one pair of columns per way of ranking."""
    names = list(results)
    header = f"{'kind':<18} {'n':>4}" + "".join(
        f" {name + ' top1':>15} {name + ' top3':>15}" for name in names
    )
    print(header)
    print("-" * len(header))
    kinds = sorted({kind for result in results.values() for kind in result["kinds"]})
    for kind in kinds + ["ALL"]:
        first = results[names[0]]
        n = first["n"] if kind == "ALL" else first["kinds"][kind]["n"]
        line = f"{kind:<18} {n:>4}"
        for name in names:
            row = results[name] if kind == "ALL" else results[name]["kinds"][kind]
            line += f" {row['top1']:>15.1%} {row['top3']:>15.1%}"
        print(line)
    line = f"{'no plan: strong':<18} {first['no_plan']:>4}"
    for name in names:
        line += f" {results[name]['no_plan_strong']:>15.1%} {'':>15}"
    print(line)
    line = f"{'strong right/wrong':<18} {'':>4}"
    for name in names:
        row = results[name]
        line += f" {row['strong_right']:>15.1%} {row['strong_wrong']:>15.1%}"
    print(line)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; return 1 when the bar is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument("--no-db", action="store_true", help="skip the database path")
    parser.add_argument("--postgres", help="also run the database path on this URL")
    parser.add_argument("--misses", action="store_true", help="list every miss")
    parser.add_argument(
        "--holdout-demo",
        type=int,
        metavar="N",
        help="instead of --data, rank N plans from responder.demo with generated "
        "queries of every kind (a check against tuning to the dev rows)",
    )
    parser.add_argument(
        "--hard",
        choices=("dev", "held"),
        help="instead of --data, the hard set's part (bench/data/search-hard)",
    )
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--per-kind", type=int, default=40)
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args(argv)

    if args.hard:
        from responder.demo import generate_documents

        manifest = json.loads((HARD_DATA / "manifest.json").read_text())
        args.today = dt.date.fromisoformat(manifest["today"])
        documents = list(
            generate_documents(
                manifest["plans"],
                seed=manifest["parts"][args.hard]["plans_seed"],
                today=args.today,
            )
        )
        queries = load_jsonl(HARD_DATA / f"{args.hard}.jsonl")
    elif args.holdout_demo:
        from responder.demo import generate_documents

        documents = list(generate_documents(args.holdout_demo, seed=args.seed))
        queries = holdout_queries(documents, per_kind=args.per_kind, seed=args.seed)
    else:
        documents = load_jsonl(args.data / "plans.jsonl")
        queries = load_jsonl(args.data / "queries.jsonl")
    results: dict[str, dict[str, Any]] = {
        "ranker": evaluate(queries, pure_ranker(documents, args.today))
    }
    checked = ["ranker"]
    if not args.no_db:
        backends: list[tuple[str, str | None]] = [("sqlite", None)]
        if args.postgres:
            backends.append(("postgres", args.postgres))
        for name, url in backends:
            # Loaded directly on SQLite: since the publish rules (issue 13) the
            # import lands the shared set's documents, written before them, as
            # drafts, which left this path with nothing to find.
            run, close = database_ranker(documents, args.today, url, direct=True)
            try:
                results[name] = evaluate(queries, run)
            finally:
                close()
            checked.append(name)
    if not args.no_baseline:
        results["baseline"] = evaluate(queries, baseline_ranker(documents))

    print(f"{len(documents)} plans, {len(queries)} queries, today {args.today}")
    print_table(results)
    if args.misses:
        for name, result in results.items():
            for miss in result["misses"]:
                print(f"miss {name}: {miss}")
    if args.hard:
        passed = all(meets_hard_bar(results[name]) for name in checked)
        bar = (
            f"top-1 >= {HARD_TOP1:.0%}, top-3 >= {HARD_TOP3:.0%}, every kind top-1 "
            f">= {HARD_KIND_TOP1:.0%}, no plan strong <= {NO_PLAN_STRONG:.0%}"
        )
    else:
        passed = all(meets_bar(results[name]) for name in checked)
        bar = (
            f"top-1 >= {BAR_TOP1:.0%}, top-3 >= {BAR_TOP3:.1%}, every kind top-1 "
            f">= {BAR_KIND_TOP1:.0%}"
        )
    verdict = "meets" if passed else "MISSES"
    print(f"{', '.join(checked)} {verdict} the bar ({bar})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        summary = {
            "plans": len(documents),
            "queries": len(queries),
            "today": args.today.isoformat(),
            "passed": passed,
            "results": results,
        }
        args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
