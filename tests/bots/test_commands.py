"""What each chat can ask, channel-neutral: linking, find, open, the person's side."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bots import replies
from bots.commands import ChatSettings, handle_text
from plans import chat
from plans.access import AccessGrant, PrivacyAlert
from plans.audit import AuditEvent
from tests.bots.fakes import PLAN_EXTRAS, live_person, staff

LINK = ChatSettings(disclosure="link", public_base_url="https://responder.example")
SUMMARY = ChatSettings(
    disclosure="summary", public_base_url="https://responder.example"
)


def say(session: Session, address: str, text: str, settings=LINK, channel="sms"):
    reply = handle_text(
        session, channel=channel, address=address, text=text, settings=settings
    )
    return reply.text if reply else None


@pytest.fixture
def officer_number(session: Session) -> str:
    officer = staff(session, "pc.one@example.org")
    pending = chat.start_number_link(session, "sms", "07700900001", user=officer)
    chat.confirm_number_link(session, pending.code, user=officer)
    return "+447700900001"


@pytest.fixture
def person(session: Session):
    return live_person(session)


def actions(session: Session) -> list[tuple[str, str]]:
    rows = session.scalars(select(AuditEvent).order_by(AuditEvent.seq))
    return [(row.action, row.channel) for row in rows]


@pytest.mark.parametrize("text", ["find Alexandra", "help", "plan", "open 1 attending"])
def test_an_unknown_number_gets_one_generic_line(
    session: Session, person, text: str
) -> None:
    assert say(session, "+447700900999", text) == replies.NOT_LINKED


def test_find_lists_minimal_identity_and_reasons(
    session: Session, person, officer_number: str
) -> None:
    answer = say(session, officer_number, "find Alexandra")
    assert answer.startswith("Matches:\n1. Alexandra Testperson, ")
    assert "Testtown" in answer and "open <number> attending" in answer
    # Minimal identity: no plan text, no date of birth, no address.
    assert PLAN_EXTRAS["summary"] not in answer
    assert "1988" not in answer and "Example Street" not in answer
    assert ("search", "sms") in actions(session)


def test_find_says_how_strong_each_match_is_and_never_quotes_the_plan(
    session: Session, officer_number: str
) -> None:
    behaviour = "Swallows batteries or sharp objects"
    live_person(session, behaviours=[{"description": behaviour}])

    strong = say(session, officer_number, "find alexandra testperson 14/3/88")
    loose = say(
        session, officer_number, "find eaten batteries near testtown bus station"
    )

    assert "1. Alexandra Testperson, " in strong and "strong match: " in strong
    assert replies.NO_STRONG_MATCH not in strong
    assert "possible match: " in loose or "weak match: " in loose
    assert replies.NO_STRONG_MATCH in loose
    # Security finding 7: the responder's words, never the plan's sentences.
    assert "a crisis behaviour (you typed “eaten batteries”)" in loose
    assert "a crisis location " in loose and " m away" in loose
    for answer in (strong, loose):
        assert behaviour not in answer and "Example Street" not in answer
        assert "1988" not in answer


def test_find_near_a_postcode_or_a_place_the_plans_name(
    session: Session, person, officer_number: str
) -> None:
    by_postcode = say(session, officer_number, "find woman near TT1 2AB")
    assert by_postcode.startswith("Matches near TT1 2AB:\n1. Alexandra")
    by_name = say(session, officer_number, "find near testtown bus station")
    assert "1. Alexandra" in by_name
    unknown = say(session, officer_number, "find woman near Atlantis")
    assert unknown == replies.UNKNOWN_PLACE.format(place="Atlantis")


def test_find_without_words_asks_for_them(session: Session, officer_number) -> None:
    assert say(session, officer_number, "find") == replies.FIND_WHAT


def test_open_needs_a_reason_word(session: Session, person, officer_number) -> None:
    say(session, officer_number, "find Alexandra")
    assert say(session, officer_number, "open 1") == replies.SAY_WHY.format(number=1)
    assert session.scalars(select(AccessGrant)).all() == []


def test_open_with_a_reason_grants_and_audits_with_the_channel(
    session: Session, person, officer_number: str
) -> None:
    say(session, officer_number, "find Alexandra")
    answer = say(session, officer_number, "open 1 attending INC-0042")
    assert replies.ADVICE_ONLY in answer
    assert "https://responder.example/plans/TEST-TEAM/00001" in answer
    # Link mode: no plan text over the chat.
    assert PLAN_EXTRAS["summary"] not in answer
    grant = session.scalars(select(AccessGrant)).one()
    assert (grant.basis, grant.incident, grant.channel) == (
        "attending_incident",
        "INC-0042",
        "sms",
    )
    assert actions(session)[-2:] == [("plan_opened", "sms"), ("plan_disclosed", "sms")]
    opened = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "plan_opened")
    ).one()
    assert opened.detail == {"basis": "attending_incident", "incident": "INC-0042"}


def test_repeated_opens_without_an_incident_number_alert_the_privacy_officer(
    session: Session, person, officer_number: str
) -> None:
    for _ in range(3):  # one opening without a number is ordinary; three are not
        say(session, officer_number, "find Alexandra")
        say(session, officer_number, "open 1 attending")
    assert [(a.kind, a.count) for a in session.scalars(select(PrivacyAlert))] == [
        ("no_incident_number", 3)
    ]


def test_summary_mode_sends_summary_and_role_advice_within_three_segments(
    session: Session, person, officer_number: str
) -> None:
    say(session, officer_number, "find Alexandra", SUMMARY)
    answer = say(session, officer_number, "open 1 attending INC-1", SUMMARY)
    assert PLAN_EXTRAS["summary"] in answer
    assert PLAN_EXTRAS["advice_for"]["police"] in answer
    assert PLAN_EXTRAS["advice_for"]["ambulance"] not in answer
    assert replies.ADVICE_ONLY in answer
    assert replies.sms_segments(answer) <= 3


@pytest.mark.parametrize(
    ("summary", "limit"),
    [("Long GSM summary. " * 60, 459), ("Résumé 🙂 ترحيب " * 40, 201)],
)
def test_a_long_summary_is_cut_to_three_segments(
    session: Session, officer_number: str, summary: str, limit: int
) -> None:
    live_person(session, summary=summary)
    say(session, officer_number, "find Alexandra", SUMMARY)
    answer = say(session, officer_number, "open 1 attending INC-1", SUMMARY)
    assert replies.sms_units(answer) <= limit
    assert replies.sms_segments(answer) <= 3
    # The advice-only line and the link are never the part that gets cut.
    assert replies.ADVICE_ONLY in answer
    assert answer.endswith("/plans/TEST-TEAM/00001")


def test_open_refers_to_the_last_results_only(
    session: Session, person, officer_number: str
) -> None:
    assert say(session, officer_number, "open 1 attending") == replies.RESULTS_GONE
    say(session, officer_number, "find Alexandra")
    assert say(session, officer_number, "open 9 attending") == replies.RESULTS_GONE
    assert say(session, officer_number, "open x") == replies.WHICH_RESULT


def test_a_retired_plan_is_not_opened(
    session: Session, person, officer_number: str
) -> None:
    from plans import versions

    say(session, officer_number, "find Alexandra")
    versions.retire(session, person, reason="test")
    answer = say(session, officer_number, "open 1 attending INC-1")
    assert answer.startswith("Not opened:")
    assert session.scalars(select(AccessGrant)).all() == []


def test_staff_who_are_not_responders_cannot_search(session: Session, person) -> None:
    mentor = staff(session, "mentor@example.org", role="mentor")
    token = chat.create_link_token(session, user=mentor)
    chat.redeem_link_token(session, token, "42")
    assert say(session, "42", "find Alexandra", channel="telegram") == (
        replies.NOT_FOR_YOU
    )
    assert say(session, "42", "help", channel="telegram") == replies.HELP_STAFF


def test_unlink_from_the_chat_side(session: Session, officer_number: str) -> None:
    assert say(session, officer_number, "UNLINK") == replies.UNLINKED
    assert say(session, officer_number, "help") == replies.NOT_LINKED


def test_the_person_gets_their_summary_and_mentors(session: Session, person) -> None:
    token = chat.create_link_token(session, person=person)
    assert say(session, "77", f"/start {token}", channel="telegram") == (
        replies.LINKED_PERSON
    )
    answer = say(session, "77", "plan", channel="telegram")
    assert PLAN_EXTRAS["summary"] in answer and "Sam Mentor" in answer
    assert "+44 1632 960001" in answer
    assert ("person_view", "telegram") in actions(session)
    # The person never searches other people's plans.
    assert say(session, "77", "find Alexandra", channel="telegram") == (
        replies.HELP_PERSON
    )


def test_the_person_chooses_opened_messages(session: Session, person) -> None:
    token = chat.create_link_token(session, person=person)
    say(session, "77", f"/start {token}", channel="telegram")
    assert say(session, "77", "opened on", channel="telegram") == replies.OPENED_ON
    link = chat.active_link(session, "telegram", "77")
    assert link.notify_opened is True
    assert say(session, "77", "opened off", channel="telegram") == replies.OPENED_OFF
    assert link.notify_opened is False


def test_a_bad_start_token_links_nothing(session: Session) -> None:
    assert say(session, "55", "/start nope", channel="telegram") == replies.LINK_FAILED
    assert chat.active_link(session, "telegram", "55") is None


@pytest.mark.parametrize(
    "text",
    [
        "\u200ffind Alexandra\u200f",  # right-to-left marks around the command
        "FIND   Alexandra",
        "/find@ResponderTestBot Alexandra",
    ],
)
def test_commands_survive_direction_marks_case_and_bot_suffixes(
    session: Session, person, officer_number: str, text: str
) -> None:
    assert "1. Alexandra" in say(session, officer_number, text)


def test_an_over_long_message_is_refused_politely(
    session: Session, officer_number: str
) -> None:
    assert say(session, officer_number, "find " + "x" * 1600) == replies.TOO_LONG


def test_each_number_is_rate_limited(session: Session, officer_number: str) -> None:
    answers = [say(session, officer_number, "help") for _ in range(chat.RATE_LIMIT + 2)]
    assert answers[: chat.RATE_LIMIT] == [replies.HELP_RESPONDER] * chat.RATE_LIMIT
    assert answers[chat.RATE_LIMIT :] == [None, None]


@pytest.mark.parametrize(
    ("text", "units", "segments"),
    [
        ("a" * 160, 160, 1),
        ("a" * 161, 161, 2),
        ("a" * 459, 459, 3),
        ("€" * 80, 160, 1),  # extension characters take two septets
        ("é" * 160, 160, 1),  # é is in the GSM-7 alphabet
        ("ê" * 70, 70, 1),  # ê is not: UCS-2
        ("ê" * 71, 71, 2),
        ("🙂" * 35, 70, 1),  # an emoji is two UTF-16 units
        ("ش" * 201, 201, 3),
    ],
)
def test_sms_segments_are_counted_as_networks_count_them(
    text: str, units: int, segments: int
) -> None:
    assert replies.sms_units(text) == units
    assert replies.sms_segments(text) == segments


def test_the_person_gets_a_one_time_link_to_their_own_view(
    session: Session, person
) -> None:
    from plans import people

    token = chat.create_link_token(session, person=person)
    say(session, "77", f"/start {token}", channel="telegram")
    answer = say(session, "77", "view", channel="telegram")
    url = answer.rsplit(" ", 1)[1]
    assert url.startswith("https://responder.example/me/link/")
    row = people.redeem_link(session, url.rsplit("/", 1)[1])
    assert row is not None and row.person_id == person.id and row.via == "telegram"
