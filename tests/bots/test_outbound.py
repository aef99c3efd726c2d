"""Notifications end to end: a plan changes, the outbox fills, the worker sends once."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from bots.outbound import drain
from plans import chat, notify, versions
from plans.access import open_plan
from plans.notify import Outbox
from responder import hooks
from responder.cli import chat as cli_chat
from tests.bots.fakes import (
    BOT_TOKEN,
    RecordingHttpClient,
    RecordingRequest,
    live_person,
    staff,
)
from tests.plans import factories

PERSON_NUMBER = "+447700900555"
MENTOR_CHAT = "9001"


@pytest.fixture
def twilio_http(app: Flask) -> RecordingHttpClient:
    recording = RecordingHttpClient()
    app.config.update(
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="token",
        TWILIO_SMS_NUMBER="+441632960999",
        TWILIO_WHATSAPP_NUMBER="+441632960998",
        PUBLIC_BASE_URL="https://responder.example",
    )
    app.extensions["responder.twilio_http"] = recording
    return recording


@pytest.fixture
def telegram(app: Flask) -> Iterator[RecordingRequest]:
    app.config["TELEGRAM_BOT_TOKEN"] = BOT_TOKEN
    recording = RecordingRequest()
    runner = hooks.install_telegram(app, request_object=recording)
    yield recording
    runner.close()


@pytest.fixture
def scene(db: Session):
    """A person with a linked phone, a mentor following on Telegram."""
    person = live_person(db)
    mentor = staff(db, "mentor@example.org", role="mentor")
    pending = chat.start_number_link(db, "sms", PERSON_NUMBER, person=person)
    chat.confirm_number_link(db, pending.code, person=person)
    chat.redeem_link_token(db, chat.create_link_token(db, user=mentor), MENTOR_CHAT)
    notify.follow(db, mentor, person=person)
    db.commit()
    return person


def publish_new_version(db: Session, person) -> None:
    versions.make_live(db, factories.draft(db, person, 2))
    db.commit()


def drain_app(app: Flask):
    with app.app_context():
        return cli_chat.drain_now(app)


def test_an_update_reaches_the_person_by_sms_and_the_mentor_on_telegram(
    app: Flask,
    db: Session,
    scene,
    twilio_http: RecordingHttpClient,
    telegram: RecordingRequest,
) -> None:
    publish_new_version(db, scene)
    report = drain_app(app)
    assert report.sent == 2
    assert twilio_http.bodies() == [
        (
            PERSON_NUMBER,
            "Your plan has been updated (version 2). Send plan to read the summary.",
        )
    ]
    assert twilio_http.requests[0]["data"]["From"] == "+441632960999"
    (mentor_message,) = telegram.sent()
    assert mentor_message["chat_id"] == int(MENTOR_CHAT)
    assert mentor_message["text"].startswith(
        "Plan updated: Alexandra Testperson (TEST-TEAM/00001), version 2."
    )
    # Nothing is sent twice.
    assert drain_app(app).sent == 0
    assert len(twilio_http.requests) == 1 and len(telegram.sent()) == 1


def test_a_failed_send_is_retried_later_and_sent_once(
    app: Flask, db: Session, scene, twilio_http: RecordingHttpClient
) -> None:
    mentor_link = chat.active_link(db, "telegram", MENTOR_CHAT)
    chat.unlink(db, mentor_link)  # only the SMS matters here
    db.commit()
    publish_new_version(db, scene)
    twilio_http.fail_next = 1
    assert drain_app(app).retrying == 1
    row = db.scalars(select(Outbox)).one()
    db.refresh(row)
    assert (row.status, row.attempts, row.last_error) == (
        "pending",
        1,
        "TwilioRestException",
    )
    # Not due yet: the backoff holds it back.
    assert drain_app(app).sent == 0
    later = row.next_attempt_at + dt.timedelta(seconds=1)
    report = drain(
        app.extensions["responder.sessions"],
        hooks.senders(app),
        now=lambda: later,
    )
    assert report.sent == 1
    assert len(twilio_http.bodies()) == 2  # the failed try and the good one
    assert drain_app(app).sent == 0


def test_a_chat_unlinked_before_sending_gets_nothing(
    app: Flask, db: Session, scene, twilio_http: RecordingHttpClient
) -> None:
    publish_new_version(db, scene)
    for link in chat.links_for(db, person=scene):
        chat.unlink(db, link)
    db.commit()
    report = drain_app(app)
    assert report.cancelled == 1 and twilio_http.requests == []


def test_the_person_learns_who_opened_their_plan_role_and_time_only(
    app: Flask, db: Session, scene, twilio_http: RecordingHttpClient
) -> None:
    link = chat.links_for(db, person=scene)[0]
    chat.set_notify_opened(db, link, True)
    officer = staff(db, "pc.open@example.org")
    at = dt.datetime(2026, 7, 1, 13, 5, tzinfo=dt.UTC)
    open_plan(db, officer, scene, basis="card_scan", channel="card", now=at)
    db.commit()
    drain_app(app)
    assert twilio_http.bodies() == [
        (PERSON_NUMBER, "Your plan was opened by Police at 14:05 on 1 Jul 2026.")
    ]


def test_retiring_tells_the_person(
    app: Flask, db: Session, scene, twilio_http: RecordingHttpClient
) -> None:
    versions.retire(db, scene, reason="no longer needed")
    db.commit()
    drain_app(app)
    assert twilio_http.bodies()[0][1].startswith("Your plan is no longer in use.")


def test_notify_drain_command(
    runner: FlaskCliRunner, db: Session, scene, twilio_http: RecordingHttpClient
) -> None:
    publish_new_version(db, scene)
    result = runner.invoke(args=["notify", "drain"])
    assert result.exit_code == 0, result.output
    # Telegram is not configured here: the mentor's message waits for it.
    assert result.output.startswith("sent 1, retrying 1, failed 0")
    assert len(twilio_http.requests) == 1


def test_the_rq_worker_sends_what_a_commit_queued(
    app: Flask, db: Session, scene, twilio_http: RecordingHttpClient
) -> None:
    redis = pytest.importorskip("redis")
    from rq import Queue, SimpleWorker

    connection = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        from tests.conftest import skip_without_redis

        skip_without_redis("no Redis on 127.0.0.1:6379")
    name = "test-notify-" + uuid.uuid4().hex[:8]
    app.config.update(REDIS_URL="redis://127.0.0.1:6379/0", NOTIFY_QUEUE=name)
    queue = Queue(name, connection=connection)
    try:
        with app.app_context():
            publish_new_version(db, scene)
            assert queue.count >= 1  # the commit woke the worker
            SimpleWorker([queue], connection=connection).work(burst=True)
        assert [to for to, _ in twilio_http.bodies()] == [PERSON_NUMBER]
    finally:
        queue.empty()
        queue.delete(delete_jobs=True)
