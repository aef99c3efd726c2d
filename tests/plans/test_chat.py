"""Chat links: one-time Telegram tokens, number codes, replays and rate limits."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import accounts, chat
from plans.audit import AuditEvent
from plans.chat import ChatError, ChatLink, LinkToken, VerificationCode
from plans.db import utcnow
from tests.plans import factories

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def officer(session: Session) -> accounts.User:
    factories.team(session)
    return accounts.create_user(
        session, "pc.test@example.org", role="police", team_codes=["TEST-TEAM"]
    )


def test_a_link_token_binds_the_chat_once(session: Session, officer) -> None:
    token = chat.create_link_token(session, user=officer, now=NOW)
    link = chat.redeem_link_token(session, token, "5551", now=NOW)
    assert link is not None and link.user_id == officer.id
    assert chat.active_link(session, "telegram", "5551") == link
    # Single use: a second chat presenting the same token gets nothing.
    assert chat.redeem_link_token(session, token, "5552", now=NOW) is None
    assert chat.active_link(session, "telegram", "5552") is None


def test_a_link_token_is_stored_only_as_a_digest(session: Session, officer) -> None:
    token = chat.create_link_token(session, user=officer, now=NOW)
    stored = session.scalars(select(LinkToken)).one()
    assert token not in stored.digest and len(stored.digest) == 64


def test_a_link_token_expires_after_ten_minutes(session: Session, officer) -> None:
    token = chat.create_link_token(session, user=officer, now=NOW)
    later = NOW + dt.timedelta(minutes=10, seconds=1)
    assert chat.redeem_link_token(session, token, "5551", now=later) is None


@pytest.mark.parametrize("token", ["", "x" * 65, "not-a-token"])
def test_unknown_tokens_bind_nothing(session: Session, officer, token: str) -> None:
    assert chat.redeem_link_token(session, token, "5551", now=NOW) is None
    assert session.scalars(select(ChatLink)).all() == []


def test_a_disabled_account_cannot_link_and_its_chats_fall_silent(
    session: Session, officer
) -> None:
    token = chat.create_link_token(session, user=officer, now=NOW)
    chat.redeem_link_token(session, token, "5551", now=NOW)
    accounts.disable_user(officer)
    assert chat.active_link(session, "telegram", "5551") is None
    with pytest.raises(ChatError):
        chat.create_link_token(session, user=officer)


def test_linking_and_unlinking_are_audited_with_the_channel(
    session: Session, officer
) -> None:
    token = chat.create_link_token(session, user=officer, now=NOW)
    link = chat.redeem_link_token(session, token, "5551", now=NOW)
    chat.unlink(session, link)
    rows = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [(r.action, r.channel, r.actor_id) for r in rows] == [
        ("chat_linked", "telegram", officer.id),
        ("chat_unlinked", "telegram", officer.id),
    ]
    assert chat.active_link(session, "telegram", "5551") is None


def test_a_chat_belongs_to_one_owner_at_a_time(session: Session, officer) -> None:
    other = accounts.create_user(session, "pc.two@example.org", role="police")
    first = chat.redeem_link_token(
        session, chat.create_link_token(session, user=officer), "5551"
    )
    second = chat.redeem_link_token(
        session, chat.create_link_token(session, user=other), "5551"
    )
    assert first.unlinked_at is not None
    assert chat.active_link(session, "telegram", "5551") == second


def test_a_person_links_their_own_chat(session: Session) -> None:
    person = factories.person(session)
    token = chat.create_link_token(session, person=person)
    link = chat.redeem_link_token(session, token, "777")
    assert link.person_id == person.id and link.user_id is None
    assert chat.links_for(session, person=person) == [link]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("07700 900123", "+447700900123"),
        ("+44 (0)7700 900123", "+447700900123"),
        ("0044 7700-900-123", "+447700900123"),
        ("whatsapp:+447700900123", "+447700900123"),
        ("+1 415 555 0100", "+14155550100"),
    ],
)
def test_numbers_are_stored_in_e164(typed: str, stored: str) -> None:
    assert chat.normalise_number(typed) == stored


@pytest.mark.parametrize("typed", ["", "12", "call me", "+0123456789", "07" + "1" * 20])
def test_odd_numbers_are_refused(typed: str) -> None:
    with pytest.raises(ChatError):
        chat.normalise_number(typed)


def test_a_number_is_linked_with_the_code_sent_to_it(session: Session, officer) -> None:
    pending = chat.start_number_link(session, "sms", "07700 900123", user=officer)
    assert pending.code.isdigit() and len(pending.code) == 6
    assert pending.code not in pending.row.digest
    link = chat.confirm_number_link(session, pending.code, user=officer)
    assert (link.channel, link.address) == ("sms", "+447700900123")
    # The code is spent.
    with pytest.raises(ChatError):
        chat.confirm_number_link(session, pending.code, user=officer)


def test_a_code_allows_five_tries(session: Session, officer) -> None:
    pending = chat.start_number_link(session, "whatsapp", "07700900123", user=officer)
    wrong = "000000" if pending.code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        with pytest.raises(ChatError, match=f"{left} tries left"):
            chat.confirm_number_link(session, wrong, user=officer)
    with pytest.raises(ChatError, match="used up"):
        chat.confirm_number_link(session, wrong, user=officer)
    # Even the right code no longer works.
    with pytest.raises(ChatError, match="expired"):
        chat.confirm_number_link(session, pending.code, user=officer)
    assert chat.links_for(session, user=officer) == []


def test_a_code_expires(session: Session, officer) -> None:
    pending = chat.start_number_link(
        session, "sms", "07700900123", user=officer, now=NOW
    )
    with pytest.raises(ChatError, match="expired"):
        chat.confirm_number_link(
            session, pending.code, user=officer, now=NOW + dt.timedelta(minutes=11)
        )


def test_only_the_newest_code_counts(session: Session, officer) -> None:
    first = chat.start_number_link(session, "sms", "07700900123", user=officer)
    second = chat.start_number_link(session, "sms", "07700900124", user=officer)
    if first.code != second.code:
        with pytest.raises(ChatError):
            chat.confirm_number_link(session, first.code, user=officer)
    link = chat.confirm_number_link(session, second.code, user=officer)
    assert link.address == "+447700900124"


def test_codes_are_limited_per_hour(session: Session, officer) -> None:
    for _ in range(chat.CODES_PER_HOUR):
        chat.start_number_link(session, "sms", "07700900123", user=officer)
    with pytest.raises(ChatError, match="too many"):
        chat.start_number_link(session, "sms", "07700900123", user=officer)
    assert len(session.scalars(select(VerificationCode)).all()) == chat.CODES_PER_HOUR


def test_a_message_id_is_claimed_once(session: Session) -> None:
    assert chat.claim_message(session, "sms", "SM123") is True
    assert chat.claim_message(session, "sms", "SM123") is False
    assert chat.claim_message(session, "whatsapp", "SM123") is True
    session.commit()
    assert chat.claim_message(session, "sms", "SM123") is False


def test_old_message_ids_are_forgotten(session: Session) -> None:
    chat.claim_message(session, "telegram", "1", now=NOW - dt.timedelta(days=8))
    chat.claim_message(session, "telegram", "2", now=NOW)
    assert chat.forget_processed(session, now=NOW) == 1


def test_each_chat_has_its_own_rate_limit(session: Session) -> None:
    allowed = [
        chat.allow_message(session, "sms", "+447700900123", limit=3, now=NOW)
        for _ in range(5)
    ]
    assert allowed == [True, True, True, False, False]
    assert chat.allow_message(session, "sms", "+447700900999", limit=3, now=NOW)
    later = NOW + chat.RATE_WINDOW + dt.timedelta(seconds=1)
    assert chat.allow_message(session, "sms", "+447700900123", limit=3, now=later)


def test_open_n_means_what_the_chat_was_shown(session: Session, officer) -> None:
    link = chat.redeem_link_token(
        session, chat.create_link_token(session, user=officer), "5551"
    )
    chat.remember_results(session, link, ["A/1", "B/2"], now=utcnow())
    assert chat.remembered_ref(link, 2) == "B/2"
    assert chat.remembered_ref(link, 3) is None
    assert chat.remembered_ref(link, 1, now=utcnow() + dt.timedelta(hours=1)) is None
