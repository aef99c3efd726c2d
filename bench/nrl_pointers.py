"""Cost of NRL pointers: queueing them on import, and sending them (issue 16).

    .venv/bin/python bench/nrl_pointers.py [--plans N] [--rounds R]

Imports N demo plans into a fresh SQLite database with NRL pointers off and
then on (the session flag the app sets when NRL_BASE_URL is), interleaved over R
rounds so load on the machine hits each alike, and prints the best wall-clock
time of each and their ratio. Then drains the queue of the last "on" database
against the tests' stand-in NRL on 127.0.0.1 (token once, then one POST per
pointer) and prints the milliseconds per pointer sent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plans import exchange, nrl  # noqa: E402
from plans.db import create_schema, make_engine, make_session_factory  # noqa: E402
from responder.demo import generate_documents  # noqa: E402
from responder.nrl import HttpTransport, NrlConfig, send_pending  # noqa: E402
from tests.nrl_server import stand_in_nrl  # noqa: E402


def _import(folder: Path, name: str, documents: list[dict], on: bool) -> tuple:
    engine = make_engine(f"sqlite:///{folder / name}")
    create_schema(engine)
    factory = make_session_factory(engine, info={nrl.SESSION_FLAG: True} if on else {})
    started = time.perf_counter()
    with factory() as session:
        exchange.import_documents(
            session,
            documents,
            actor="bench",
            source="bench",
            today=dt.date(2026, 11, 23),
        )
        session.commit()
    elapsed = time.perf_counter() - started
    with factory() as session:
        queued = session.scalar(select(func.count()).select_from(nrl.NrlMessage))
    return elapsed, queued, engine, factory


def main() -> None:
    """Print import seconds with NRL off and on, and ms per pointer sent."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    documents = list(generate_documents(args.plans, today=dt.date(2026, 11, 23)))
    best = {"off": float("inf"), "on": float("inf")}
    queued = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        last = None
        for round_ in range(args.rounds):
            for mode in ("off", "on"):
                elapsed, count, engine, factory = _import(
                    folder, f"{mode}{round_}.db", documents, mode == "on"
                )
                best[mode] = min(best[mode], elapsed)
                if mode == "on":
                    queued = count
                    if last is not None:
                        last[0].dispose()
                    last = (engine, factory)
                else:
                    engine.dispose()
        print(f"{args.plans} demo plans imported, best of {args.rounds} rounds")
        print(f"NRL off: {best['off']:.2f} s; on: {best['on']:.2f} s; ")
        print(
            f"on/off: {best['on'] / best['off']:.2f}; pointer changes queued: {queued}"
        )
        assert last is not None
        engine, factory = last
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with stand_in_nrl(key.public_key()) as server, requests.Session() as http:
            config = NrlConfig(
                base_url=server.producer_url,
                token_url=server.token_url,
                api_key="bench",
                kid="bench",
                private_key=key,
                pointers=nrl.PointerSettings("RX4", "https://trust.example/{team}"),
            )
            transport = HttpTransport(config, http)
            started = time.perf_counter()
            sent = 0
            while True:
                report = send_pending(factory, transport, config.pointers)
                if not report.sent:
                    break
                sent += report.sent
            elapsed = time.perf_counter() - started
        engine.dispose()
        print(
            f"sent {sent} pointers in {elapsed:.2f} s: "
            f"{elapsed / max(sent, 1) * 1000:.1f} ms each"
        )


if __name__ == "__main__":
    main()
