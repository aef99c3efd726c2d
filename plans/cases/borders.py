"""Across borders: whether a name on one group's list is known to another group.

The asking group names a row of its own list and the group it asks. The other
group learns of the question (the name and date of birth asked about, nothing
else), a person there confirms or rules out a match among its own rows, and the
answer is a contact to call, never the person's details. Every question and
answer is audited (Guide s.18-19).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from plans import clock
from plans.cases import guard, linking, matching
from plans.cases.models import BorderQuestion, ListEntry
from plans.models import Team, User
from plans.vocabulary import Channel


class BorderError(ValueError):
    """A question or answer that cannot be recorded as given."""


def ask(
    session: Session,
    entry_id: int,
    *,
    to_team: Team,
    by: User | str,
    channel: Channel,
) -> BorderQuestion:
    """Ask another group whether a row of our list is known to them."""
    entry = guard.get_for_case_work(
        session,
        ListEntry,
        entry_id,
        by=by,
        channel=channel,
        team_of=lambda entry: entry.agency_list.team_id,
        what="list row",
    )
    from_team_id = entry.agency_list.team_id
    if to_team.id == from_team_id:
        raise BorderError("ask another group, not your own")
    open_question = session.scalar(
        select(BorderQuestion.id).where(
            BorderQuestion.entry_id == entry.id,
            BorderQuestion.to_team_id == to_team.id,
            BorderQuestion.status == "asked",
        )
    )
    if open_question is not None:
        raise BorderError("that group has this question already")
    question = BorderQuestion(
        from_team_id=from_team_id,
        to_team_id=to_team.id,
        entry_id=entry.id,
        asked_by_id=by.id if isinstance(by, User) else None,
    )
    session.add(question)
    session.flush()
    guard.record(
        session,
        by,
        action="case_border_asked",
        channel=channel,
        detail={"question_id": question.id, "team": to_team.code},
    )
    return question


@dataclass(frozen=True)
class Candidate:
    """A row of the asked group's lists that may be the person asked about."""

    entry: ListEntry
    reasons: tuple[str, ...]


def incoming(
    session: Session, team: Team, *, by: User | str, channel: Channel
) -> list[BorderQuestion]:
    """Return the questions other groups have asked this group, open first."""
    guard.require_case_work(session, by, channel, team.id, "manage_cases")
    return list(
        session.scalars(
            select(BorderQuestion)
            .where(BorderQuestion.to_team_id == team.id)
            .options(
                joinedload(BorderQuestion.entry), joinedload(BorderQuestion.from_team)
            )
            .order_by(BorderQuestion.status != "asked", BorderQuestion.id.desc())
        )
    )


def outgoing(
    session: Session, team: Team, *, by: User | str, channel: Channel
) -> list[BorderQuestion]:
    """Return the questions this group has asked, with their answers."""
    guard.require_case_work(session, by, channel, team.id, "manage_cases")
    return list(
        session.scalars(
            select(BorderQuestion)
            .where(BorderQuestion.from_team_id == team.id)
            .options(
                joinedload(BorderQuestion.entry), joinedload(BorderQuestion.to_team)
            )
            .order_by(BorderQuestion.id.desc())
        )
    )


def _question_for_answerer(
    session: Session, question_id: int, by: User | str, channel: Channel
) -> BorderQuestion:
    return guard.get_for_case_work(
        session,
        BorderQuestion,
        question_id,
        by=by,
        channel=channel,
        team_of=lambda question: question.to_team_id,
        what="question",
        hide="always",
    )


def candidates(
    session: Session, question_id: int, *, by: User | str, channel: Channel
) -> list[Candidate]:
    """Return the asked group's rows that may be the person, for a person to check."""
    question = _question_for_answerer(session, question_id, by, channel)
    asked = question.entry
    probe = matching.Row(
        -1,
        asked.given_name,
        asked.family_name,
        asked.date_of_birth,
        asked.nhs_number,
        "asked",
    )
    rows = {e.id: e for e in linking.team_entries(session, question.to_team_id)}
    found = matching.propose(
        [probe],
        [
            matching.Row(
                e.id, e.given_name, e.family_name, e.date_of_birth, e.nhs_number, "ours"
            )
            for e in rows.values()
        ],
    )
    found.sort(key=lambda p: -p.score)
    return [Candidate(rows[p.other_key], p.reasons) for p in found]


def answer(
    session: Session,
    question_id: int,
    *,
    confirmed_entry_id: int | None,
    contact: str | None,
    by: User | str,
    channel: Channel,
) -> BorderQuestion:
    """Answer a question: a contact once a person confirmed a match, else not known.

    The asking group sees only the contact given here, never the row confirmed.
    """
    question = _question_for_answerer(session, question_id, by, channel)
    if question.status != "asked":
        raise BorderError("this question has been answered")
    status, text = "not_known", None
    if confirmed_entry_id is not None:
        entry = session.get(ListEntry, confirmed_entry_id)
        if entry is None or entry.agency_list.team_id != question.to_team_id:
            raise BorderError("confirm a row of your own group's lists")
        text = " ".join((contact or "").split())
        if not text:
            raise BorderError("give a contact the other group can call")
        if len(text) > 300:
            raise BorderError("keep the contact under 300 characters")
        status = "known"
    # Answered once: the update only lands while the question is still open, so
    # two people answering at the same moment cannot both answer.
    result = session.execute(
        update(BorderQuestion)
        .where(BorderQuestion.id == question.id, BorderQuestion.status == "asked")
        .values(
            status=status,
            contact=text,
            answered_at=clock.now(),
            answered_by_id=by.id if isinstance(by, User) else None,
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(question)
    if not result.rowcount:  # type: ignore[attr-defined]
        raise BorderError("this question has been answered")
    guard.record(
        session,
        by,
        action="case_border_answered",
        channel=channel,
        detail={"question_id": question.id, "outcome": question.status},
    )
    return question
