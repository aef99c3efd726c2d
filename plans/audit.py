"""The audit log: append-only, hash-chained, and never holding plan text.

Every row carries the SHA-256 of the previous row, so any edit, deletion or
reordering breaks the chain at a point `verify` can name. Database triggers refuse
UPDATE, DELETE (and TRUNCATE on PostgreSQL) on the table itself.

The chain alone cannot survive someone who holds the database: they can rewrite
a row, re-chain every row after it and move the head. So the head is anchored
outside the database too: `checkpoint` signs (seq, hash) with an Ed25519 key the
database never sees, the caller appends it to a file or syslog, and `verify`
checks the chain against those checkpoints and names rewrites and truncation.

Writers serialise on the single row of `audit_head`: the UPDATE that opens each
append takes that row's write lock (a row lock on PostgreSQL, the database write
lock on SQLite) until the transaction ends, so two concurrent appends can never
chain from the same predecessor. Keep the append the last thing a transaction does
before it commits.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import (
    JSON,
    Connection,
    Integer,
    String,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from plans import vocabulary
from plans.db import Base, after_create, utcnow
from plans.hashing import sha256_hex
from plans.vocabulary import AuditAction, Channel

GENESIS_HASH = "0" * 64

# Re-exported: callers have always read the channel list from here.
CHANNELS = vocabulary.CHANNELS

# Keys allowed in `detail`. Anything else is refused, which keeps plan text (and
# anything else nobody thought about) out of the log by construction.
DETAIL_KEYS = frozenset(
    {
        "basis",
        "incident",
        "reason_code",
        "result_count",
        "query_kind",
        "query_length",
        "has_location",
        "added",
        "updated",
        "unchanged",
        "refused",
        "drafted",
        "source",
        "card_id",
        "outcome",
        "target_user_id",
        "target_role",
        "method",
        "findings",
        "acknowledged",
        "status",
        "alert_id",
        "concern_id",
        "route",
        "ip_hash",
        "version",
        "count",
        "team",
        "why",
        "agency",
        "month",
        "case_id",
        "question_id",
        "soon",
        "due",
    }
)


class AuditEvent(Base):
    """One row of the audit log."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None]
    actor: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(40), index=True)
    person_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    plan_version_id: Mapped[int | None]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The single row that serialises appends and remembers the chain's tip."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


def _row_hash(fields: dict[str, Any]) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return sha256_hex(canonical)


def _hashed_fields(event: AuditEvent) -> dict[str, Any]:
    at = event.at
    if at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    return {
        "seq": event.seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor": event.actor,
        "role": event.role,
        "channel": event.channel,
        "action": event.action,
        "person_ref": event.person_ref,
        "plan_version_id": event.plan_version_id,
        "detail": event.detail or {},
        "prev_hash": event.prev_hash,
    }


class AuditDetailRefused(ValueError):
    """An audit detail key is not on the allowed list."""


def record(
    session: Session,
    *,
    action: AuditAction,
    channel: Channel,
    actor_id: int | None = None,
    actor: str | None = None,
    role: str | None = None,
    person_ref: str | None = None,
    plan_version_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit log (the caller commits)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown audit channel {channel!r}")
    detail = dict(detail or {})
    unknown = set(detail) - DETAIL_KEYS
    if unknown:
        raise AuditDetailRefused(f"audit detail keys not allowed: {sorted(unknown)}")
    # Flush pending work first so the lock below is the last one taken.
    session.flush()
    bumped = session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq + 1)
    )
    if bumped.rowcount == 0:  # type: ignore[attr-defined]
        raise RuntimeError("audit_head is missing: run `responder db upgrade`")
    seq, prev_hash = session.execute(
        select(AuditHead.seq, AuditHead.last_hash).where(AuditHead.id == 1)
    ).one()
    event = AuditEvent(
        seq=seq,
        at=utcnow(),
        actor_id=actor_id,
        actor=actor,
        role=role,
        channel=channel,
        action=action,
        person_ref=person_ref,
        plan_version_id=plan_version_id,
        detail=detail,
        prev_hash=prev_hash,
    )
    event.hash = _row_hash(_hashed_fields(event))
    session.add(event)
    session.execute(
        update(AuditHead).where(AuditHead.id == 1).values(last_hash=event.hash)
    )
    return event


def record_for(
    session: Session,
    user: Any,
    *,
    action: AuditAction,
    channel: Channel,
    person_ref: str | None = None,
    plan_version_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event done by `user` (anything with id, email and role)."""
    return record(
        session,
        action=action,
        channel=channel,
        actor_id=getattr(user, "id", None),
        actor=getattr(user, "email", None),
        role=getattr(user, "role", None),
        person_ref=person_ref,
        plan_version_id=plan_version_id,
        detail=detail,
    )


@dataclass(frozen=True)
class ChainReport:
    """What `verify` found: how many rows checked and the first broken one."""

    checked: int
    broken_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """Say whether the whole chain verified."""
        return self.broken_seq is None


# -- signed checkpoints of the chain head ------------------------------------------

CHECKPOINT_FORMAT = "responder-audit-checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or whose signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at one moment, signed with a key kept off the database."""

    seq: int
    hash: str
    at: str
    key_id: str
    signature: str

    def signed_text(self) -> bytes:
        """Return the exact bytes the signature covers."""
        fields = {
            "format": CHECKPOINT_FORMAT,
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at,
            "key_id": self.key_id,
        }
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def to_json(self) -> str:
        """Return the checkpoint as one JSON line (no newline)."""
        return json.dumps(
            {
                "format": CHECKPOINT_FORMAT,
                "seq": self.seq,
                "hash": self.hash,
                "at": self.at,
                "key_id": self.key_id,
                "signature": self.signature,
            },
            sort_keys=True,
            separators=(",", ":"),
        )


def checkpoint_key_id(public_key: Ed25519PublicKey) -> str:
    """Name a checkpoint key by the start of its public key's SHA-256."""
    raw = public_key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return sha256_hex(raw)[:16]


def parse_checkpoint_key(text: str) -> Ed25519PrivateKey:
    """Read a checkpoint signing key written as base64 of its 32 raw bytes."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PrivateKey.from_private_bytes(raw)
    except ValueError:
        raise CheckpointError("the audit checkpoint key is not a key") from None


def encode_checkpoint_key(key: Ed25519PrivateKey) -> str:
    """Write a checkpoint signing key as base64 of its 32 raw bytes."""
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return base64.b64encode(raw).decode("ascii")


def checkpoint(session: Session, key: Ed25519PrivateKey) -> Checkpoint:
    """Sign the chain's head as it stands; the caller stores it off the database."""
    head = session.get(AuditHead, 1, populate_existing=True)
    if head is None:
        raise RuntimeError("audit_head is missing: run `responder db upgrade`")
    at = utcnow().astimezone(dt.UTC).isoformat(timespec="seconds")
    unsigned = Checkpoint(
        head.seq, head.last_hash, at, checkpoint_key_id(key.public_key()), ""
    )
    signature = base64.b64encode(key.sign(unsigned.signed_text())).decode("ascii")
    return Checkpoint(unsigned.seq, unsigned.hash, at, unsigned.key_id, signature)


def read_checkpoints(
    lines: Iterable[str], public_key: Ed25519PublicKey
) -> list[Checkpoint]:
    """Read checkpoint lines and check each signature; raise on any bad one."""
    found = []
    key_id = checkpoint_key_id(public_key)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            entry = Checkpoint(
                int(data["seq"]),
                str(data["hash"]),
                str(data["at"]),
                str(data["key_id"]),
                str(data["signature"]),
            )
            if data.get("format") != CHECKPOINT_FORMAT:
                raise ValueError("format")
        except (ValueError, KeyError, TypeError):
            raise CheckpointError(f"checkpoint line {number} cannot be read") from None
        if entry.key_id != key_id:
            raise CheckpointError(
                f"checkpoint line {number} was signed with another key ({entry.key_id})"
            )
        try:
            public_key.verify(base64.b64decode(entry.signature), entry.signed_text())
        except (InvalidSignature, ValueError):
            raise CheckpointError(
                f"checkpoint line {number} has a signature that does not verify"
            ) from None
        found.append(entry)
    return found


def verify(
    session: Session,
    *,
    batch_size: int = 5000,
    checkpoints: Iterable[Checkpoint] = (),
) -> ChainReport:
    """Walk the chain in order and name the first row that does not verify.

    With checkpoints, the chain must also hold every signed (seq, hash): a row
    re-chained after a rewrite, or a chain cut short, is named even when the
    rows and the head agree with each other.
    """
    return _verify_chain(session, batch_size=batch_size, signed=checkpoints)


def _verify_chain(
    session: Session, *, batch_size: int, signed: Iterable[Checkpoint]
) -> ChainReport:
    wanted: dict[int, Checkpoint] = {}
    for entry in signed:
        if entry.seq > 0:
            wanted[entry.seq] = entry
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    while True:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq >= expected_seq)
            .order_by(AuditEvent.seq)
            .limit(batch_size)
        ).all()
        if not rows:
            break
        for event in rows:
            if event.seq != expected_seq:
                return ChainReport(
                    checked, expected_seq, f"row {expected_seq} is missing"
                )
            if event.prev_hash != expected_prev:
                return ChainReport(
                    checked,
                    event.seq,
                    f"row {event.seq} does not follow row {event.seq - 1}",
                )
            if _row_hash(_hashed_fields(event)) != event.hash:
                return ChainReport(
                    checked, event.seq, f"row {event.seq} was altered after writing"
                )
            anchor = wanted.get(event.seq)
            if anchor is not None and anchor.hash != event.hash:
                return ChainReport(
                    checked,
                    event.seq,
                    f"row {event.seq} was rewritten: it differs from the checkpoint "
                    f"signed at {anchor.at} (rows up to it re-chained)",
                )
            expected_prev = event.hash
            expected_seq += 1
            checked += 1
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != checked or head.last_hash != expected_prev):
        return ChainReport(
            checked,
            checked + 1,
            f"the chain ends at row {checked} but the head says {head.seq}",
        )
    if wanted and max(wanted) > checked:
        latest = wanted[max(wanted)]
        return ChainReport(
            checked,
            checked + 1,
            f"the chain was truncated: it ends at row {checked}, but the checkpoint "
            f"signed at {latest.at} saw {latest.seq} rows",
        )
    return ChainReport(checked)


_SQLITE_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS audit_events_no_update
    BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS audit_events_no_delete
    BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
)

_POSTGRES_TRIGGERS = (
    """CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_events is append-only';
    END;
    $$""",
    "DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events",
    """CREATE TRIGGER audit_events_no_change
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    """CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
)


@after_create
def install_audit_triggers(connection: Connection) -> None:
    """Install the triggers that make the audit table append-only."""
    statements = (
        _POSTGRES_TRIGGERS
        if connection.dialect.name == "postgresql"
        else _SQLITE_TRIGGERS
    )
    for statement in statements:
        connection.execute(text(statement))
    # The head row exists from the start, so appenders only ever UPDATE it and
    # never race to create it.
    if connection.scalar(select(AuditHead.id).where(AuditHead.id == 1)) is None:
        connection.execute(
            insert(AuditHead).values(id=1, seq=0, last_hash=GENESIS_HASH)
        )
