"""Who may work on a group's cases, and the audit row each case action writes.

Every case function calls `require_case_work` first: the role table
(`plans.rules`) for the channel, then the team. The operator at the CLI acts
for any team; a signed-in user only for their own teams.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

from sqlalchemy.orm import Session

from plans import audit, rules
from plans.models import User
from plans.vocabulary import AuditAction, Channel

POLICE_WORDS = ("police", "constabulary")

T = TypeVar("T")


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


def get_for_case_work(
    session: Session,
    model: type[T],
    key: int,
    *,
    by: User | str,
    channel: Channel,
    team_of: Callable[[T], int],
    what: str,
    hide: Literal["never", "outsiders", "always"] = "never",
) -> T:
    """Return a row `by` may do case work on; LookupError if there is no such row.

    `hide` turns a refusal into the same LookupError, so a caller learns nothing
    of another group's rows: "always", or only for a user outside the row's
    group ("outsiders"), who is otherwise told which rule refused them.
    """
    row = session.get(model, key)
    if row is None:
        raise LookupError(f"no such {what}")
    team_id = team_of(row)
    try:
        require_case_work(session, by, channel, team_id, "manage_cases")
    except CaseRefused as error:
        outsider = isinstance(by, User) and team_id not in by.team_ids
        if hide == "always" or (hide == "outsiders" and outsider):
            raise LookupError(f"no such {what}") from error
        raise
    return row


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
