"""Blueprint `photos`: a mentor adds or removes the person's photo.

The photo itself reaches a responder only inside an opened plan
(`lookup.plan_photo`); here a mentor of the person's team adds it, with the
person's agreement recorded, or removes it at once when the person asks.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from plans import photos
from plans.models import Person, PlanVersion, User
from responder.access import MENTORS, roles_required
from responder.db import get_session
from responder.rows import person_by_ref_or_404

bp = Blueprint("photos", __name__)


def version_for_photo(person: Person) -> PlanVersion | None:
    """Return the version a new photo goes with: the live one, else the newest draft."""
    session = get_session()
    live = person.live_version(session)
    if live is not None:
        return live
    return session.scalar(
        select(PlanVersion)
        .where(PlanVersion.person_id == person.id, PlanVersion.status == "draft")
        .order_by(PlanVersion.version.desc())
        .limit(1)
    )


def staff() -> User:
    """Return the signed-in user as the domain object."""
    user: User = current_user._get_current_object()
    return user


@bp.get("/photos/for/<path:ref>")
@roles_required(*MENTORS)
def person_photo(ref: str) -> ResponseReturnValue:
    """Show whether the person has a photo, with forms to add or remove it."""
    person = person_by_ref_or_404(ref)
    version = version_for_photo(person)
    current = photos.current_photo(get_session(), version) if version else None
    page = render_template(
        "photos/person.html",
        person=person,
        version=version,
        photo=current,
        max_side=photos.MAX_SIDE,
        max_kb=photos.MAX_BYTES // 1024,
        max_upload_mb=photos.MAX_UPLOAD_BYTES // (1024 * 1024),
    )
    return Response(page)


@bp.post("/photos/for/<path:ref>")
@roles_required(*MENTORS)
def add(ref: str) -> ResponseReturnValue:
    """Add the person's photo (EXIF stripped, resized) with their agreement."""
    session = get_session()
    person = person_by_ref_or_404(ref)
    version = version_for_photo(person)
    upload = request.files.get("photo")
    try:
        if version is None:
            raise photos.PhotoError("write a plan first: a photo goes with a plan")
        photos.add_photo(
            session,
            version,
            upload.read() if upload else b"",
            by=staff(),
            agreed_with_person=request.form.get("agreed") == "yes",
        )
    except photos.PhotoError as error:
        session.rollback()
        flash(str(error).capitalize() + ".", "error")
    else:
        session.commit()
        flash("Photo added. Responders see it only inside an opened plan.", "ok")
    return redirect(url_for("photos.person_photo", ref=person.ref), code=303)


@bp.post("/photos/for/<path:ref>/remove")
@roles_required(*MENTORS)
def remove(ref: str) -> ResponseReturnValue:
    """Remove the person's photo at once (they asked, or it is wrong)."""
    session = get_session()
    person = person_by_ref_or_404(ref)
    photos.remove_photos(
        session, person, by=staff(), reason="the person asked", channel="web"
    )
    session.commit()
    flash("Photo removed. No responder can see it any more.", "ok")
    return redirect(url_for("photos.person_photo", ref=person.ref), code=303)
