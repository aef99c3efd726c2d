"""A whole API search request beside /healthz, before and after, in one run.

    .venv/bin/python bench/search_request.py --url sqlite:////tmp/s14/after.db \\
        --before-url sqlite:////tmp/s14/before.db --before 03a027b

For each tree (this one, and with --before the `plans/` package of that git
revision, exported with `git archive` and put first on PYTHONPATH) and its
database, it measures:

1. *CPU per request, in process*: `GET /api/v1/search` through the Flask test
   client with a bearer token (token check, rate count, search, audit row, JSON)
   and `GET /healthz`, each request timed with `time.process_time`;
2. *over HTTP, one at a time*: the same requests against `responder serve`
   (gunicorn, --workers) on 127.0.0.1, search and /healthz interleaved, wall
   time per request;
3. *saturation*: --clients aiohttp clients back to back for --seconds, first on
   the search mix, then on /healthz, against the same server; the ratio of the
   throughputs is what a search costs in minimal requests;
4. *think time*: --clients responders each pausing a uniform 0.5-1.5 x --think
   seconds between searches for --seconds; p95 and errors.

The query mix is bench/search_cpu.py's (every kind of issues 2 and 14). CPU time
is reported because the machine is shared; the load average is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EMAIL = "search-request-bench@example.invalid"


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the value at a fraction of the sorted values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary(values: Sequence[float]) -> dict[str, float]:
    """Return n, p50, p95 and max of a list of milliseconds."""
    return {
        "n": len(values),
        "p50": round(percentile(values, 0.5), 1),
        "p95": round(percentile(values, 0.95), 1),
        "max": round(max(values), 1),
    }


def search_path(query: dict[str, Any]) -> str:
    """Return the API path of one query of the mix."""
    params: dict[str, Any] = {"q": query["q"]}
    if query.get("lat") is not None:
        params |= {"lat": query["lat"], "lon": query["lon"]}
    return "/api/v1/search?" + urlencode(params)


def _token(url: str) -> str:
    """Create (or reuse) a police user with an API token; return the token."""
    from plans import accounts
    from plans.db import make_engine, make_session_factory

    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        user = accounts.find_user(session, EMAIL) or accounts.create_user(
            session, EMAIL, role="police"
        )
        _row, token = accounts.create_token(session, user)
        session.commit()
    engine.dispose()
    return token


def _config(url: str) -> dict[str, Any]:
    # No rate limit in the way: the bench sends far more than a responder would.
    return {
        "ENVIRONMENT": "development",
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-" + secrets.token_hex(16),
        "SEARCH_RATE_LIMITS": "1000000/minute",
    }


def in_process(
    url: str, token: str, queries: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """Time whole requests through the Flask test client: CPU ms per request."""
    from responder import create_app

    app = create_app(_config(url))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    search_cpu: list[float] = []
    health_cpu: list[float] = []
    errors = 0
    for index, query in enumerate(list(queries[:30]) + list(queries)):
        started = time.process_time()
        response = client.get(search_path(query), headers=headers)
        spent = (time.process_time() - started) * 1000
        errors += response.status_code != 200
        started = time.process_time()
        health = client.get("/healthz")
        health_spent = (time.process_time() - started) * 1000
        errors += health.status_code != 200
        if index >= 30:
            search_cpu.append(spent)
            health_cpu.append(health_spent)
    return {
        "search": summary(search_cpu),
        "healthz": summary(health_cpu),
        "errors": errors,
    }


def _serve(url: str, code: Path | None, workers: int, log: Path) -> tuple[Any, int]:
    sys.path.insert(0, str(ROOT / "bench"))
    from search_speed import _serve as serve

    env = dict(
        os.environ,
        RESPONDER_DATABASE_URL=url,
        RESPONDER_SECRET_KEY=secrets.token_hex(32),
        RESPONDER_ENVIRONMENT="development",
        RESPONDER_SEARCH_RATE_LIMITS="1000000/minute",
    )
    if code is not None:
        env["PYTHONPATH"] = str(code)
    return serve(env, workers, log)


async def _sequential(
    port: int, token: str, queries: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"}
    search_ms: list[float] = []
    health_ms: list[float] = []
    kinds: dict[str, list[float]] = defaultdict(list)
    errors = 0
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(base) as http:
        for index, query in enumerate(list(queries[:30]) + list(queries)):
            started = time.perf_counter()
            async with http.get(search_path(query), headers=headers) as response:
                await response.read()
                errors += response.status != 200
            spent = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            async with http.get("/healthz") as response:
                await response.read()
                errors += response.status != 200
            health_spent = (time.perf_counter() - started) * 1000
            if index >= 30:
                search_ms.append(spent)
                health_ms.append(health_spent)
                kinds[query["kind"]].append(spent)
    return {
        "search": summary(search_ms),
        "healthz": summary(health_ms),
        "kinds": {kind: summary(values) for kind, values in sorted(kinds.items())},
        "errors": errors,
    }


async def _clients(
    port: int,
    token: str,
    queries: Sequence[dict[str, Any]],
    *,
    clients: int,
    seconds: float,
    think: float,
    health: bool,
) -> dict[str, Any]:
    """Run clients for a while; return throughput, latency and errors."""
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    base = f"http://127.0.0.1:{port}"

    async def one(number: int) -> None:
        nonlocal errors
        rnd = random.Random(number)
        async with aiohttp.ClientSession(
            base, connector=aiohttp.TCPConnector(limit=1)
        ) as http:
            if think:
                await asyncio.sleep(rnd.uniform(0, think))
            while time.perf_counter() < stop:
                path = "/healthz" if health else search_path(rnd.choice(queries))
                started = time.perf_counter()
                try:
                    async with http.get(
                        path,
                        headers=None if health else headers,
                        timeout=aiohttp.ClientTimeout(total=60),
                    ) as response:
                        await response.read()
                        ok = response.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                latencies.append((time.perf_counter() - started) * 1000)
                errors += not ok
                if think:
                    await asyncio.sleep(rnd.uniform(0.5, 1.5) * think)

    started = time.perf_counter()
    await asyncio.gather(*(one(number) for number in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "per_second": round(len(latencies) / elapsed, 1),
        "latency": summary(latencies),
        "errors": errors,
    }


def measure_tree(
    name: str,
    url: str,
    code: Path | None,
    queries: Sequence[dict[str, Any]],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Measure one tree on its database: in process, HTTP, saturation, think."""
    token = _token(url)
    result: dict[str, Any] = {}
    if "cpu" in args.parts:
        command = [
            sys.executable,
            __file__,
            "--child-cpu",
            "--url",
            url,
            "--token",
            token,
            "--queries-file",
            args.queries_file,
        ]
        env = dict(os.environ)
        if code is not None:
            env["PYTHONPATH"] = str(code)
        child = subprocess.run(
            command, capture_output=True, text=True, check=True, env=env
        )
        result["cpu"] = json.loads(child.stdout.strip().splitlines()[-1])
        print(name, "cpu", result["cpu"], flush=True)
    if {"http", "saturation", "think"} & set(args.parts):
        process, port = _serve(url, code, args.workers, args.workdir / f"{name}.log")
        try:
            if "http" in args.parts:
                result["http"] = asyncio.run(_sequential(port, token, queries))
                print(name, "http", result["http"]["search"], flush=True)
            if "saturation" in args.parts:
                for label, health in (("search", False), ("healthz", True)):
                    result[f"saturation_{label}"] = asyncio.run(
                        _clients(
                            port,
                            token,
                            queries,
                            clients=args.saturation_clients,
                            seconds=args.seconds,
                            think=0,
                            health=health,
                        )
                    )
                    print(name, label, result[f"saturation_{label}"], flush=True)
            if "think" in args.parts:
                result["think"] = asyncio.run(
                    _clients(
                        port,
                        token,
                        queries,
                        clients=args.clients,
                        seconds=args.seconds,
                        think=args.think,
                        health=False,
                    )
                )
                print(name, "think", result["think"], flush=True)
        finally:
            from search_speed import _stop

            _stop(process)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Measure this tree (and --before) and print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="this tree's database")
    parser.add_argument("--before", help="git revision whose plans/ to measure too")
    parser.add_argument("--before-url", help="the before tree's database")
    parser.add_argument("--plans", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--saturation-clients", type=int, default=50)
    parser.add_argument("--think", type=float, default=3.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--parts", nargs="+", default=["cpu", "http", "saturation", "think"]
    )
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child-cpu", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--queries-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_cpu:
        queries = json.loads(Path(args.queries_file).read_text())
        print(json.dumps(in_process(args.url, args.token, queries)))
        return 0

    from bench.search_cpu import SEED, TODAY, make_queries
    from responder.demo import generate_documents

    args.workdir.mkdir(parents=True, exist_ok=True)
    documents = list(generate_documents(args.plans, seed=SEED, today=TODAY))
    # The API takes words and a position; the team-area kind is the domain's.
    queries = [q for q in make_queries(documents, args.queries) if not q.get("area")]
    del documents
    with tempfile.TemporaryDirectory() as scratch:
        args.queries_file = str(Path(scratch) / "queries.json")
        Path(args.queries_file).write_text(json.dumps(queries))
        results: dict[str, Any] = {}
        trees: list[tuple[str, str, Path | None]] = []
        if args.before:
            tree = Path(scratch) / "before"
            tree.mkdir()
            archive = subprocess.run(
                ["git", "archive", args.before, "plans"],
                cwd=ROOT,
                capture_output=True,
                check=True,
            )
            subprocess.run(["tar", "-x", "-C", tree], input=archive.stdout, check=True)
            trees.append(("before", args.before_url or args.url, tree))
        trees.append(("after", args.url, None))
        for name, url, code in trees:
            results[name] = measure_tree(name, url, code, queries, args)
    load = os.getloadavg()
    results["load_average"] = [round(value, 2) for value in load]
    results["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(json.dumps(results, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
