"""Who may work on a group's cases, and the audit row each case action writes.

Every case function calls `require_case_work` first: the role table
(`plans.rules`) for the channel, then the team. The operator at the CLI acts
for any team; a signed-in user only for their own teams.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from plans import audit, rules
from plans.models import User
from plans.vocabulary import AuditAction, Channel

POLICE_WORDS = ("police", "constabulary")


class CaseRefused(PermissionError):
    """The case action is not allowed to this party, on this channel or team."""


def require_case_work(
    session: Session,
    by: User | str,
    channel: Channel,
    team_id: int,
    action: rules.Action,
) -> None:
    """Refuse unless the table allows `action` here and `by` works for the team."""
    if isinstance(by, str):
        if not rules.allowed(rules.OPERATOR, channel, action):
            raise CaseRefused(
                f"the operator may not {action.replace('_', ' ')} on {channel}"
            )
        return
    try:
        rules.require(by, channel, action)
    except rules.NotAllowed as error:
        raise CaseRefused(str(error)) from error
    if team_id not in by.team_ids:
        raise CaseRefused("you can only work on the cases of your own group")


def is_police_mentor(user: User | str) -> bool:
    """Say whether a mentor is a police partner: they see no clinical detail.

    A police partner is a mentor account whose organisation is a police force
    (its name says "police" or "constabulary").
    """
    if isinstance(user, str):
        return False
    organisation = (user.organisation or "").casefold()
    return user.role == "mentor" and any(w in organisation for w in POLICE_WORDS)


def record(
    session: Session,
    by: User | str,
    *,
    action: AuditAction,
    channel: Channel,
    person_ref: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Write the audit row of one case action."""
    if isinstance(by, str):
        audit.record(
            session,
            action=action,
            channel=channel,
            actor=by,
            person_ref=person_ref,
            detail=detail,
        )
    else:
        audit.record_for(
            session,
            by,
            action=action,
            channel=channel,
            person_ref=person_ref,
            detail=detail,
        )
