"""The telegram, notify and chat commands as an operator uses them."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from plans import chat, notify
from tests.bots.fakes import (
    BOT_TOKEN,
    RecordingRequest,
    live_person,
    no_network,
    staff,
)

__all__ = ["no_network"]


def test_follow_list_and_unfollow(runner: FlaskCliRunner, db: Session) -> None:
    live_person(db)
    staff(db, "control@example.org", role="control_room")
    db.commit()
    for args in (
        ["--team", "TEST-TEAM"],
        ["--person", "TEST-TEAM/00001"],
        ["--area", "50.9,-1.4,5", "--label", "Testtown"],
    ):
        result = runner.invoke(args=["notify", "follow", "control@example.org", *args])
        assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["notify", "following", "control@example.org"])
    lines = listed.output.splitlines()
    assert len(lines) == 3
    assert lines[2].endswith("area 50.9000,-1.4000 5 km (Testtown)")
    sub_id = lines[0].split()[0].lstrip("#")
    result = runner.invoke(args=["notify", "unfollow", "control@example.org", sub_id])
    assert result.exit_code == 0
    again = runner.invoke(args=["notify", "following", "control@example.org"])
    assert len(again.output.splitlines()) == 2


def test_follow_refuses_nonsense(runner: FlaskCliRunner, db: Session) -> None:
    staff(db, "control@example.org", role="control_room")
    db.commit()
    for args, message in (
        (["--team", "NOPE"], "no team NOPE"),
        (["--area", "north"], "LAT,LON,KM"),
        ([], "follow one person, one team or one area"),
    ):
        result = runner.invoke(args=["notify", "follow", "control@example.org", *args])
        assert result.exit_code != 0 and message in result.output
    result = runner.invoke(
        args=["notify", "follow", "nobody@example.org", "--team", "X"]
    )
    assert "no user nobody@example.org" in result.output


def test_set_webhook_needs_https_and_a_secret(
    app: Flask, runner: FlaskCliRunner
) -> None:
    app.config["TELEGRAM_BOT_TOKEN"] = BOT_TOKEN
    result = runner.invoke(args=["telegram", "set-webhook"])
    assert "TELEGRAM_WEBHOOK_SECRET" in result.output
    app.config["TELEGRAM_WEBHOOK_SECRET"] = "s" * 32
    result = runner.invoke(args=["telegram", "set-webhook", "--url", "http://x"])
    assert "https://" in result.output


def test_set_webhook_registers_url_and_secret(
    app: Flask, runner: FlaskCliRunner
) -> None:
    recording = RecordingRequest()
    app.config.update(
        TELEGRAM_BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_WEBHOOK_SECRET="s" * 32,
        PUBLIC_BASE_URL="https://responder.example",
    )
    app.extensions["responder.telegram_request"] = recording
    result = runner.invoke(args=["telegram", "set-webhook"])
    assert result.exit_code == 0, result.output
    (params,) = [p for name, p in recording.calls if name == "setWebhook"]
    assert params["url"] == "https://responder.example/hooks/telegram"
    assert params["secret_token"] == "s" * 32
    assert "s" * 32 not in result.output


def test_rebuild_places(runner: FlaskCliRunner, db: Session) -> None:
    live_person(db)
    db.commit()
    result = runner.invoke(args=["chat", "rebuild-places"])
    assert result.exit_code == 0
    assert result.output == "2 places\n"  # home and the bus station
    assert chat.resolve_place(db, "TT1 2AB") is not None
    assert notify.counts(db).pending == 0


def test_poll_needs_a_bot_token(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["telegram", "poll"])
    assert result.exit_code != 0
    assert "RESPONDER_TELEGRAM_BOT_TOKEN" in result.output


def test_the_worker_without_redis_drains_until_nothing_is_left(
    app: Flask, runner: FlaskCliRunner, db: Session
) -> None:
    from tests.bots.fakes import RecordingHttpClient

    recording = RecordingHttpClient()
    app.config.update(
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN="token",
        TWILIO_SMS_NUMBER="+441632960999",
    )
    app.extensions["responder.twilio_http"] = recording
    person = live_person(db)
    pending = chat.start_number_link(db, "sms", "07700900777", person=person)
    chat.confirm_number_link(db, pending.code, person=person)
    notify.plan_changed(db, person, "published")
    db.commit()
    result = runner.invoke(args=["notify", "worker", "--burst", "--interval", "0"])
    assert result.exit_code == 0, result.output
    assert "no REDIS_URL" in result.output
    assert [to for to, _ in recording.bodies()] == ["+447700900777"]
