"""A photo the person agreed to, so a responder can confirm who this is.

A mentor adds it with the person's agreement recorded; the image is re-encoded
here (EXIF and every other metadata block dropped, turned upright, at most
`MAX_SIDE` pixels on its longest side and `MAX_BYTES` stored) and kept in the
database beside the plan version it was added to. A plan version shows the newest
photo added to it or to an earlier version of the same person, so a new version
keeps the photo without anyone copying it.

A responder sees it only inside a plan they have opened on an access basis: every
view is audited here, never by the caller. Removing it (the person asks, or the
plan is withdrawn) deletes the image bytes at once; the row stays so the record
says when and why.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import ForeignKey, Integer, LargeBinary, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from plans import audit
from plans.db import Base, utcnow
from plans.models import Person, PlanVersion, User
from plans.vocabulary import Channel

MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # the app's request cap (MAX_CONTENT_LENGTH)
MAX_SIDE = 480  # pixels: a face at phone size, twice over for a sharp screen
MAX_BYTES = 48 * 1024  # the stored cap a responder's phone downloads
MAX_PIXELS = 50_000_000  # refuse decompression bombs before decoding
ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "HEIF", "MPO"})
ADDERS = ("mentor", "lead_clinician")
MEDIA_TYPE = "image/jpeg"


class PhotoError(ValueError):
    """The photo cannot be added or shown, in words."""


class PlanPhoto(Base):
    """A photo of the person, kept with the plan version it was added to."""

    __tablename__ = "plan_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    plan_version_id: Mapped[int] = mapped_column(ForeignKey("plan_versions.id"))
    # NULL once removed: the bytes go at once, the record of them stays.
    image: Mapped[bytes | None] = mapped_column(LargeBinary)
    media_type: Mapped[str] = mapped_column(String(32), default=MEDIA_TYPE)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    byte_size: Mapped[int] = mapped_column(Integer)
    agreed_with_person: Mapped[bool] = mapped_column(default=False)
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[dt.datetime | None]
    removed_reason: Mapped[str | None] = mapped_column(String(200))

    person: Mapped[Person] = relationship()
    version: Mapped[PlanVersion] = relationship()


def prepare(data: bytes) -> tuple[bytes, int, int]:
    """Return the image re-encoded as a small JPEG with no metadata, and its size."""
    if not data:
        raise PhotoError("choose a photo")
    if len(data) > MAX_UPLOAD_BYTES:
        raise PhotoError(
            f"the photo is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; "
            "take a smaller one"
        )
    try:
        with Image.open(io.BytesIO(data)) as source:
            if source.format not in ACCEPTED_FORMATS:
                raise PhotoError("a photo must be a JPEG, PNG or WebP image")
            width, height = source.size
            if width * height > MAX_PIXELS:
                raise PhotoError("the photo is too large to read")
            upright = ImageOps.exif_transpose(source)
            picture = upright.convert("RGB")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as error:
        raise PhotoError("that file is not a photo this service can read") from error
    picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # Drop everything but the pixels: a fresh image carries no EXIF, GPS or ICC.
    clean = Image.new("RGB", picture.size)
    clean.paste(picture)
    for quality in (82, 72, 62, 52, 42):
        out = io.BytesIO()
        clean.save(out, format="JPEG", quality=quality, optimize=True)
        if out.tell() <= MAX_BYTES:
            return out.getvalue(), clean.width, clean.height
    raise PhotoError("the photo could not be made small enough; try a plainer one")


def add_photo(
    session: Session,
    version: PlanVersion,
    data: bytes,
    *,
    by: User,
    agreed_with_person: bool,
    channel: Channel = "web",
) -> PlanPhoto:
    """Add the person's photo to this version, replacing any earlier one, audited."""
    if by.role not in ADDERS or version.person.team_id not in by.team_ids:
        raise PhotoError("only a mentor of the person's team adds a photo")
    if not agreed_with_person:
        raise PhotoError("add a photo only when the person has agreed to it")
    if version.status not in ("draft", "live"):
        raise PhotoError("add the photo to the live plan or a draft")
    image, width, height = prepare(data)
    remove_photos(
        session,
        version.person,
        by=by,
        reason="replaced",
        channel=channel,
        audit_it=False,
    )
    photo = PlanPhoto(
        person_id=version.person_id,
        plan_version_id=version.id,
        image=image,
        media_type=MEDIA_TYPE,
        width=width,
        height=height,
        byte_size=len(image),
        agreed_with_person=True,
        added_at=utcnow(),
        added_by_id=by.id,
    )
    session.add(photo)
    session.flush()
    audit.record_for(
        session,
        by,
        action="photo_added",
        channel=channel,
        person_ref=version.person.ref,
        plan_version_id=version.id,
        detail={"version": version.version},
    )
    return photo


def current_photo(session: Session, version: PlanVersion) -> PlanPhoto | None:
    """Return the photo this version shows: the newest added to it or before it."""
    return session.scalar(
        select(PlanPhoto)
        .join(PlanVersion, PlanVersion.id == PlanPhoto.plan_version_id)
        .where(
            PlanPhoto.person_id == version.person_id,
            PlanPhoto.removed_at.is_(None),
            PlanPhoto.image.is_not(None),
            PlanVersion.version <= version.version,
        )
        .order_by(PlanPhoto.added_at.desc(), PlanPhoto.id.desc())
        .limit(1)
    )


def view_photo(
    session: Session, user: User, photo_id: int, *, channel: Channel = "web"
) -> PlanPhoto:
    """Return the photo to a responder who has opened the plan it belongs to, audited.

    Raise PhotoError for anyone else, and for a photo that is not the one the live
    plan shows (removed, replaced, or the plan withdrawn).
    """
    from plans.access import active_grant  # access imports models; avoid a cycle

    photo = session.get(PlanPhoto, photo_id)
    if photo is None or not user.is_responder:
        raise PhotoError("no such photo")
    person = photo.person
    live = person.live_version(session)
    if live is None or active_grant(session, user, person) is None:
        raise PhotoError("open the plan first")
    shown = current_photo(session, live)
    if shown is None or shown.id != photo.id:
        raise PhotoError("no such photo")
    audit.record_for(
        session,
        user,
        action="photo_viewed",
        channel=channel,
        person_ref=person.ref,
        plan_version_id=live.id,
        detail={"version": live.version},
    )
    return photo


def remove_photos(
    session: Session,
    person: Person,
    *,
    by: User | None,
    reason: str,
    channel: Channel = "web",
    audit_it: bool = True,
) -> int:
    """Delete the image bytes of every photo of this person now; return how many.

    `by` None is the person themselves (their own view) or the withdrawal of the plan.
    """
    if by is not None and by.role not in (*ADDERS, "privacy_officer"):
        raise PhotoError(
            "only the person, their mentors or a privacy officer remove it"
        )
    now = utcnow()
    photos = list(
        session.scalars(
            select(PlanPhoto).where(
                PlanPhoto.person_id == person.id, PlanPhoto.removed_at.is_(None)
            )
        )
    )
    for photo in photos:
        photo.image = None
        photo.removed_at = now
        photo.removed_reason = " ".join(reason.split())[:200] or "removed"
    session.flush()
    if photos and audit_it:
        detail: dict[str, Any] = {"count": len(photos), "why": reason[:100]}
        if by is None:
            audit.record(
                session,
                action="photo_removed",
                channel=channel,
                person_ref=person.ref,
                detail=detail,
            )
        else:
            audit.record_for(
                session,
                by,
                action="photo_removed",
                channel=channel,
                person_ref=person.ref,
                detail=detail,
            )
    return len(photos)
