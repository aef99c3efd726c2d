"""The network directory ("who covers here?") and teams' behaviour experience."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import audit, rules
from plans import document as plan_document
from plans.clock import now
from plans.models import Person, PlanVersion, Team, User
from plans.portal.demand import DemandError, require_team_member
from plans.portal.harms import suppressed
from plans.portal.models import TeamProfile
from plans.search.text import concept_label, fold, text_features
from plans.vocabulary import Channel

MAX_LIST = 60
MAX_ITEM = 120


@dataclass(frozen=True)
class DirectoryEntry:
    """A team as the directory shows it."""

    team: Team
    profile: TeamProfile | None

    @property
    def towns(self) -> list[str]:
        """Return the towns and places the team covers."""
        return list(self.profile.towns) if self.profile else []


def split_list(text: str) -> list[str]:
    """Read one item per line (or comma-separated), trimmed, blanks dropped."""
    items: list[str] = []
    for line in (text or "").replace(",", "\n").splitlines():
        item = " ".join(line.split())
        if item:
            if len(item) > MAX_ITEM:
                raise DemandError(f"{item[:30]!r}... is over {MAX_ITEM} characters")
            items.append(item)
    if len(items) > MAX_LIST:
        raise DemandError(f"at most {MAX_LIST} items in a list")
    return items


def update_profile(
    session: Session,
    team: Team,
    *,
    by: User,
    police_force_area: str,
    icb: str,
    towns: str,
    member_agencies: str,
    mentors: str,
    declared_experience: str,
    channel: Channel = "web",
) -> TeamProfile:
    """Update the team's directory entry (its own members only)."""
    rules.require(by, channel, "assess_team")
    require_team_member(by, team.id)
    profile = session.get(TeamProfile, team.id)
    if profile is None:
        profile = TeamProfile(team_id=team.id)
        session.add(profile)
    profile.police_force_area = police_force_area.strip()[:120] or None
    profile.icb = icb.strip()[:160] or None
    profile.towns = split_list(towns)
    profile.member_agencies = split_list(member_agencies)
    profile.mentors = split_list(mentors)
    profile.declared_experience = split_list(declared_experience)
    profile.updated_at = now()
    audit.record_for(
        session,
        by,
        action="directory_updated",
        channel=channel,
        detail={"team": team.code},
    )
    return profile


def directory(
    session: Session, *, user: User, place: str = "", channel: Channel = "web"
) -> list[DirectoryEntry]:
    """List every team, or those covering a town or place when one is given."""
    rules.require(user, channel, "read_network")
    wanted = fold(place).strip()
    entries = []
    for team, profile in session.execute(
        select(Team, TeamProfile)
        .outerjoin(TeamProfile, TeamProfile.team_id == Team.id)
        .order_by(Team.name)
    ):
        if wanted:
            haystack = [team.name, team.code]
            if profile is not None:
                haystack += [
                    *profile.towns,
                    profile.police_force_area or "",
                    profile.icb or "",
                ]
            if not any(wanted in fold(text) for text in haystack):
                continue
        entries.append(DirectoryEntry(team, profile))
    return entries


@dataclass(frozen=True)
class Experience:
    """A team's experience of a behaviour: its plans (suppressed) and its word."""

    team: str
    plans: str
    declared: bool
    sort_key: int


def behaviour_experience(
    session: Session, text: str, *, user: User, channel: Channel = "web"
) -> tuple[list[str], list[Experience]]:
    """Find the teams with experience of a crisis behaviour, never naming a person.

    Words are read with search's vocabulary of behaviour concepts (so "jumping
    from a bridge" finds plans that say "threatens to jump off the viaduct"
    when the vocabulary links them); counts of plans under five are shown as "<5".
    """
    rules.require(user, channel, "read_network")
    wanted = text_features((text or "")[:200])
    if not wanted.stems:
        raise DemandError("describe the behaviour in a few words")

    def matches(words: str) -> bool:
        found = text_features(words)
        if wanted.concepts:
            return wanted.concepts <= found.concepts
        return wanted.stems <= found.stems

    counts: dict[int, int] = {}
    for team_id, document in session.execute(
        select(Person.team_id, PlanVersion.document)
        .join(PlanVersion, PlanVersion.person_id == Person.id)
        .where(PlanVersion.status == "live")
    ):
        if any(
            matches(f"{b.description}. {b.triggers or ''}")
            for b in plan_document.behaviours(document)
        ):
            counts[team_id] = counts.get(team_id, 0) + 1
    declared: set[int] = set()
    for profile in session.scalars(select(TeamProfile)):
        if any(matches(item) for item in profile.declared_experience):
            declared.add(profile.team_id)
    teams = {t.id: t for t in session.scalars(select(Team))}
    found = [
        Experience(
            teams[i].name, suppressed(counts.get(i, 0)), i in declared, counts.get(i, 0)
        )
        for i in set(counts) | declared
        if i in teams
    ]
    found.sort(key=lambda e: (-e.sort_key, not e.declared, e.team))
    labels = sorted(concept_label(c) for c in wanted.concepts) or sorted(wanted.stems)
    return labels, found
