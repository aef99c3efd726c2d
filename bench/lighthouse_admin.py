"""Run Lighthouse (mobile profile) on the administrator's pages.

    .venv/bin/python bench/lighthouse_admin.py [--users N] [--dark]

Starts the app with N synthetic accounts (a few disabled, one first single
sign-on waiting for approval) and a signed-in administrator, then scores the user
list, one account, the disable confirmation, the new-user form and the approval
page with bench/lighthouse.py's pinned Lighthouse. Exits 1 when accessibility is
under 100 (or performance under 95) on any page.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from bench_server import (  # noqa: E402
    bench_app,
    confirm_totp,
    serving,
    session_cookie,
    session_factory,
    signed_in_client,
)
from lighthouse import (  # noqa: E402
    BAR_ACCESSIBILITY,
    BAR_PERFORMANCE,
    lighthouse_binary,
    run_lighthouse,
    summarise,
)

PASSWORD = "bench admin password that is long"


@contextmanager
def serve(users: int) -> Iterator[tuple[str, str, str, dict[str, str]]]:
    """Serve the app with accounts; yield url, cookie name and value, pages."""
    from plans import accounts, identity
    from plans.models import ROLES, Team

    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(folder)
        with session_factory(app)() as session:
            session.add(Team(code="BENCH", name="Bench team (synthetic)"))
            session.flush()
            admin = accounts.create_user(
                session, "bench-admin@example.test", role="admin", password=PASSWORD
            )
            totp = confirm_totp(session, admin, str(app.config["SECRET_KEY"]))
            target = None
            for number in range(users):
                user = accounts.create_user(
                    session,
                    f"user-{number}@example.test",
                    role=ROLES[number % len(ROLES)],
                    display_name=f"Synthetic User {number}",
                    team_codes=["BENCH"],
                )
                target = target or user
                if number % 7 == 3:
                    accounts.disable_account(
                        session, user, by=None, channel="cli", reason="bench"
                    )
            provider = identity.Provider.from_config(
                "force",
                {"issuer": "https://x.example", "client_id": "c", "client_secret": "s"},
            )
            outcome = identity.sign_in_with_provider(
                session,
                provider,
                {"sub": "waiting", "name": "Waiting Officer", "groups": []},
                disabled_help="x",
            )
            assert target is not None
            pages = {
                "approve": f"/admin/sign-ins/{outcome.identity.id}",
                "users": "/admin/users",
                "account": f"/admin/users/{target.id}",
                "disable": f"/admin/users/{target.id}/disable",
                "new": "/admin/users/new",
            }
            session.commit()
        client = signed_in_client(app, "bench-admin@example.test", PASSWORD, totp)
        cookie_value = session_cookie(app, client)
        name = str(app.config["SESSION_COOKIE_NAME"])
        with serving(app) as url:
            yield url, name, cookie_value, pages


def main(argv: list[str] | None = None) -> int:
    """Score each administration page and check the bars."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--dark", action="store_true", help="score the dark theme")
    args = parser.parse_args(argv)
    binary = lighthouse_binary()
    ok = True
    with serve(args.users) as (url, name, value, pages):
        with tempfile.TemporaryDirectory() as folder:
            headers = Path(folder) / "headers.json"
            headers.write_text(json.dumps({"Cookie": f"{name}={value}"}), "utf-8")
            for page_name, path in pages.items():
                page = summarise(
                    run_lighthouse(
                        binary,
                        url + path,
                        headers,
                        Path(folder) / f"{page_name}.json",
                        dark=args.dark,
                    )
                )
                landed = str(page["final_url"] or "")
                if not landed.startswith(url + path):
                    print(f"{page_name}: Lighthouse landed on {landed}, not {path}")
                    ok = False
                ok = ok and page["accessibility"] >= BAR_ACCESSIBILITY
                ok = ok and page["performance"] >= BAR_PERFORMANCE
                print(
                    f"{page_name:8} performance {page['performance']:3d}, "
                    f"accessibility {page['accessibility']:3d}, "
                    f"{page['total_bytes'] or 0:.0f} B, "
                    f"FCP {page['first_contentful_paint_ms'] or 0:.0f} ms, "
                    f"LCP {page['largest_contentful_paint_ms'] or 0:.0f} ms, "
                    f"TBT {page['total_blocking_time_ms'] or 0:.0f} ms, "
                    f"CLS {page['cumulative_layout_shift'] or 0:.3f}"
                    + (
                        f", failing: {', '.join(page['accessibility_failures'])}"
                        if page["accessibility_failures"]
                        else ""
                    )
                )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
