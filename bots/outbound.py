"""Draining the notification outbox: claim, send, record, one message at a time.

This is a job, so it owns its transactions: the claim commits before anything is
sent (no other worker can take the same row), and each message's outcome commits
on its own (one failure never re-sends the others).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from bots import replies
from plans import notify
from plans.db import utcnow

logger = logging.getLogger(__name__)


class Sender(Protocol):
    """Anything that sends one text to one address on a channel."""

    def send(self, channel: str, address: str, text: str) -> object:
        """Send the text; raise on failure."""


@dataclass(frozen=True)
class DrainReport:
    """What one drain did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0


class TelegramChannel:
    """Adapt a BotRunner-like object with `send(chat_id, text)` to Sender."""

    def __init__(self, runner: object) -> None:
        self.runner = runner

    def send(self, channel: str, address: str, text: str) -> object:
        """Send a Telegram message."""
        return self.runner.send(address, text)  # type: ignore[attr-defined]


def drain(
    sessions: sessionmaker[Session],
    senders: Mapping[str, Sender],
    *,
    base_url: str = "",
    limit: int = 50,
    now: Callable[[], dt.datetime] | None = None,
) -> DrainReport:
    """Send every due outbox message once; schedule retries for failures."""
    clock = now or utcnow
    counts = {"sent": 0, "retrying": 0, "failed": 0, "cancelled": 0}
    engine = sessions.kw["bind"]
    # One connection for the whole drain: each message still commits on its own,
    # without paying for a new connection per commit (SQLite files use NullPool).
    with engine.connect() as connection, sessions(bind=connection) as session:
        claimed = notify.claim_due(session, limit=limit, now=clock())
        session.commit()
        for row in claimed:
            outcome = _deliver(session, row, senders, base_url=base_url, now=clock())
            session.commit()
            counts[outcome] += 1
    return DrainReport(**counts)


def _deliver(
    session: Session,
    row: notify.Outbox,
    senders: Mapping[str, Sender],
    *,
    base_url: str,
    now: dt.datetime,
) -> str:
    link = row.link
    if link is None or link.unlinked_at is not None:
        notify.cancel(session, row, "chat unlinked")
        return "cancelled"
    if link.user is not None and not link.user.active:
        notify.cancel(session, row, "account disabled")
        return "cancelled"
    sender = senders.get(row.channel)
    if sender is None:
        notify.mark_failed(session, row, "ChannelNotConfigured", now=now)
        return "failed" if row.status == "failed" else "retrying"
    try:
        text = replies.notification_text(row.kind, row.params, base_url=base_url)
        sender.send(row.channel, row.address, text)
    except Exception as error:  # noqa: BLE001  any failure is retried later
        # The class name only: provider errors can echo the message body.
        logger.warning(
            "outbox message %s failed on attempt %s: %s",
            row.id,
            row.attempts,
            type(error).__name__,
        )
        notify.mark_failed(session, row, type(error).__name__, now=now)
        return "failed" if row.status == "failed" else "retrying"
    notify.mark_sent(session, row, now=now)
    return "sent"
