"""Reminding mentors, on their chats, that a plan's review falls due.

The desk lists the plans to review (`plans.drafts.review_reminders`) from
`PublishRules.reminder_days` before the review date; a scheduled job
(`responder reviews remind`, daily from cron) also tells the team's mentors and
lead clinicians on their linked chats: once when the review date is that many
days ahead ("review_soon") and once on the day ("review_due").

Days the job did not run are caught up the next time it does, for up to
`CATCH_UP` (28 days) after each moment: a review date inside the window that was
never announced gets its "review_soon", one that has come or passed its
"review_due". Each message's outbox key names the version, the kind and the chat,
so nothing is ever sent twice, even when two hosts run the job at the same
moment (`notify.enqueue_new`). A plan long past its review when the job first
runs is not announced (the desk lists it).

Messages carry what other staff notifications carry, less: the plan's reference,
its version and the review date; the words and the desk's link are written at
send time by bots/.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import audit, clock, notify
from plans.chat import ChatLink
from plans.models import Person, PlanVersion, TeamMembership, User
from plans.publish_rules import DEFAULT_RULES, PublishRules
from plans.rules import MENTORS

SOON = "review_soon"
DUE = "review_due"
# How long after its moment a reminder is still sent, when the job missed days.
# The outbox key is what stops a second message, and `notify.purge` deletes sent
# rows after `notify.KEEP_DONE`: catching up for longer would send a reminder
# again once its row was gone. Two days' margin for time zones and late drains.
CATCH_UP = notify.KEEP_DONE - dt.timedelta(days=2)


@dataclass(frozen=True)
class RemindersQueued:
    """How many reminder messages one run queued, by kind."""

    soon: int = 0
    due: int = 0

    @property
    def total(self) -> int:
        """Return the number of messages queued."""
        return self.soon + self.due


def reminder_key(version_id: int, kind: str, link_id: int) -> str:
    """Return the outbox key of one reminder: one per version, kind and chat."""
    return f"review:{version_id}:{kind}:{link_id}"


def _mentor_chats(session: Session, team_ids: set[int]) -> dict[int, list[ChatLink]]:
    """Return each team's mentors' and lead clinicians' linked chats, by team id."""
    chats: dict[int, list[ChatLink]] = defaultdict(list)
    if not team_ids:
        return chats
    rows = session.execute(
        select(TeamMembership.team_id, ChatLink)
        .join(User, User.id == TeamMembership.user_id)
        .join(ChatLink, ChatLink.user_id == User.id)
        .where(
            TeamMembership.team_id.in_(sorted(team_ids)),
            User.role.in_(sorted(MENTORS)),
            User.active.is_(True),
            ChatLink.unlinked_at.is_(None),
        )
        .order_by(ChatLink.id)
    )
    for team_id, link in rows:
        chats[team_id].append(link)
    return chats


def queue_review_reminders(
    session: Session,
    *,
    today: dt.date | None = None,
    rules: PublishRules = DEFAULT_RULES,
) -> RemindersQueued:
    """Queue the review reminders due by `today` that no run has queued yet.

    One message per live version, kind and mentor's chat: "review_soon" for a
    review date within `rules.reminder_days` ahead, "review_due" for one today
    or past, each for `CATCH_UP` after its moment. Safe to run again, or at the
    same moment elsewhere (the caller commits).
    """
    today = today or clock.today()
    horizon = today + dt.timedelta(days=rules.reminder_days)
    # Announced "soon" from `horizon` until CATCH_UP later; "due" likewise.
    soon_from = max(today, horizon - CATCH_UP)
    due_from = today - CATCH_UP
    plans = session.execute(
        select(PlanVersion.id, PlanVersion.version, PlanVersion.review_by, Person)
        .join(Person, PlanVersion.person_id == Person.id)
        .where(
            PlanVersion.status == "live",
            PlanVersion.review_by.is_not(None),
            PlanVersion.review_by <= horizon,
            PlanVersion.review_by > due_from,
        )
        .order_by(PlanVersion.id)
    ).all()
    chats = _mentor_chats(session, {person.team_id for *_, person in plans})
    messages: list[notify.Message] = []
    for version_id, number, review_by, person in plans:
        if review_by is None:  # the query asked for dates; mypy cannot know
            continue
        if today < review_by <= soon_from:
            continue  # announced "soon" already, or too late to: "due" will come
        kind = DUE if review_by <= today else SOON
        params = {
            "ref": person.ref,
            "version": number,
            "review_by": review_by.isoformat(),
        }
        for link in chats.get(person.team_id, []):
            messages.append(
                notify.Message(
                    key=reminder_key(version_id, kind, link.id),
                    kind=kind,
                    link=link,
                    params=params,
                )
            )
    inserted = notify.enqueue_new(session, messages, now=clock.now())
    kinds = [key.split(":")[2] for key in inserted]
    queued = RemindersQueued(soon=kinds.count(SOON), due=kinds.count(DUE))
    if queued.total:
        # Counts only: who is reminded of whose plan is in the outbox itself.
        audit.record(
            session,
            action="review_reminders_queued",
            channel="system",
            actor="system",
            detail={"count": queued.total, "soon": queued.soon, "due": queued.due},
        )
    session.flush()
    return queued
