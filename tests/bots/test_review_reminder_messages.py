"""Review reminders in the mentors' chats: plain words, the ref and the date only."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from bots import replies
from plans import chat, clock
from responder.cli import chat as cli_chat
from tests.bots.fakes import RecordingHttpClient, live_person, staff
from tests.plans import factories

MENTOR_NUMBER = "+447700900111"
LEAD_NUMBER = "+447700900222"
REVIEW_BY = "2027-01-10"


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (
            "review_soon",
            "Review coming up: plan TEST-TEAM/00001 (version 3) is to be reviewed "
            "by 10 January 2027. Open the mentor desk: https://responder.example/mentor/",
        ),
        (
            "review_due",
            "Review due: plan TEST-TEAM/00001 (version 3) has reached its review "
            "date, 10 January 2027. Open the mentor desk: "
            "https://responder.example/mentor/",
        ),
    ],
)
def test_the_two_reminders_in_words(kind: str, words: str) -> None:
    params = {"ref": "TEST-TEAM/00001", "version": 3, "review_by": REVIEW_BY}
    text = replies.notification_text(
        kind, params, base_url="https://responder.example/"
    )
    assert text == words
    assert replies.sms_segments(text) == 1  # one SMS, with room for a longer ref


def test_without_a_public_address_the_reminder_names_the_desk() -> None:
    params = {"ref": "TEST-TEAM/00001", "version": 1, "review_by": REVIEW_BY}
    text = replies.notification_text("review_due", params, base_url="")
    assert text.endswith("Open the mentor desk in Responder.")


def _on_sms(db: Session, email: str, role: str, number: str) -> None:
    user = staff(db, email, role=role)
    pending = chat.start_number_link(db, "sms", number, user=user)
    chat.confirm_number_link(db, pending.code, user=user)


def test_the_job_and_the_worker_remind_each_mentor_once_by_sms(
    app: Flask, db: Session, runner: FlaskCliRunner
) -> None:
    twilio = RecordingHttpClient()
    app.config.update(
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="token",
        TWILIO_SMS_NUMBER="+441632960999",
        PUBLIC_BASE_URL="https://responder.example",
    )
    app.extensions["responder.twilio_http"] = twilio
    with clock.frozen(dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)):
        live_person(db, review_by=REVIEW_BY)
        _on_sms(db, "mentor@example.org", "mentor", MENTOR_NUMBER)
        _on_sms(db, "lead@example.org", "lead_clinician", LEAD_NUMBER)
        _on_sms(db, "pc@example.org", "police", "+447700900333")
        db.commit()
    with clock.frozen(dt.datetime(2026, 12, 11, 7, tzinfo=dt.UTC)):
        result = runner.invoke(args=["reviews", "remind"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            assert cli_chat.drain_now(app).sent == 2
            assert cli_chat.drain_now(app).sent == 0
    summary = factories.BASE_DOCUMENT["plan"]["summary"]
    sent = twilio.bodies()
    assert sorted(to for to, _text in sent) == [MENTOR_NUMBER, LEAD_NUMBER]
    for _to, text in sent:
        assert text.startswith("Review coming up: plan TEST-TEAM/00001 (version 1)")
        # Neither the person's name nor any plan text goes to the chat.
        assert "Alexandra" not in text and summary not in text
