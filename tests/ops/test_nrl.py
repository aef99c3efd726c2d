"""NRL pointers: created, superseded and deleted through the queue, against a
stand-in NRL on 127.0.0.1, with the application-restricted signed JWT."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from plans import audit, clock, nrl, people, versions
from plans.db import create_schema, make_session_factory
from plans.models import Person, PlanVersion
from responder.nrl import HttpTransport, NrlConfig, NrlNotConfigured, load_config
from responder.nrl import send_pending as send_pending_with
from tests.nrl_server import StandInNrl, stand_in_nrl, verify_jwt
from tests.plans import factories

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
NHS_NUMBER = "9434765919"
ODS = "RX4"
API_KEY = "test-api-key"
KID = "test-1"


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def nrl_server(private_key: rsa.RSAPrivateKey) -> Iterator[StandInNrl]:
    with stand_in_nrl(private_key.public_key()) as server:
        yield server


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine, info={nrl.SESSION_FLAG: True})


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session


@pytest.fixture
def config(nrl_server: StandInNrl, private_key: rsa.RSAPrivateKey) -> NrlConfig:
    return NrlConfig(
        base_url=nrl_server.producer_url,
        token_url=nrl_server.token_url,
        api_key=API_KEY,
        kid=KID,
        private_key=private_key,
        pointers=nrl.PointerSettings(
            ods_code=ODS, contact_url="https://trust.example/crisis-teams/{team}"
        ),
    )


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[None]:
    with clock.frozen(NOW):
        yield


def send(
    sessions: sessionmaker[Session], config: NrlConfig, at: dt.datetime = NOW
) -> Any:
    with requests.Session() as http:
        transport = HttpTransport(config, http, now=lambda: at)
        return send_pending_with(sessions, transport, config.pointers, now=lambda: at)


def person_with_number(session: Session, number: str | None = NHS_NUMBER) -> Person:
    person = factories.person(session)
    person.nhs_number = number
    session.flush()
    return person


def publish(session: Session, person: Person, version: int = 1, **plan: Any) -> None:
    versions.make_live(session, factories.draft(session, person, version, **plan))
    session.commit()


def audit_actions(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(audit.AuditEvent.action)
            .where(audit.AuditEvent.action.like("nrl_%"))
            .order_by(audit.AuditEvent.seq)
        )
    )


def messages(session: Session) -> list[nrl.NrlMessage]:
    session.expire_all()
    return list(session.scalars(select(nrl.NrlMessage).order_by(nrl.NrlMessage.id)))


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


# -- create, supersede, delete ---------------------------------------------------


def test_going_live_creates_a_pointer_that_says_whom_to_call(
    session: Session,
    sessions: sessionmaker[Session],
    config: NrlConfig,
    nrl_server: StandInNrl,
) -> None:
    person = person_with_number(session)
    publish(session, person)

    report = send(sessions, config)

    assert report.sent == 1
    [pointer] = nrl_server.pointers.values()
    assert pointer["resourceType"] == "DocumentReference"
    assert pointer["subject"]["identifier"] == {
        "system": "https://fhir.nhs.uk/Id/nhs-number",
        "value": NHS_NUMBER,
    }
    assert pointer["type"]["coding"][0]["code"] == "736253002"
    assert pointer["type"]["coding"][0]["system"] == "http://snomed.info/sct"
    [content] = pointer["content"]
    assert content["format"]["code"] == "urn:nhs-ic:record-contact"
    assert pointer["custodian"]["identifier"]["value"] == ODS
    assert "TEST-TEAM team" in content["attachment"]["title"]
    assert "+44 1632 960000" in content["attachment"]["title"]
    assert (
        content["attachment"]["url"] == "https://trust.example/crisis-teams/TEST-TEAM"
    )
    assert "relatesTo" not in pointer
    stored = session.get(nrl.NrlPointer, person.id)
    assert stored is not None and stored.pointer_id == pointer["id"]
    assert audit_actions(session) == ["nrl_pointer_created"]


def test_the_pointer_carries_nothing_of_the_plan(
    session: Session,
    sessions: sessionmaker[Session],
    config: NrlConfig,
    nrl_server: StandInNrl,
) -> None:
    person = person_with_number(session)
    publish(
        session,
        person,
        behaviours=[{"description": "Climbs onto the multistorey car park roof"}],
        please_do=["Speak slowly and use my name"],
    )
    send(sessions, config)

    [request] = nrl_server.producer_requests()
    sent = set(strings_in(request.body))
    version = session.scalars(select(PlanVersion)).one()
    plan_words = {
        text
        for text in strings_in(version.document["plan"])
        if len(text) > 12  # words, not dates or enumerations
    } | {person.given_name, person.family_name}
    assert plan_words
    assert not {w for w in plan_words if any(w in s for s in sent)}
    assert set(request.body) <= {
        "resourceType",
        "status",
        "type",
        "category",
        "subject",
        "custodian",
        "author",
        "date",
        "content",
        "relatesTo",
    }


def test_a_new_live_version_supersedes_the_pointer(
    session: Session,
    sessions: sessionmaker[Session],
    config: NrlConfig,
    nrl_server: StandInNrl,
) -> None:
    person = person_with_number(session)
    publish(session, person)
    send(sessions, config)
    [first] = nrl_server.pointers

    publish(session, person, 2)
    assert send(sessions, config).sent == 1

    second = nrl_server.producer_requests()[-1]
    assert second.method == "POST"
    assert second.body["relatesTo"] == [
        {"code": "replaces", "target": {"identifier": {"value": first}}}
    ]
    assert list(nrl_server.pointers) != [first] and len(nrl_server.pointers) == 1
    session.expire_all()
    assert session.get(nrl.NrlPointer, person.id).version == 2
    assert audit_actions(session) == ["nrl_pointer_created", "nrl_pointer_superseded"]


def test_retiring_deletes_the_pointer(
    session: Session,
    sessions: sessionmaker[Session],
    config: NrlConfig,
    nrl_server: StandInNrl,
) -> None:
    person = person_with_number(session)
    publish(session, person)
    send(sessions, config)
    [pointer_id] = nrl_server.pointers

    versions.retire(session, person, reason="Discharged from the team")
    session.commit()
    assert send(sessions, config).sent == 1

    last = nrl_server.producer_requests()[-1]
    assert last.method == "DELETE" and last.path.endswith(f"/{pointer_id}")
    assert nrl_server.pointers == {}
    session.expire_all()
    assert session.get(nrl.NrlPointer, person.id) is None
    assert audit_actions(session) == ["nrl_pointer_created", "nrl_pointer_deleted"]


def test_a_withdrawal_deletes_the_pointer(
    session: Session,
    sessions: sessionmaker[Session],
    config: NrlConfig,
    nrl_server: StandInNrl,
) -> None:
    from plans import accounts

    person = person_with_number(session)
    publish(session, person)
    send(sessions, config)
    mentor = accounts.create_user(
        session, "mentor@example.org", role="mentor", team_codes=["TEST-TEAM"]
    )
    request = people.raise_request(
        session, person, kind="withdrawal", message="", via="web"
    )
    people.complete_withdrawal(session, request, by=mentor)
    session.commit()

    assert send(sessions, config).sent == 1
    assert nrl_server.pointers == {}
    assert audit_actions(session)[-1] == "nrl_pointer_deleted"


def test_publishing_then_retiring_before_a_send_sends_nothing(
    session: Session,
    sessions: sessionmaker[Session],
    config: NrlConfig,
    nrl_server: StandInNrl,
) -> None:
    person = person_with_number(session)
    publish(session, person)
    versions.retire(session, person, reason="Entered in error")
    session.commit()

    report = send(sessions, config)

    assert nrl_server.producer_requests() == []
    assert [m.status for m in messages(session)] == ["cancelled", "cancelled"]
    assert report.sent == 0


# -- retries and refusals --------------------------------------------------------


def test_a_5xx_is_retried_after_the_back_off(
    session: Session,
    sessions: sessionmaker[Session],
    config: NrlConfig,
    nrl_server: StandInNrl,
) -> None:
    person = person_with_number(session)
    publish(session, person)
    nrl_server.fail_next = [503]

    assert send(sessions, config).retrying == 1
    [message] = messages(session)
    assert message.status == "pending" and message.last_error == "HTTP 503"
    assert message.next_attempt_at == NOW + dt.timedelta(seconds=30)

    # Not due yet: nothing is sent.
    before = len(nrl_server.producer_requests())
    assert send(sessions, config, NOW + dt.timedelta(seconds=29)).sent == 0
    assert len(nrl_server.producer_requests()) == before

    assert send(sessions, config, NOW + dt.timedelta(seconds=31)).sent == 1
    assert len(nrl_server.pointers) == 1
    assert audit_actions(session) == ["nrl_pointer_created"]


def test_an_unreachable_nrl_is_retried(
    session: Session, sessions: sessionmaker[Session], config: NrlConfig
) -> None:
    person = person_with_number(session)
    publish(session, person)
    closed = NrlConfig(**{**config.__dict__, "token_url": "http://127.0.0.1:9/t"})

    assert send(sessions, closed).retrying == 1
    [message] = messages(session)
    assert message.status == "pending"
    assert message.last_error == "ConnectionError"


def test_a_4xx_is_refused_recorded_and_never_retried(
    session: Session,
    sessions: sessionmaker[Session],
    config: NrlConfig,
    nrl_server: StandInNrl,
) -> None:
    person = person_with_number(session)
    publish(session, person)
    nrl_server.fail_next = [422]

    assert send(sessions, config).refused == 1
    [message] = messages(session)
    assert message.status == "refused" and message.last_error == "HTTP 422"
    assert audit_actions(session) == ["nrl_pointer_refused"]

    before = len(nrl_server.producer_requests())
    assert send(sessions, config, NOW + dt.timedelta(days=1)).sent == 0
    assert len(nrl_server.producer_requests()) == before


# -- what is never sent ----------------------------------------------------------


def test_nothing_is_queued_for_a_plan_without_an_nhs_number(
    session: Session,
    sessions: sessionmaker[Session],
    config: NrlConfig,
    nrl_server: StandInNrl,
) -> None:
    person = person_with_number(session, None)
    publish(session, person)

    assert messages(session) == []
    assert send(sessions, config).sent == 0
    assert nrl_server.requests == []


def test_nothing_is_queued_without_a_lawful_basis_to_share(
    session: Session,
    sessions: sessionmaker[Session],
    config: NrlConfig,
    nrl_server: StandInNrl,
) -> None:
    person = person_with_number(session)
    publish(session, person, sharing_basis=None)

    assert messages(session) == []
    send(sessions, config)
    assert nrl_server.requests == []


def test_the_number_and_basis_are_checked_again_when_sending(
    session: Session,
    sessions: sessionmaker[Session],
    config: NrlConfig,
    nrl_server: StandInNrl,
) -> None:
    person = person_with_number(session)
    publish(session, person)
    person.nhs_number = None
    session.commit()

    assert send(sessions, config).cancelled == 1
    assert nrl_server.producer_requests() == []


def test_a_version_without_a_basis_deletes_the_pointer_before_it(
    session: Session,
    sessions: sessionmaker[Session],
    config: NrlConfig,
    nrl_server: StandInNrl,
) -> None:
    person = person_with_number(session)
    publish(session, person)
    send(sessions, config)

    publish(session, person, 2, sharing_basis=None)
    send(sessions, config)

    assert nrl_server.pointers == {}
    assert nrl_server.producer_requests()[-1].method == "DELETE"


def test_nothing_is_queued_unless_nrl_is_switched_on(engine: Engine) -> None:
    with make_session_factory(engine)() as off:
        person = person_with_number(off)
        publish(off, person)
        assert off.scalars(select(nrl.NrlMessage)).all() == []


# -- application-restricted authentication ---------------------------------------


def test_the_client_assertion_is_a_verifiable_rs512_jwt(
    session: Session,
    sessions: sessionmaker[Session],
    config: NrlConfig,
    nrl_server: StandInNrl,
    private_key: rsa.RSAPrivateKey,
) -> None:
    person = person_with_number(session)
    publish(session, person)
    send(sessions, config)

    [assertion] = nrl_server.assertions
    header, claims = verify_jwt(assertion, private_key.public_key())
    assert header == {"alg": "RS512", "typ": "JWT", "kid": KID}
    assert claims["iss"] == claims["sub"] == API_KEY
    assert claims["aud"] == nrl_server.token_url
    assert claims["jti"]
    assert 0 < claims["exp"] - NOW.timestamp() <= 300

    [request] = nrl_server.producer_requests()
    token = request.headers["Authorization"].removeprefix("Bearer ")
    assert token in nrl_server.tokens
    assert request.headers["NHSD-End-User-Organisation-ODS"] == ODS
    assert request.headers["X-Request-ID"]


def test_an_assertion_signed_with_another_key_gets_no_token(
    session: Session,
    sessions: sessionmaker[Session],
    config: NrlConfig,
    nrl_server: StandInNrl,
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = NrlConfig(**{**config.__dict__, "private_key": other})
    person = person_with_number(session)
    publish(session, person)

    assert send(sessions, forged).retrying == 1

    assert nrl_server.producer_requests() == []
    [message] = messages(session)
    assert message.last_error == "TokenRefused"
    with pytest.raises(InvalidSignature):
        verify_jwt(nrl_server.assertions[0], config.private_key.public_key())


# -- configuration and the CLI ---------------------------------------------------


def write_key(path: Path, key: rsa.RSAPrivateKey) -> str:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path)


def test_load_config_names_what_is_missing() -> None:
    with pytest.raises(NrlNotConfigured, match="off"):
        load_config({})
    with pytest.raises(NrlNotConfigured, match="RESPONDER_NRL_KID"):
        load_config({"NRL_BASE_URL": "https://nrl.example/p", "NRL_API_KEY": "k"})


def test_the_cli_sends_and_counts(
    database_url: str,
    tmp_path: Path,
    nrl_server: StandInNrl,
    private_key: rsa.RSAPrivateKey,
) -> None:
    from responder import create_app

    app: Flask = create_app(
        {
            "TESTING": True,
            "ENVIRONMENT": "test",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "NRL_BASE_URL": nrl_server.producer_url,
            "NRL_TOKEN_URL": nrl_server.token_url,
            "NRL_API_KEY": API_KEY,
            "NRL_KID": KID,
            "NRL_KEY_FILE": write_key(tmp_path / "nrl.pem", private_key),
            "NRL_ODS_CODE": ODS,
            "NRL_CONTACT_URL": "https://trust.example/crisis-teams/{team}",
        }
    )
    try:
        create_schema(app.extensions["responder.engine"])
        with app.extensions["responder.sessions"]() as session:
            publish(session, person_with_number(session))
        runner = app.test_cli_runner()

        result = runner.invoke(args=["nrl", "send"])
        assert result.exit_code == 0, result.output
        assert "sent 1" in result.output
        status = runner.invoke(args=["nrl", "status"])
        assert "sent: 1" in status.output and "pointers held: 1" in status.output
        assert NHS_NUMBER not in status.output
    finally:
        app.extensions["responder.engine"].dispose()
    assert len(nrl_server.pointers) == 1


def test_the_cli_says_when_nrl_is_off(runner: Any) -> None:
    result = runner.invoke(args=["nrl", "send"])
    assert result.exit_code == 1
    assert "NRL is off" in result.output
    assert "NRL is off" in runner.invoke(args=["nrl", "status"]).output


def test_the_request_body_is_json_serialisable() -> None:
    document = nrl.pointer_document(
        nhs_number=NHS_NUMBER,
        ods_code=ODS,
        team_name="Crisis team",
        team_phone=None,
        contact_url="https://trust.example/",
        created=NOW,
        replaces="RX4-1",
    )
    assert json.loads(json.dumps(document)) == document
    assert document["content"][0]["attachment"]["title"].endswith("Crisis team")


def test_a_bulk_import_queues_one_pointer_per_plan_that_may_have_one(
    session: Session,
    sessions: sessionmaker[Session],
    config: NrlConfig,
    nrl_server: StandInNrl,
) -> None:
    from plans import exchange
    from plans.nhs_numbers import synthetic_nhs_number

    documents = []
    for serial in range(6):
        doc = factories.document(f"TEST-TEAM/{serial:05d}")
        if serial % 3:  # two in three have an NHS number
            doc["person"]["nhs_number"] = synthetic_nhs_number(serial)
        documents.append(doc)
    report = exchange.import_documents(session, documents, actor="test", source="t")
    session.commit()
    assert report.added == 6

    assert [m.action for m in messages(session)] == ["publish"] * 4
    # The same documents again change nothing, and queue nothing.
    exchange.import_documents(session, documents, actor="test", source="t")
    session.commit()
    assert len(messages(session)) == 4

    assert send(sessions, config).sent == 4
    numbers = {
        p["subject"]["identifier"]["value"] for p in nrl_server.pointers.values()
    }
    assert numbers == {
        d["person"]["nhs_number"] for d in documents[1:3] + documents[4:]
    }
