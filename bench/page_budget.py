"""Measure what a responder's phone downloads for the home, results and plan pages.

    .venv/bin/python bench/page_budget.py [--plans N] [--json PATH]

Starts the app on a free local port with a fresh SQLite database holding N
synthetic demo plans, signs a police responder in, opens one plan with a stated
reason, then loads each page in the system Chromium (empty cache, no service
worker) and adds up every response: headers plus body as sent (uncompressed:
Werkzeug does not compress, so this is the worst case), and what gzip would make
of each body. The plan carries a photo (as a mentor would add it); the budget
counts the plan page with its CSS and JS but without the photo, which is capped
on its own (plans.photos.MAX_BYTES). Exits 1 when the plan page is over the 60 KB
budget or the photo over its cap. bench/lighthouse.py reuses the server from here.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import json
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_server import (  # noqa: E402
    bench_app,
    confirm_totp,
    csrf,
    serving,
    session_cookie,
    session_factory,
    signed_in_client,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP localhost 127.0.0.1",
]
BUDGET_BYTES = 60 * 1024
PASSWORD = "bench password that is long enough 9"


@dataclass
class BenchServer:
    """The app serving demo data, with a signed-in responder's session cookie."""

    url: str
    cookie_name: str
    cookie_value: str
    plan_path: str
    search_path: str

    @property
    def pages(self) -> dict[str, str]:
        """Return the pages to measure, by name."""
        return {"home": "/", "results": self.search_path, "plan": self.plan_path}


def _add_photo(session: Any, person: Any) -> None:
    """Add a camera-sized photo to the person's live plan, as their mentor."""
    import io

    from PIL import Image

    from plans import accounts, photos

    mentor = accounts.create_user(
        session,
        "bench-mentor@example.test",
        role="mentor",
        team_codes=(person.team.code,),
    )
    session.flush()
    session.refresh(mentor)
    picture = Image.effect_noise((1200, 1600), 40).convert("RGB")
    data = io.BytesIO()
    picture.save(data, format="JPEG", quality=90)
    photos.add_photo(
        session,
        person.live_version(session),
        data.getvalue(),
        by=mentor,
        agreed_with_person=True,
    )


@contextlib.contextmanager
def serve(plans: int = 200) -> Iterator[BenchServer]:
    """Serve the app with demo plans; sign a responder in and open one plan."""
    from plans import accounts
    from plans.exchange.landing import import_documents
    from plans.models import Person, PlanVersion
    from responder.demo import apply_demo_contacts, generate_documents

    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(folder)
        with session_factory(app)() as session:
            documents = list(generate_documents(plans, seed=7))
            import_documents(session, documents, actor=None, source="bench")
            apply_demo_contacts(session)
            user = accounts.create_user(
                session, "bench-police@example.test", role="police", password=PASSWORD
            )
            totp = confirm_totp(session, user, str(app.config["SECRET_KEY"]))
            person = (
                session.query(Person)
                .join(PlanVersion)
                .filter(PlanVersion.status == "live")
                .order_by(Person.id)
                .first()
            )
            assert person is not None, "no live demo plan landed"
            ref, given = person.ref, person.given_name
            _add_photo(session, person)
            session.commit()

        client = signed_in_client(app, "bench-police@example.test", PASSWORD, totp)
        answer = client.post(
            f"/open/{ref}",
            data={
                "basis": "attending_incident",
                "incident": "BENCH-1",
                **csrf(client, f"/open/{ref}"),
            },
        )
        if answer.status_code != 303:
            raise RuntimeError(f"could not open a plan: {answer.status_code}")
        cookie_value = session_cookie(app, client)
        with serving(app) as url:
            yield BenchServer(
                url=url,
                cookie_name=str(app.config["SESSION_COOKIE_NAME"]),
                cookie_value=cookie_value,
                plan_path=f"/plans/{ref}",
                search_path=f"/search?q={given.lower()}",
            )


def measure(server: BenchServer) -> dict[str, Any]:
    """Load each page in Chromium with an empty cache; add up what came over."""
    from playwright.sync_api import sync_playwright

    report: dict[str, Any] = {}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        for name, path in server.pages.items():
            context = browser.new_context(
                base_url=server.url,
                viewport={"width": 390, "height": 844},
                is_mobile=True,
                has_touch=True,
                service_workers="block",
            )
            context.add_cookies(
                [
                    {
                        "name": server.cookie_name,
                        "value": server.cookie_value,
                        "url": server.url,
                    }
                ]
            )
            page = context.new_page()
            responses: list[Any] = []
            page.on("response", functools.partial(list.append, responses))
            page.goto(path, wait_until="load")
            page.wait_for_load_state("networkidle")
            if page.url.rstrip("/") != (server.url + path).rstrip("/"):
                raise RuntimeError(f"{name}: landed on {page.url}, not {path}")
            resources = []
            for response in responses:
                sizes = response.request.sizes()
                body = response.body() if response.status != 304 else b""
                resources.append(
                    {
                        "path": response.url.removeprefix(server.url),
                        "status": response.status,
                        "bytes": sizes["responseHeadersSize"]
                        + sizes["responseBodySize"],
                        "gzip_body": len(gzip.compress(body, 9)),
                    }
                )
            photo = [r for r in resources if r["path"].startswith("/plan-photos/")]
            page_only = [r for r in resources if r not in photo]
            report[name] = {
                "resources": resources,
                "bytes": sum(item["bytes"] for item in page_only),
                "gzip_bytes": sum(item["gzip_body"] for item in page_only),
                "photo_bytes": sum(item["bytes"] for item in photo),
            }
            context.close()
        browser.close()
    return report


def main(argv: list[str] | None = None) -> int:
    """Measure the pages and check the plan page against its budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with serve(args.plans) as server:
        report = measure(server)
    for name, page in report.items():
        print(
            f"{name:8} {page['bytes'] / 1024:6.1f} KB transferred "
            f"({page['gzip_bytes'] / 1024:5.1f} KB if gzipped), "
            f"{len(page['resources'])} requests"
        )
        for item in page["resources"]:
            print(f"    {item['bytes']:7d} B  {item['status']}  {item['path'][:60]}")
    from plans.photos import MAX_BYTES as PHOTO_CAP

    plan_bytes = report["plan"]["bytes"]
    photo_bytes = report["plan"]["photo_bytes"]
    verdict = "within" if plan_bytes <= BUDGET_BYTES else "OVER"
    print(
        f"plan page without the photo: {plan_bytes} B, "
        f"{verdict} the {BUDGET_BYTES} B budget"
    )
    photo_ok = 0 < photo_bytes <= PHOTO_CAP + 1024  # the cap plus its headers
    print(f"photo: {photo_bytes} B with headers (cap {PHOTO_CAP} B of image)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0 if plan_bytes <= BUDGET_BYTES and photo_ok else 1


if __name__ == "__main__":
    sys.exit(main())
