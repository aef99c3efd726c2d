"""Putting names together: proposals stored for a person to confirm or reject.

Nothing is ever merged automatically. Confirmed proposals join rows into one
person (connected rows, across agencies and months); a new row is proposed
against each such person once, through the best-matching row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from plans import clock
from plans.cases import guard, matching
from plans.cases.models import AgencyList, ListEntry, MatchProposal
from plans.models import User
from plans.vocabulary import Channel

# Rows further apart than this are not compared (a year either way).
WINDOW_DAYS = 366


def _row(entry: ListEntry) -> matching.Row:
    return matching.Row(
        key=entry.id,
        given_name=entry.given_name,
        family_name=entry.family_name,
        date_of_birth=entry.date_of_birth,
        nhs_number=entry.nhs_number,
        group=str(entry.list_id),
    )


def team_entries(
    session: Session, team_id: int, *, around: dt.date | None = None
) -> list[ListEntry]:
    """Return the group's list rows (within a year of `around`, if given)."""
    query = (
        select(ListEntry)
        .join(AgencyList)
        .where(AgencyList.team_id == team_id)
        .options(joinedload(ListEntry.agency_list))
        .order_by(ListEntry.id)
    )
    if around is not None:
        window = dt.timedelta(days=WINDOW_DAYS)
        query = query.where(
            AgencyList.month >= around - window, AgencyList.month <= around + window
        )
    return list(session.scalars(query))


class People:
    """Union-find over confirmed proposals: which rows are one person."""

    def __init__(self, pairs: Iterable[tuple[int, int]]) -> None:
        self._parent: dict[int, int] = {}
        for a, b in pairs:
            self._parent[self.find(a)] = self.find(b)

    def find(self, key: int) -> int:
        """Return the representative row of the person `key` belongs to."""
        root = key
        while self._parent.get(root, root) != root:
            root = self._parent[root]
        while key != root:
            key, self._parent[key] = self._parent.get(key, key), root
        return root


def confirmed_people(session: Session, team_id: int) -> People:
    """Return the group's rows joined by every confirmed proposal."""
    pairs = session.execute(
        select(MatchProposal.entry_id, MatchProposal.other_entry_id).where(
            MatchProposal.team_id == team_id, MatchProposal.status == "confirmed"
        )
    ).all()
    return People((a, b) for a, b in pairs)


def propose_for_list(session: Session, agency_list: AgencyList) -> int:
    """Store proposals for a new list's rows; return how many were proposed."""
    entries = team_entries(session, agency_list.team_id, around=agency_list.month)
    new = [_row(e) for e in entries if e.list_id == agency_list.id]
    old = [_row(e) for e in entries if e.list_id != agency_list.id]
    people = confirmed_people(session, agency_list.team_id)
    best: dict[tuple[int, int], matching.Proposal] = {}
    for proposal in matching.propose(new, old):
        # One proposal per new row and known person, through its best row.
        other = (
            proposal.other_key
            if proposal.key in {row.key for row in new}
            else proposal.key
        )
        mine = proposal.key if other == proposal.other_key else proposal.other_key
        slot = (mine, people.find(other))
        if slot not in best or proposal.score > best[slot].score:
            best[slot] = matching.Proposal(
                mine, other, proposal.score, proposal.reasons
            )
    for proposal in best.values():
        session.add(
            MatchProposal(
                team_id=agency_list.team_id,
                entry_id=proposal.key,
                other_entry_id=proposal.other_key,
                score=proposal.score,
                reasons=list(proposal.reasons),
            )
        )
    session.flush()
    return len(best)


@dataclass(frozen=True)
class Decision:
    """What became of a proposal."""

    proposal: MatchProposal
    changed: bool


def pending(
    session: Session, team_id: int, *, by: User | str, channel: Channel
) -> list[MatchProposal]:
    """Return the group's proposals waiting for a person, best first."""
    guard.require_case_work(session, by, channel, team_id, "manage_cases")
    return list(
        session.scalars(
            select(MatchProposal)
            .where(MatchProposal.team_id == team_id, MatchProposal.status == "proposed")
            .options(
                joinedload(MatchProposal.entry).joinedload(ListEntry.agency_list),
                joinedload(MatchProposal.other_entry).joinedload(ListEntry.agency_list),
            )
            .order_by(MatchProposal.score.desc(), MatchProposal.id)
        )
    )


def decide(
    session: Session,
    proposal_id: int,
    *,
    confirm: bool,
    by: User | str,
    channel: Channel,
) -> Decision:
    """Confirm or reject one proposal; a proposal already decided stays as it is.

    The row is locked and updated only while still proposed, so two people
    deciding at once cannot both count.
    """
    proposal = guard.get_for_case_work(
        session,
        MatchProposal,
        proposal_id,
        by=by,
        channel=channel,
        team_of=lambda proposal: proposal.team_id,
        what="proposal",
    )
    status = "confirmed" if confirm else "rejected"
    result = session.execute(
        update(MatchProposal)
        .where(MatchProposal.id == proposal_id, MatchProposal.status == "proposed")
        .values(
            status=status,
            decided_at=clock.now(),
            decided_by_id=by.id if isinstance(by, User) else None,
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(proposal)
    changed = bool(result.rowcount)  # type: ignore[attr-defined]
    if changed:
        guard.record(
            session,
            by,
            action="case_match_decided",
            channel=channel,
            detail={"outcome": status, "count": 1},
        )
    return Decision(proposal, changed)


def rows_of_person(session: Session, team_id: int, entry_id: int) -> list[ListEntry]:
    """Return every row confirmed to be the same person as `entry_id`."""
    people = confirmed_people(session, team_id)
    root = people.find(entry_id)
    return [e for e in team_entries(session, team_id) if people.find(e.id) == root]


def pending_count(session: Session, team_id: int) -> int:
    """Return how many proposals of the group wait for a person."""
    return (
        session.scalar(
            select(func.count())
            .select_from(MatchProposal)
            .where(MatchProposal.team_id == team_id, MatchProposal.status == "proposed")
        )
        or 0
    )
