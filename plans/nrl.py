"""National Record Locator pointers: "a crisis plan exists; call this team".

When a plan with an NHS number and a recorded lawful basis for sharing goes live,
a pointer (a FHIR R4 DocumentReference of type SNOMED CT 736253002 "Mental health
crisis plan", format `urn:nhs-ic:record-contact`) is created at the NRL, or the
one before it superseded; when the plan is retired or withdrawn it is deleted.
An ambulance crew's system finds the pointer by NHS number and reads whom to
call: the team's name, its ODS code and phone, and nothing of the plan.

Like `plans.notify`, a message is queued in the transaction that makes the
change (an `on_live_change` subscriber, wired in `plans.wiring`), and a job
drains the queue under a lease, with the same back-off (`notify.backoff`). The
queue is a sibling of the notification outbox because its rows address a
national service, not a chat.
Only the newest change of a person matters: queueing one cancels the person's
older pending messages, and a person's messages are never in flight at once.

Nothing is queued unless the session says NRL is on (`SESSION_FLAG` in
`Session.info`, set by the app's session factory when NRL is configured), and
nothing is ever sent for a plan without an NHS number or a lawful basis: both
are checked when the message is queued and again when it is sent.

This module builds requests and records outcomes; it does no IO. The caller
passes a `Transport` that sends one request (responder.nrl over HTTPS).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy import ForeignKey, Index, Integer, String, and_, exists, func, select
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column, relationship

from plans import audit, notify
from plans.db import Base, chunks, dialect_name, utcnow
from plans.models import SHARING_BASES, Person, PlanVersion
from plans.notify import LEASE
from plans.vocabulary import AuditAction

SESSION_FLAG = "nrl_pointers"

SNOMED = "http://snomed.info/sct"
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
FORMAT_SYSTEM = "https://fhir.nhs.uk/England/CodeSystem/England-NRLFormatCode"
FORMAT_CODE = "urn:nhs-ic:record-contact"
STABILITY_URL = (
    "https://fhir.nhs.uk/England/StructureDefinition/Extension-England-ContentStability"
)
STABILITY_SYSTEM = "https://fhir.nhs.uk/England/CodeSystem/England-NRLContentStability"
TYPE_CODE = ("736253002", "Mental health crisis plan")
CATEGORY_CODE = ("734163000", "Care plan")
ASSERTION_LIFETIME = dt.timedelta(minutes=5)  # NHS England's ceiling for exp

Action = Literal["publish", "delete"]
STATUSES: tuple[str, ...] = (
    "pending",
    "sending",
    "sent",
    "failed",
    "refused",
    "cancelled",
)
# Answers worth trying again: the service or a proxy was unwell, or busy.
RETRYABLE = frozenset({408, 425, 429})


class NrlMessage(Base):
    """One change of a person's pointer, waiting to be sent or already sent."""

    __tablename__ = "nrl_outbox"
    __table_args__ = (Index("ix_nrl_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    action: Mapped[str] = mapped_column(String(12))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("plan_versions.id"))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[dt.datetime | None]
    # An error's class name or the HTTP status: NRL answers can echo the body.
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]

    person: Mapped[Person] = relationship()


class NrlPointer(Base):
    """The pointer the NRL holds for a person now, as it last answered."""

    __tablename__ = "nrl_pointers"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    pointer_id: Mapped[str] = mapped_column(String(200))
    nhs_number: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class PointerSettings:
    """Who the pointers name as custodian, and where contact details are published."""

    ods_code: str
    contact_url: str  # `{team}` becomes the team's code


@dataclass(frozen=True)
class NrlRequest:
    """One request to the NRL producer API, relative to its base URL."""

    method: Literal["POST", "DELETE"]
    path: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NrlResponse:
    """What the NRL answered: the status and, for a create, the pointer's id."""

    status: int
    pointer_id: str | None = None


Transport = Callable[[NrlRequest], NrlResponse]


# -- the pointer -------------------------------------------------------------------


def may_point(person: Person, version: PlanVersion | None) -> bool:
    """Say whether a pointer may exist for this live version (number and basis)."""
    return (
        version is not None
        and version.status == "live"
        and bool(person.nhs_number)
        and version.sharing_basis in SHARING_BASES
    )


def pointer_document(
    *,
    nhs_number: str,
    ods_code: str,
    team_name: str,
    team_phone: str | None,
    contact_url: str,
    created: dt.datetime,
    replaces: str | None = None,
) -> dict[str, Any]:
    """Return the DocumentReference: who holds a crisis plan and whom to call.

    Built from the NHS number and the team only, so no words of the plan can
    reach it.
    """
    organisation = {
        "identifier": {"system": ODS_SYSTEM, "value": ods_code},
        "display": team_name,
    }
    title = f"Mental health crisis plan held by {team_name}"
    if team_phone:
        title += f": call {team_phone}"
    document: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {
            "coding": [
                {"system": SNOMED, "code": TYPE_CODE[0], "display": TYPE_CODE[1]}
            ]
        },
        "category": [
            {
                "coding": [
                    {
                        "system": SNOMED,
                        "code": CATEGORY_CODE[0],
                        "display": CATEGORY_CODE[1],
                    }
                ]
            }
        ],
        "subject": {"identifier": {"system": NHS_NUMBER_SYSTEM, "value": nhs_number}},
        "custodian": organisation,
        "author": [organisation],
        "date": created.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "content": [
            {
                "attachment": {
                    "contentType": "text/html",
                    "url": contact_url,
                    "title": title,
                    "creation": created.astimezone(dt.UTC).date().isoformat(),
                },
                "format": {
                    "system": FORMAT_SYSTEM,
                    "code": FORMAT_CODE,
                    "display": "Contact details (HTTP Unsecured)",
                },
                "extension": [
                    {
                        "url": STABILITY_URL,
                        "valueCodeableConcept": {
                            "coding": [
                                {
                                    "system": STABILITY_SYSTEM,
                                    "code": "static",
                                    "display": "Static",
                                }
                            ]
                        },
                    }
                ],
            }
        ],
    }
    if replaces:
        document["relatesTo"] = [
            {"code": "replaces", "target": {"identifier": {"value": replaces}}}
        ]
    return document


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def client_assertion(
    private_key: RSAPrivateKey,
    *,
    api_key: str,
    kid: str,
    token_url: str,
    jti: str,
    now: dt.datetime,
) -> str:
    """Sign the RS512 JWT an application-restricted NHS API takes as assertion."""
    header = {"alg": "RS512", "typ": "JWT", "kid": kid}
    claims = {
        "iss": api_key,
        "sub": api_key,
        "aud": token_url,
        "jti": jti,
        "exp": int((now + ASSERTION_LIFETIME).timestamp()),
    }
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode())
        for part in (header, claims)
    )
    signature = private_key.sign(
        signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA512()
    )
    return f"{signing_input}.{_b64(signature)}"


# -- queueing ----------------------------------------------------------------------


def queue_change(
    session: Session, person: Person, event: str, *, now: dt.datetime | None = None
) -> NrlMessage | None:
    """Queue the pointer change a live-plan event calls for, if any (caller commits).

    A live version that may be pointed at is published (created or superseded);
    anything else deletes the pointer the person may have. A person who never had
    a pointer queued gets nothing.
    """
    queued = queue_changes(session, [(person, event)], now=now)
    return queued[0] if queued else None


def queue_changes(
    session: Session,
    changes: Sequence[tuple[Person, str]],
    *,
    now: dt.datetime | None = None,
) -> list[NrlMessage]:
    """Queue the pointer changes of many live-plan events in a few statements.

    A bulk import hears thousands of changes at once; the state they depend on
    (live versions, pointers held, messages waiting) is read a chunk of people
    at a time rather than person by person.
    """
    now = now or utcnow()
    queued: list[NrlMessage] = []
    for chunk in chunks(list(changes)):
        ids = [person.id for person, _event in chunk]
        with session.no_autoflush:
            live = {
                v.person_id: v
                for v in session.scalars(
                    select(PlanVersion).where(
                        PlanVersion.person_id.in_(ids), PlanVersion.status == "live"
                    )
                )
            }
            pointed = set(
                session.scalars(
                    select(NrlPointer.person_id).where(NrlPointer.person_id.in_(ids))
                )
            )
            waiting: dict[int, list[NrlMessage]] = {}
            for row in session.scalars(
                select(NrlMessage).where(
                    NrlMessage.person_id.in_(ids),
                    NrlMessage.status.in_(("pending", "sending")),
                )
            ):
                waiting.setdefault(row.person_id, []).append(row)
        wanted: list[tuple[Person, str, Action, PlanVersion | None]] = []
        retiring: list[Person] = []
        for person, event in chunk:
            version = live.get(person.id) if event == "published" else None
            if version is not None and may_point(person, version):
                wanted.append((person, f"publish:{version.id}", "publish", version))
            elif person.id in pointed or any(
                row.action == "publish" for row in waiting.get(person.id, ())
            ):
                if version is not None:
                    # Live, but without a number or basis: the pointer goes.
                    wanted.append((person, f"delete:{version.id}", "delete", None))
                else:
                    retiring.append(person)
        if retiring:
            # The version just retired names the deletion, so the same
            # retirement never queues twice.
            with session.no_autoflush:
                retired = dict(
                    session.execute(
                        select(PlanVersion.person_id, func.max(PlanVersion.id))
                        .where(
                            PlanVersion.person_id.in_([p.id for p in retiring]),
                            PlanVersion.status == "retired",
                        )
                        .group_by(PlanVersion.person_id)
                    ).all()
                )
            wanted += [
                (p, f"delete:{retired.get(p.id)}:{p.id}", "delete", None)
                for p in retiring
            ]
        if not wanted:
            continue
        with session.no_autoflush:
            stored = set(
                session.scalars(
                    select(NrlMessage.key).where(
                        NrlMessage.key.in_([key for _p, key, _a, _v in wanted])
                    )
                )
            )
        for person, key, action, version in wanted:
            if key in stored:
                continue
            stored.add(key)
            for older in waiting.get(person.id, ()):
                if older.status == "pending":
                    older.status = "cancelled"
                    older.last_error = "a newer change replaced it"
            message = NrlMessage(
                key=key,
                action=action,
                person_id=person.id,
                version_id=version.id if version is not None else None,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            session.add(message)
            waiting[person.id] = [message]
            queued.append(message)
    session.flush()
    return queued


def _queue_on_live_change(
    session: Session, changes: Sequence[tuple[Person, str]]
) -> None:
    if not session.info.get(SESSION_FLAG):
        return
    queue_changes(session, changes)


# -- sending -----------------------------------------------------------------------


def claim_due(
    session: Session,
    *,
    limit: int = 50,
    lease: dt.timedelta = LEASE,
    now: dt.datetime | None = None,
) -> list[NrlMessage]:
    """Claim due messages under a lease (caller commits).

    A person whose message is in flight under a live lease waits, so one
    person's changes reach the NRL in the order they were made.
    """
    now = now or utcnow()
    other = aliased(NrlMessage)
    busy = exists().where(
        other.person_id == NrlMessage.person_id,
        other.id != NrlMessage.id,
        other.status == "sending",
        other.lease_until > now,
    )
    query = (
        select(NrlMessage)
        .where(
            (
                and_(NrlMessage.status == "pending", NrlMessage.next_attempt_at <= now)
                | and_(NrlMessage.status == "sending", NrlMessage.lease_until <= now)
            ),
            ~busy,
        )
        .order_by(NrlMessage.id)
        .limit(limit)
    )
    if dialect_name(session) == "postgresql":
        query = query.with_for_update(of=NrlMessage, skip_locked=True)
    rows = list(session.scalars(query))
    claimed: set[int] = set()
    taken: list[NrlMessage] = []
    for row in rows:
        if row.person_id in claimed:
            continue  # the older one goes first; this one waits for the next drain
        claimed.add(row.person_id)
        row.status = "sending"
        row.lease_until = now + lease
        row.attempts += 1
        taken.append(row)
    session.flush()
    return taken


def deliver(
    session: Session,
    message: NrlMessage,
    transport: Transport,
    settings: PointerSettings,
    *,
    now: dt.datetime | None = None,
) -> str:
    """Send one claimed message and record what became of it (caller commits).

    Returns "sent", "retrying", "failed" (retries used up), "refused" (a 4xx:
    given up at once, since sending it again cannot help) or "cancelled".
    Every pointer created, superseded, deleted or refused writes an audit row.
    """
    now = now or utcnow()
    person = message.person
    try:
        if message.action == "publish":
            return _publish(session, message, person, transport, settings, now)
        return _delete(session, message, person, transport, now)
    except _Unreachable as error:
        return _failed(session, message, error.name, now)


class _Unreachable(Exception):
    """The transport raised: no answer from the NRL (network, token, timeout)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _send(transport: Transport, request: NrlRequest) -> NrlResponse:
    try:
        return transport(request)
    except Exception as error:  # noqa: BLE001  whatever failed, try again later
        # The class name only: an HTTP library's message can echo the request.
        raise _Unreachable(type(error).__name__) from error


def _publish(
    session: Session,
    message: NrlMessage,
    person: Person,
    transport: Transport,
    settings: PointerSettings,
    now: dt.datetime,
) -> str:
    version = session.get(PlanVersion, message.version_id)
    # Checked again at the moment of sending: the basis and number could have
    # gone, or the version have stopped being live, since the message was queued.
    if version is None or not may_point(person, version):
        return _cancel(session, message, "no longer live, or no number or basis")
    assert person.nhs_number is not None
    current = session.get(NrlPointer, person.id)
    if current is not None and current.nhs_number != person.nhs_number:
        # A pointer cannot move to another NHS number: delete it, then create.
        outcome = _send_delete(session, message, person, current, transport, now)
        if outcome != "sent":
            return outcome
        current = None
    team = person.team
    request = NrlRequest(
        method="POST",
        path="/DocumentReference",
        body=pointer_document(
            nhs_number=person.nhs_number,
            ods_code=settings.ods_code,
            team_name=team.name,
            team_phone=team.phone or team.crisis_line,
            contact_url=settings.contact_url.replace("{team}", team.code),
            created=now,
            replaces=current.pointer_id if current is not None else None,
        ),
    )
    response = _send(transport, request)
    if not 200 <= response.status < 300:
        return _answered_badly(session, message, person, response, now, version)
    if not response.pointer_id:
        return _failed(session, message, "NoPointerId", now)
    action: AuditAction = (
        "nrl_pointer_superseded" if current is not None else "nrl_pointer_created"
    )
    if current is None:
        current = NrlPointer(person_id=person.id)
        session.add(current)
    current.pointer_id = response.pointer_id
    current.nhs_number = person.nhs_number
    current.version = version.version
    current.updated_at = now
    _sent(session, message, now)
    audit.record(
        session,
        action=action,
        channel="system",
        actor="system",
        person_ref=person.ref,
        plan_version_id=version.id,
        detail={"version": version.version, "status": response.status},
    )
    return "sent"


def _delete(
    session: Session,
    message: NrlMessage,
    person: Person,
    transport: Transport,
    now: dt.datetime,
) -> str:
    current = session.get(NrlPointer, person.id)
    if current is None:
        return _cancel(session, message, "no pointer to delete")
    outcome = _send_delete(session, message, person, current, transport, now)
    if outcome == "sent":
        _sent(session, message, now)
    return outcome


def _send_delete(
    session: Session,
    message: NrlMessage,
    person: Person,
    current: NrlPointer,
    transport: Transport,
    now: dt.datetime,
) -> str:
    response = _send(
        transport,
        NrlRequest(method="DELETE", path=f"/DocumentReference/{current.pointer_id}"),
    )
    # 404: the pointer is already gone, which is what was wanted.
    if not (200 <= response.status < 300 or response.status == 404):
        return _answered_badly(session, message, person, response, now, None)
    version = current.version
    session.delete(current)
    session.flush()
    audit.record(
        session,
        action="nrl_pointer_deleted",
        channel="system",
        actor="system",
        person_ref=person.ref,
        detail={"version": version, "status": response.status},
    )
    return "sent"


def _answered_badly(
    session: Session,
    message: NrlMessage,
    person: Person,
    response: NrlResponse,
    now: dt.datetime,
    version: PlanVersion | None,
) -> str:
    if response.status >= 500 or response.status in RETRYABLE:
        return _failed(session, message, f"HTTP {response.status}", now)
    # The NRL refused the request itself: sending it again cannot help, so give
    # up now and leave the refusal where an operator sees it.
    message.status = "refused"
    message.lease_until = None
    message.last_error = f"HTTP {response.status}"
    session.flush()
    audit.record(
        session,
        action="nrl_pointer_refused",
        channel="system",
        actor="system",
        person_ref=person.ref,
        plan_version_id=version.id if version is not None else None,
        detail={"status": response.status, "method": message.action},
    )
    return "refused"


def _sent(session: Session, message: NrlMessage, now: dt.datetime) -> None:
    notify.mark_sent(session, message, now=now)


def _failed(session: Session, message: NrlMessage, error: str, now: dt.datetime) -> str:
    notify.mark_failed(session, message, error, now=now)
    return "failed" if message.status == "failed" else "retrying"


def _cancel(session: Session, message: NrlMessage, why: str) -> str:
    notify.cancel(session, message, why)
    return "cancelled"


# -- reading -----------------------------------------------------------------------


@dataclass(frozen=True)
class NrlCounts:
    """How many messages are in each state, and how many pointers the NRL holds."""

    by_status: dict[str, int]
    pointers: int


def counts(session: Session) -> NrlCounts:
    """Count the NRL queue by state, and the pointers held."""
    found = dict(
        session.execute(
            select(NrlMessage.status, func.count()).group_by(NrlMessage.status)
        ).all()
    )
    return NrlCounts(
        by_status={status: int(found.get(status, 0)) for status in STATUSES},
        pointers=int(session.scalar(select(func.count()).select_from(NrlPointer)) or 0),
    )


def refused(session: Session, *, limit: int = 50) -> list[NrlMessage]:
    """Return the messages the NRL refused or that ran out of retries, newest first."""
    return list(
        session.scalars(
            select(NrlMessage)
            .where(NrlMessage.status.in_(("refused", "failed")))
            .order_by(NrlMessage.id.desc())
            .limit(limit)
        )
    )
