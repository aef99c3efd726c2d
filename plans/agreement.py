"""The person's say on each version: they read a proposed version, agree or comment.

A version goes live only with the person's agreement to that version
(`plans.publish_rules`). Mentors record an agreement given in person, by phone
or letter on the desk form; the person can also give it themselves in their own
view (/me/), where the version their team proposes is shown to them. Either way
the agreement lands in the draft's `coproduction` (agreed, date, channel) and a
`PlanResponse` row keeps it, with any comment in the person's own words, against
that version alone. New words take the agreement back (`plans.drafts`).

Nothing here commits. The person's words never reach the audit log.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from plans import audit, clock
from plans.db import Base, utcnow
from plans.models import Person, PlanVersion, User
from plans.publish_rules import AGREEMENT_CHANNELS
from plans.vocabulary import AuditAction, Channel

RESPONSE_KINDS: dict[str, str] = {
    "agreed": "Agreed to this version",
    "comment": "Commented on this version",
}
COMMENT_MAX_LENGTH = 2000


class AgreementError(ValueError):
    """An agreement or comment that cannot be recorded, in words."""


class PlanResponse(Base):
    """The person's agreement to, or comment on, one version of their plan."""

    __tablename__ = "plan_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    # The person's own words: shown to their mentors, never audited.
    message: Mapped[str | None] = mapped_column(Text)
    given_on: Mapped[dt.date]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    version: Mapped[PlanVersion] = relationship()

    @property
    def kind_label(self) -> str:
        """Return what the person did, in words."""
        return RESPONSE_KINDS.get(self.kind, self.kind)

    @property
    def channel_label(self) -> str:
        """Return how the person gave it, in words."""
        return AGREEMENT_CHANNELS.get(self.channel, self.channel)


def proposed_version(session: Session, person: Person) -> PlanVersion | None:
    """Return the version the team proposes to the person: their open draft."""
    return session.scalar(
        select(PlanVersion)
        .where(PlanVersion.person_id == person.id, PlanVersion.status == "draft")
        .order_by(PlanVersion.version.desc())
        .limit(1)
    )


def _audit_channel(channel: str) -> Channel:
    return "web" if channel == "own_view" else "system"


def agree(
    session: Session,
    version: PlanVersion,
    *,
    channel: str = "own_view",
    by: User | None = None,
    today: dt.date | None = None,
    comment: str = "",
) -> PlanResponse:
    """Record the person's agreement to this draft version, dated, with its channel.

    `by` is the staff member who records an agreement given to them; None when
    the person agrees in their own view.
    """
    if version.status != "draft":
        raise AgreementError("only a proposed version can be agreed")
    if channel not in AGREEMENT_CHANNELS:
        raise AgreementError(
            f"choose how it was given: {', '.join(AGREEMENT_CHANNELS)}"
        )
    today = today or clock.today()
    comment = _clean(comment)
    document: dict[str, Any] = copy.deepcopy(version.document)
    plan = document.setdefault("plan", {})
    coproduction = dict(plan.get("coproduction") or {})
    coproduction.update(
        agreed_with_person=True, agreed_on=today.isoformat(), channel=channel
    )
    plan["coproduction"] = coproduction
    version.document = document
    version.sync_recorded_fields()
    return _respond(session, version, "agreed", channel, comment or None, today, by)


def comment_on(
    session: Session,
    version: PlanVersion,
    *,
    message: str,
    channel: str = "own_view",
    today: dt.date | None = None,
) -> PlanResponse:
    """Record the person's comment on a proposed version for their mentors."""
    if version.status != "draft":
        raise AgreementError("only a proposed version takes comments")
    message = _clean(message)
    if not message:
        raise AgreementError("please write what you would like to change or ask")
    return _respond(
        session, version, "comment", channel, message, today or clock.today(), None
    )


def _clean(text: str) -> str:
    text = (text or "").strip()
    if len(text) > COMMENT_MAX_LENGTH:
        raise AgreementError(f"please keep it under {COMMENT_MAX_LENGTH} characters")
    if any(
        (ord(char) < 0x20 and char not in "\t\n\r") or 0xD800 <= ord(char) <= 0xDFFF
        for char in text
    ):
        raise AgreementError("please write it again in plain text")
    return text


def _respond(
    session: Session,
    version: PlanVersion,
    kind: str,
    channel: str,
    message: str | None,
    today: dt.date,
    by: User | None,
) -> PlanResponse:
    response = PlanResponse(
        plan_version_id=version.id,
        person_id=version.person_id,
        kind=kind,
        channel=channel,
        message=message,
        given_on=today,
        recorded_by_id=by.id if by is not None else None,
    )
    session.add(response)
    session.flush()
    detail = {"version": version.version, "method": channel}
    action: AuditAction = "person_agreed" if kind == "agreed" else "person_commented"
    if by is not None:
        audit.record_for(
            session,
            by,
            action=action,
            channel=_audit_channel(channel),
            person_ref=version.person.ref,
            plan_version_id=version.id,
            detail=detail,
        )
    else:
        audit.record(
            session,
            action=action,
            channel="web",
            actor="person",
            person_ref=version.person.ref,
            plan_version_id=version.id,
            detail=detail,
        )
    return response


def responses_for(session: Session, version: PlanVersion) -> list[PlanResponse]:
    """Return the person's agreements and comments on this version, oldest first."""
    return list(
        session.scalars(
            select(PlanResponse)
            .where(PlanResponse.plan_version_id == version.id)
            .order_by(PlanResponse.created_at, PlanResponse.id)
        )
    )
