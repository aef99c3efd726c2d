"""Time a team's portal report (50 people x 24 months) side by side with /healthz.

    .venv/bin/python bench/portal_report.py [--people 50] [--months 24] [--rounds 30]
        [--database-url URL] [--json PATH]

Builds the app on a fresh database (a temporary SQLite file unless
--database-url names another), seeds one synthetic team of N people with every
minimum data set and five further units counted every month for M months
(plus concerns, plan openings are not seeded), signs a team lead in through the
real sign-in pages, then requests the team report page (six XmR charts, the
cost line, the harms table) and /healthz alternately in the same process, so
both see the same machine load. Prints median and 95th percentile of each and
their ratio. Also times the saved-report PDF for one person. Exits 1 when the
report's median is over one second (the issue's budget).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET_SECONDS = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--database-url")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    os.environ.setdefault("RESPONDER_ENVIRONMENT", "test")
    folder = tempfile.mkdtemp(prefix="portal-bench-")
    os.environ["RESPONDER_INSTANCE_PATH"] = folder
    url = args.database_url or f"sqlite:///{folder}/bench.db"

    from plans.db import create_schema, make_session_factory
    from plans.models import Person, Team
    from plans.portal import reports
    from plans.portal.models import DemandCount
    from plans.portal.units import MINIMUM_UNITS, UNITS
    from responder import create_app
    from tests.conftest import TEST_HASH_COST, AuthActions

    app = create_app(
        {
            "TESTING": True,
            "ENVIRONMENT": "test",
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
            "PASSWORD_HASH_COST": TEST_HASH_COST,
        }
    )
    engine = app.extensions["responder.engine"]
    create_schema(engine)
    months = reports.window(args.months)
    units = [u.code for u in MINIMUM_UNITS] + [u.code for u in UNITS if not u.minimum][
        :5
    ]
    rng = random.Random(18)
    started = time.perf_counter()
    with make_session_factory(engine)() as session:
        team = Team(code="BENCH", name="Bench team (synthetic)")
        session.add(team)
        session.flush()
        rows = []
        for n in range(args.people):
            person = Person(
                ref=f"BENCH/{n:05d}",
                team=team,
                given_name="Synthetic",
                family_name=f"Person{n}",
                aliases=[],
            )
            session.add(person)
            session.flush()
            for month in months:
                for unit in units:
                    rows.append(
                        {
                            "person_id": person.id,
                            "month": month,
                            "unit": unit,
                            "count": rng.randint(0, 6),
                            "source": "bench",
                        }
                    )
        session.bulk_insert_mappings(DemandCount, rows)  # type: ignore[arg-type]
        session.commit()
        team_id = team.id
        first_person = session.query(Person.id).first()
    seeded = time.perf_counter() - started

    client = app.test_client()
    AuthActions(app, client).login("team_lead", teams=("BENCH",))
    report_path = f"/portal/teams/{team_id}"
    assert client.get(report_path).status_code == 200  # warm up
    assert client.get("/healthz").status_code == 200
    report_times, health_times = [], []
    for _ in range(args.rounds):
        for path, times in ((report_path, report_times), ("/healthz", health_times)):
            began = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - began)
            assert response.status_code == 200, path

    from plans import accounts
    from plans.portal.pdf import render_report_pdf

    with make_session_factory(engine)() as session:
        accounts.create_user(
            session, "bench-mentor@example.test", role="mentor", team_codes=["BENCH"]
        )
        session.commit()
    pdf_times = []
    for _ in range(5):
        began = time.perf_counter()
        with make_session_factory(engine)() as session:
            user = accounts.find_user(session, "bench-mentor@example.test")
            person = session.get(Person, first_person[0]) if first_person else None
            assert person is not None and user is not None
            saved = reports.build_report(session, person, by=user)
            render_report_pdf(
                saved.content, built_on=saved.built_on, report_id=saved.id
            )
            session.commit()
        pdf_times.append(time.perf_counter() - began)

    def summary(times: list[float]) -> dict[str, float]:
        ordered = sorted(times)
        return {
            "median_ms": round(statistics.median(ordered) * 1000, 1),
            "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
        }

    result = {
        "people": args.people,
        "months": args.months,
        "demand_rows": len(rows),
        "database": url.split(":", 1)[0],
        "seed_s": round(seeded, 1),
        "team_report": summary(report_times),
        "healthz": summary(health_times),
        "report_and_pdf": summary(pdf_times),
    }
    result["ratio_median"] = round(
        result["team_report"]["median_ms"] / max(result["healthz"]["median_ms"], 0.01),
        1,
    )
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    engine.dispose()
    return 0 if result["team_report"]["median_ms"] <= BUDGET_SECONDS * 1000 else 1


if __name__ == "__main__":
    sys.exit(main())
