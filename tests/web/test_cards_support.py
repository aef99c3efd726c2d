"""Helpers shared by the card and person-view tests: people, keys and sign-in."""

from __future__ import annotations

import io
from pathlib import Path

import zxingcpp
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy.orm import Session

from plans import accounts, card_keys, versions
from plans.models import Person, User
from tests.plans import factories

PASSWORD = "correct horse battery staple"


def use_fresh_keys(app: Flask, kid: str = "T1") -> card_keys.KeySet:
    """Give the app its own card keys for this test."""
    keys = card_keys.KeySet((card_keys.generate_master_key(kid),))
    app.config["CARD_SIGNING_KEYS"] = card_keys.format_keys(keys)
    app.config["CARD_BASE_URL"] = "https://responder.example"
    return keys


def live_person(db: Session, ref: str = "TEST-TEAM/00001") -> Person:
    """Store a person with a live plan and return them."""
    person = factories.person(db, ref=ref)
    versions.make_live(
        db,
        factories.draft(
            db,
            person,
            mentors=[{"name": "Sam Mentor", "role": "mentor", "phone": "01632 960001"}],
        ),
    )
    return person


def staff(db: Session, email: str, role: str, *, team: bool = True) -> User:
    """Store a user of the test team."""
    return accounts.create_user(
        db,
        email,
        role=role,
        password=PASSWORD,
        organisation="Test Constabulary" if role == "police" else "Test Trust",
        team_codes=["TEST-TEAM"] if team else [],
    )


def sign_in(app: Flask, client: FlaskClient, user: User) -> None:
    """Sign `user` in on this client through the real sign-in pages."""
    from tests.conftest import AuthActions

    AuthActions(app, client).login(role=user.role, teams=(), email=user.email)


def decode_qr(png: bytes) -> str:
    """Read a QR code out of a PNG with a real decoder."""
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(results) == 1, "exactly one QR code on the image"
    return results[0].text


def path_of(url: str) -> str:
    """Return the path of an absolute card URL, for the test client."""
    return "/" + url.split("/", 3)[3]


def test_first_requests_in_parallel_create_one_key_file(tmp_path: Path) -> None:
    """Threads of one process writing the key file at once: one file, no error."""
    import threading

    from responder.cards import write_key_file

    errors: list[BaseException] = []
    for round_ in range(40):
        path = tmp_path / f"instance-{round_}" / "card-keys.json"
        barrier = threading.Barrier(8)

        def write(
            number: int, path: Path = path, barrier: threading.Barrier = barrier
        ) -> None:
            barrier.wait()
            try:
                write_key_file(path, f"keys {number}\n" * 2000)
            except BaseException as error:  # noqa: BLE001 - any error fails the test
                errors.append(error)

        threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [p.name for p in path.parent.iterdir()] == ["card-keys.json"]
        assert path.read_text().startswith("keys ")
        assert path.stat().st_mode & 0o777 == 0o600
    assert errors == []
