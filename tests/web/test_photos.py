"""The person's photo: added by a mentor, clean and small, seen only inside an
opened plan, never cached, every view audited, removed at once."""

from __future__ import annotations

import io

import pytest
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import photos
from plans.models import Person
from tests.web.test_lookup import alexandra, audit_rows, csrf, land, open_with_reason

pytestmark = pytest.mark.usefixtures("app")


def camera_photo(width: int = 3000, height: int = 4000, *, fmt: str = "JPEG") -> bytes:
    """Return a large photo carrying EXIF with a GPS position, as a phone makes."""
    image = Image.effect_noise((width // 10, height // 10), 60).convert("RGB")
    image = image.resize((width, height))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (50.0, 54.0, 27.0)}  # GPS
    exif[0x0112] = 6  # Orientation: rotate 90
    out = io.BytesIO()
    image.save(out, format=fmt, exif=exif, quality=95)
    return out.getvalue()


def person_of(db: Session, ref: str = "TEST-TEAM/00001") -> Person:
    db.expire_all()
    person = db.scalar(select(Person).where(Person.ref == ref))
    assert person is not None
    return person


def add_photo_as_mentor(client: FlaskClient, auth, data: bytes, **form: str):
    if auth.user is None:
        auth.login(role="mentor", teams=("TEST-TEAM",))
    path = "/photos/for/TEST-TEAM/00001"
    return client.post(
        path,
        data={
            "photo": (io.BytesIO(data), "me.jpg"),
            "agreed": "yes",
            **form,
            **csrf(client, path),
        },
        content_type="multipart/form-data",
    )


def test_a_photo_is_stripped_of_exif_turned_upright_and_resized() -> None:
    image, width, height = photos.prepare(camera_photo(1500, 2000))

    stored = Image.open(io.BytesIO(image))
    assert stored.format == "JPEG"
    assert not stored.getexif()
    assert "exif" not in stored.info and "icc_profile" not in stored.info
    assert max(width, height) == photos.MAX_SIDE
    assert width > height  # orientation 6 applied: the portrait turned upright
    assert len(image) <= photos.MAX_BYTES


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "choose a photo"),
        (b"GIF89a not really", "not a photo"),
        (b"x" * (photos.MAX_UPLOAD_BYTES + 1), "over 2 MB"),
    ],
)
def test_what_is_not_a_usable_photo_is_refused_in_words(
    data: bytes, words: str
) -> None:
    with pytest.raises(photos.PhotoError, match=words):
        photos.prepare(data)


def test_a_mentor_adds_a_photo_only_with_the_persons_agreement(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra())

    refused = add_photo_as_mentor(client, auth, camera_photo(800, 600), agreed="")
    assert refused.status_code == 303
    assert db.scalar(select(photos.PlanPhoto)) is None

    added = add_photo_as_mentor(client, auth, camera_photo(800, 600))
    assert added.status_code == 303
    photo = db.scalar(select(photos.PlanPhoto))
    assert photo is not None and photo.agreed_with_person
    assert len(audit_rows(db, "photo_added")) == 1


def test_the_photo_shows_only_inside_an_opened_plan_and_is_never_cached(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra())
    add_photo_as_mentor(client, auth, camera_photo(800, 600))
    photo_id = db.scalar(select(photos.PlanPhoto.id))
    auth.logout()
    auth.login(role="police")

    unopened = client.get(f"/plan-photos/{photo_id}")
    assert unopened.status_code == 404
    basis_page = client.get("/open/TEST-TEAM/00001").get_data(as_text=True)
    assert "plan-photos" not in basis_page

    open_with_reason(client, incident="INC-1")
    page = client.get("/plans/TEST-TEAM/00001").get_data(as_text=True)
    assert f'src="/plan-photos/{photo_id}"' in page
    response = client.get(f"/plan-photos/{photo_id}")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    # The view asks for "no-store, private"; the app-wide header policy keeps
    # the stricter of the two on every personal response.
    assert "no-store" in response.headers["Cache-Control"]
    assert len(audit_rows(db, "photo_viewed")) == 1


def test_removing_the_photo_deletes_it_at_once(
    client: FlaskClient, auth, db: Session
) -> None:
    land(db, alexandra())
    add_photo_as_mentor(client, auth, camera_photo(800, 600))
    path = "/photos/for/TEST-TEAM/00001/remove"

    client.post(path, data=csrf(client, "/photos/for/TEST-TEAM/00001"))

    db.expire_all()
    photo = db.scalar(select(photos.PlanPhoto))
    assert photo is not None and photo.image is None and photo.removed_at
    assert len(audit_rows(db, "photo_removed")) == 1


def test_withdrawal_removes_the_photo(client: FlaskClient, auth, db: Session) -> None:
    from plans import people
    from plans.models import User

    land(db, alexandra())
    add_photo_as_mentor(client, auth, camera_photo(800, 600))
    person = person_of(db)
    mentor = db.get(User, auth.user.id)
    request = people.raise_request(db, person, kind="withdrawal", message="", via="web")
    people.complete_withdrawal(db, request, by=mentor)
    db.commit()

    photo = db.scalar(select(photos.PlanPhoto))
    assert photo is not None and photo.image is None
    assert photo.removed_reason == "plan withdrawn"


def test_a_new_version_keeps_the_photo_and_an_earlier_one_never_gains_it(
    db: Session,
) -> None:
    from plans.models import PlanVersion, User
    from tests.plans.factories import draft, person

    who = person(db)
    first = draft(db, who, 1)
    mentor = User(email="m@example.test", display_name="M", role="mentor")
    db.add(mentor)
    db.flush()
    from plans.models import TeamMembership

    db.add(TeamMembership(user_id=mentor.id, team_id=who.team_id))
    db.flush()
    db.refresh(mentor)
    second = draft(db, who, 2)
    photo = photos.add_photo(
        db, second, camera_photo(600, 600), by=mentor, agreed_with_person=True
    )
    third = draft(db, who, 3)

    assert photos.current_photo(db, first) is None
    assert photos.current_photo(db, second) == photo
    assert photos.current_photo(db, third) == photo
    assert isinstance(third, PlanVersion)
