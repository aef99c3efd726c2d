"""Self-assessment at six-monthly support visits: 11 measures, history, chart.

The measures are the areas of the Operational Guide's sections; a deployment
may change the wording or the list here (codes key the stored scores, so keep a
code once it has been used). Scores run 0 (not in place) to 4 (embedded).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import audit, rules
from plans.clock import today
from plans.models import Team, User
from plans.portal import charts
from plans.portal.demand import DemandError, require_team_member
from plans.portal.models import SelfAssessment
from plans.vocabulary import Channel

TOP_SCORE = 4
SCORE_LABELS = {
    0: "Not in place",
    1: "Planned",
    2: "Partly in place",
    3: "In place",
    4: "Embedded and reviewed",
}
EVIDENCE_MAX = 1000
NOTE_MAX = 4000


@dataclass(frozen=True)
class Measure:
    """One area a team scores itself on."""

    code: str
    label: str


MEASURES: tuple[Measure, ...] = (
    Measure("identification", "Identifying the people to support"),
    Measure("partnership", "Partnership across police, health and others"),
    Measure("mentoring", "Mentoring and the person's relationship with the team"),
    Measure("response_plans", "Co-produced crisis response plans"),
    Measure("information_sharing", "Lawful information sharing"),
    Measure("data_collection", "Monthly demand data collection"),
    Measure("clinical_governance", "Clinical governance and supervision"),
    Measure("safeguarding", "Safeguarding and harm review"),
    Measure("training", "Training of the team and responders"),
    Measure("exit", "Planned exit and step-down"),
    Measure("lived_experience", "Involving people with lived experience"),
)
MEASURES_BY_CODE = {m.code: m for m in MEASURES}


def save_assessment(
    session: Session,
    team: Team,
    *,
    by: User,
    visited_on: dt.date,
    scores: dict[str, tuple[str, str]],
    worked_well: str = "",
    still_hard: str = "",
    learn_from: str = "",
    channel: Channel = "web",
) -> SelfAssessment:
    """Record one visit's scores (with evidence notes) for every measure."""
    rules.require(by, channel, "assess_team")
    require_team_member(by, team.id)
    if visited_on > today():
        raise DemandError("the visit date has not happened yet")
    clean: dict[str, dict[str, object]] = {}
    for measure in MEASURES:
        raw, evidence = scores.get(measure.code, ("", ""))
        if not str(raw).strip().isdigit() or int(raw) > TOP_SCORE:
            raise DemandError(f"score '{measure.label}' from 0 to {TOP_SCORE}")
        evidence = (evidence or "").strip()
        if len(evidence) > EVIDENCE_MAX:
            raise DemandError(f"evidence for '{measure.label}' is too long")
        clean[measure.code] = {"score": int(raw), "evidence": evidence}
    for name, value in (
        ("worked well", worked_well),
        ("still hard", still_hard),
        ("learn from", learn_from),
    ):
        if len(value or "") > NOTE_MAX:
            raise DemandError(f"the '{name}' note is too long")
    row = SelfAssessment(
        team_id=team.id,
        visited_on=visited_on,
        scores=clean,
        worked_well=worked_well.strip() or None,
        still_hard=still_hard.strip() or None,
        learn_from=learn_from.strip() or None,
        recorded_by_id=by.id,
    )
    session.add(row)
    audit.record_for(
        session,
        by,
        action="self_assessment_saved",
        channel=channel,
        detail={"team": team.code},
    )
    return row


def history(
    session: Session, team: Team, *, user: User, channel: Channel = "web"
) -> list[SelfAssessment]:
    """Return the team's visits, newest first (its own members only)."""
    rules.require(user, channel, "assess_team")
    require_team_member(user, team.id)
    return list(
        session.scalars(
            select(SelfAssessment)
            .where(SelfAssessment.team_id == team.id)
            .order_by(SelfAssessment.visited_on.desc(), SelfAssessment.id.desc())
        )
    )


def visit(
    session: Session, assessment_id: int, *, user: User, channel: Channel = "web"
) -> SelfAssessment | None:
    """Return one visit's record for a member of its team (None when there is none)."""
    rules.require(user, channel, "assess_team")
    row = session.get(SelfAssessment, assessment_id)
    if row is not None:
        require_team_member(user, row.team_id)
    return row


def score_of(row: SelfAssessment, code: str) -> int:
    """Return a visit's score for one measure (0 when a later measure is missing)."""
    return int((row.scores.get(code) or {}).get("score", 0))


def chart(row: SelfAssessment) -> charts.Chart:
    """Draw one visit's scores."""
    return charts.score_bars(
        f"Self-assessment, {row.visited_on:%d %b %Y}",
        [m.label for m in MEASURES],
        [score_of(row, m.code) for m in MEASURES],
        TOP_SCORE,
    )
