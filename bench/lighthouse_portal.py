"""Run Lighthouse (mobile profile) on the network portal's or the HIU cases' pages.

    .venv/bin/python bench/lighthouse_portal.py --pages portal|cases [--dark]

Starts the app with synthetic data and signed-in users of the roles each page
is for, then scores the pages with bench/lighthouse.py's pinned Lighthouse, as
bench/lighthouse_admin.py does for the administrator's pages:

- portal: twelve synthetic people with 24 months of demand (the domain's
  demand.set_counts), a mentoring start, a harm, unit costs, a saved report, a
  directory entry and a self-assessment visit; the mentor scores the person's
  demand page and desk form, the report, the import form and the costs, the
  team lead the team's XmR charts and self-assessment pages, the network role
  the network totals, the directory and behaviour experience.
- cases: an HIU group with two agencies' lists for last month (a near match
  waiting), an open case allocated at a recorded meeting with the person's
  consent; the clinician mentor scores the caseload, the list upload, the
  matches, the ranked list, the case, the meetings and one meeting.

Exits 1 when accessibility is under 100 (or performance under 95) on any page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

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

PASSWORD = "bench portal password that is long"
TEAM = "BENCH"
HIU = "HIU-BENCH"
GIVEN = ["Alex", "Sam", "Jo", "Chris", "Pat", "Robin", "Lee", "Kim", "Ash", "Max"]
FAMILY = ["Smith", "Jones", "Taylor", "Brown", "Evans", "Walker", "Wright", "Green"]

# name -> (role who scores it, path); filled in by the set-up functions
Pages = dict[str, tuple[str, str]]


def _user(
    session: Any,
    email: str,
    role: str,
    teams: list[str],
    organisation: str | None = None,
) -> Any:
    """Create an account with a password and a confirmed authenticator app."""
    from plans import accounts

    user = accounts.create_user(
        session,
        email,
        role=role,
        password=PASSWORD,
        display_name=f"Bench {role.replace('_', ' ')}",
        team_codes=teams,
        organisation=organisation,
    )
    return user


def last_month() -> dt.date:
    """Return the first day of the month before this one."""
    from plans import clock

    return (clock.today().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def portal_data(session: Any) -> tuple[dict[str, Any], Pages]:
    """Store a team's synthetic demand; return its users and the pages to score."""
    from plans.models import Person, Team
    from plans.portal import assessment, costs, demand, directory, harms, reports

    team = Team(code=TEAM, name="Bench team (synthetic)", phone="+44 1632 960000")
    other = Team(code="BENCH-2", name="Second bench team (synthetic)")
    session.add_all([team, other])
    session.flush()
    mentor = _user(session, "bench-mentor@example.test", "mentor", [TEAM])
    lead = _user(session, "bench-lead@example.test", "team_lead", [TEAM])
    network = _user(session, "bench-network@example.test", "network", [])
    end = last_month()
    months = demand.month_range(end.replace(year=end.year - 2), end)[-24:]
    people = []
    for number in range(12):
        person = Person(
            ref=f"{TEAM}/{number + 1:05d}",
            team=team,
            given_name=GIVEN[number % len(GIVEN)],
            family_name=FAMILY[number % len(FAMILY)],
            aliases=[],
        )
        session.add(person)
        session.flush()
        people.append(person)
        for index, month in enumerate(months):
            falling = max(0, 7 - index // 3)
            demand.set_counts(
                session,
                person,
                month,
                {
                    "police_incidents": (falling + number + index) % 9,
                    "ambulance_deployments": (falling + 2 * index) % 5,
                    "ed_attendances": (falling + number) % 6,
                    "mh_bed_days": (index * 3 + number) % 11,
                    "s136_detentions": int((index + number) % 3 == 0),
                    "mha_assessments": int((index + number) % 4 == 0),
                },
                by=mentor,
            )
        demand.set_mentoring_start(session, person, months[10], by=mentor)
    first = people[0]
    harms.record_harm(
        session,
        first,
        next(iter(harms.EVENT_KINDS)),
        months[15] + dt.timedelta(days=3),
        by=mentor,
    )
    costs.set_unit_cost(
        session,
        team,
        "police_incidents",
        Decimal(450),
        valid_from=months[12],
        source="Bench force's own figure (synthetic)",
        by=mentor,
    )
    saved = reports.build_report(session, first, by=mentor)
    directory.update_profile(
        session,
        team,
        by=lead,
        police_force_area="Bench Police (synthetic)",
        icb="Bench Integrated Care Board (synthetic)",
        towns="Benchtown, Testford, Exampleham",
        member_agencies="Police, Ambulance, Mental health trust",
        mentors="2 police mentors, 1 clinician mentor",
        declared_experience="Threats to jump from bridges, Alcohol and repeated calls",
        channel="web",
    )
    visit = assessment.save_assessment(
        session,
        team,
        by=lead,
        visited_on=months[-1],
        scores={
            m.code: (str(i % (assessment.TOP_SCORE + 1)), f"Evidence for {m.label}")
            for i, m in enumerate(assessment.MEASURES)
        },
        worked_well="Weekly case review with the police mentor.",
        still_hard="Getting ambulance figures on time.",
        learn_from="The second bench team's exit plans.",
    )
    users = {"mentor": mentor, "team_lead": lead, "network": network}
    pages: Pages = {
        "index": ("mentor", "/portal/"),
        "person": ("mentor", f"/portal/people/{first.id}"),
        "demand": (
            "mentor",
            f"/portal/people/{first.id}/demand?month={months[-1]:%Y-%m}",
        ),
        "report": ("mentor", f"/portal/reports/{saved.id}"),
        "team": ("team_lead", f"/portal/teams/{team.id}"),
        "import": ("mentor", f"/portal/teams/{team.id}/import"),
        "costs": ("mentor", f"/portal/teams/{team.id}/costs"),
        "profile": ("team_lead", f"/portal/teams/{team.id}/profile"),
        "assessments": ("team_lead", f"/portal/teams/{team.id}/assessments"),
        "assessment": ("team_lead", f"/portal/assessments/{visit.id}"),
        "network": ("network", "/portal/network"),
        "directory": ("network", "/portal/directory?place=Benchtown"),
        "experience": ("network", "/portal/experience?q=jump+from+a+bridge"),
        "net-index": ("network", "/portal/"),
    }
    return users, pages


def cases_data(session: Any) -> tuple[dict[str, Any], Pages]:
    """Store an HIU group's lists, a match and a case; return users and pages."""
    from plans.cases import lists, meetings, workflow
    from plans.cases.lists import TEMPLATE_HEADER
    from plans.models import Team

    team = Team(code=HIU, name="Bench High Intensity Team (synthetic)")
    session.add(team)
    session.flush()
    mentor = _user(
        session,
        "bench-mentor@hiu.example.test",
        "mentor",
        [HIU],
        "Bench Mental Health Trust (synthetic)",
    )
    police = _user(
        session,
        "bench-police-mentor@hiu.example.test",
        "mentor",
        [HIU],
        "Bench Police (synthetic)",
    )
    lead = _user(
        session,
        "bench-lead@hiu.example.test",
        "lead_clinician",
        [HIU],
        "Bench Mental Health Trust (synthetic)",
    )
    month = last_month()
    police_rows = ["Robert,Smith,1980-04-05,,3,1,0,0,0"]
    ambulance_rows = ["Bob,Smith,1980-05-04,,0,2,2,0,0"]
    for number in range(20):
        given = GIVEN[number % len(GIVEN)]
        family = FAMILY[number % len(FAMILY)] + ("" if number < 8 else "son")
        born = f"19{60 + number}-0{1 + number % 9}-1{number % 9}"
        police_rows.append(f"{given},{family},{born},,{number % 5},1,0,0,0")
        ambulance_rows.append(f"{given},{family},{born},,0,{number % 4},1,0,0")
    uploaded = {}
    for agency, rows in (("police", police_rows), ("ambulance", ambulance_rows)):
        uploaded[agency] = lists.upload_list(
            session,
            "\n".join((TEMPLATE_HEADER, *rows)) + "\n",
            team=team,
            agency=agency,
            month=month,
            by=mentor,
            channel="web",
        )
    entry = uploaded["police"].entries[1]
    case = workflow.open_case(session, entry.id, by=mentor, channel="web")
    meeting = meetings.record_meeting(
        session,
        team,
        held_on=month + dt.timedelta(days=19),
        attendees=[("DS Example", "police"), ("Dr Example", "mental_health")],
        by=mentor,
        channel="web",
    )
    meetings.record_discussion(
        session,
        meeting,
        case,
        answers=dict.fromkeys(meetings.DEFAULT_QUESTIONS, "yes"),
        decision="allocate",
        reasons="Frequent conveyances; the person's view has been sought.",
        next_review=month + dt.timedelta(days=47),
        by=mentor,
        channel="web",
    )
    workflow.allocate(
        session,
        case,
        clinician_mentor_id=mentor.id,
        police_mentor_id=police.id,
        lead_clinician_id=lead.id,
        by=mentor,
        channel="web",
    )
    workflow.record_consent(
        session, case, "invited", person_words=None, by=mentor, channel="web"
    )
    workflow.record_consent(
        session,
        case,
        "accepted",
        person_words="I will try it.",
        by=mentor,
        channel="web",
    )
    users = {"mentor": mentor}
    query = f"team={HIU}"
    pages: Pages = {
        "caseload": ("mentor", "/cases/"),
        "lists": ("mentor", f"/cases/lists?{query}"),
        "matches": ("mentor", f"/cases/matches?{query}"),
        "ranking": ("mentor", f"/cases/ranking?{query}&month={month:%Y-%m}"),
        "case": ("mentor", f"/cases/{case.id}"),
        "meetings": ("mentor", f"/cases/meetings?{query}"),
        "meeting": ("mentor", f"/cases/meetings/{meeting.id}"),
    }
    return users, pages


SETUPS: dict[str, Callable[[Any], tuple[dict[str, Any], Pages]]] = {
    "portal": portal_data,
    "cases": cases_data,
}


@contextmanager
def serve(which: str) -> Iterator[tuple[str, str, dict[str, str], Pages]]:
    """Serve the app with synthetic data; yield url, cookie name, cookies, pages."""
    from responder.cards import current_keys

    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(folder)
        secret = str(app.config["SECRET_KEY"])
        with session_factory(app)() as session:
            users, pages = SETUPS[which](session)
            totps = {
                role: (user.email, confirm_totp(session, user, secret))
                for role, user in users.items()
            }
            session.commit()
        cookies = {
            role: session_cookie(app, signed_in_client(app, email, PASSWORD, totp))
            for role, (email, totp) in totps.items()
        }
        with app.app_context():
            # Load (and write) the card keys once before the threaded server
            # starts: two first requests at once race on the key file's
            # temporary name, which is per process, not per thread.
            current_keys()
        name = str(app.config["SESSION_COOKIE_NAME"])
        with serving(app) as url:
            yield url, name, cookies, pages


def main(argv: list[str] | None = None) -> int:
    """Score each page of the chosen feature and check the bars."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", choices=sorted(SETUPS), default="portal")
    parser.add_argument("--dark", action="store_true", help="score the dark theme")
    parser.add_argument("--only", nargs="*", help="score only these pages")
    args = parser.parse_args(argv)
    binary = lighthouse_binary()
    ok = True
    with serve(args.pages) as (url, name, cookies, pages):
        with tempfile.TemporaryDirectory() as folder:
            for role, value in cookies.items():
                (Path(folder) / f"{role}.headers.json").write_text(
                    json.dumps({"Cookie": f"{name}={value}"}), "utf-8"
                )
            for page_name, (role, path) in pages.items():
                if args.only and page_name not in args.only:
                    continue
                page = summarise(
                    run_lighthouse(
                        binary,
                        url + path,
                        Path(folder) / f"{role}.headers.json",
                        Path(folder) / f"{page_name}.json",
                        dark=args.dark,
                    )
                )
                landed = str(page["final_url"] or "")
                if not landed.startswith(url + path.split("?")[0]):
                    print(f"{page_name}: Lighthouse landed on {landed}, not {path}")
                    ok = False
                ok = ok and page["accessibility"] >= BAR_ACCESSIBILITY
                ok = ok and page["performance"] >= BAR_PERFORMANCE
                print(
                    f"{page_name:11} ({role:9}) "
                    f"performance {page['performance']:3d}, "
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
                    ),
                    flush=True,
                )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
