"""Serving a plan as a FHIR bundle to an authorised system, with its audit row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import audit, rules
from plans.exchange import fhir
from plans.exchange.writing import document_for
from plans.models import Person, User
from plans.vocabulary import Channel


class BundleNotFound(LookupError):
    """No live plan with this ref in the caller's teams (nothing is revealed)."""


def fhir_bundle(
    session: Session, user: User, ref: str, *, channel: Channel = "api"
) -> dict[str, Any]:
    """Return the live plan of `ref` as a FHIR R4 Bundle, audited as an export.

    The role table decides who may (`export_plans` on the channel: a mentor's or
    lead clinician's system account); a plan outside the account's teams is not
    found, exactly like one that does not exist.
    """
    rules.require(user, channel, "export_plans")
    person = session.scalar(select(Person).where(Person.ref == ref))
    if person is None or person.team_id not in user.team_ids:
        raise BundleNotFound(ref)
    version = person.live_version(session)
    if version is None:
        raise BundleNotFound(ref)
    bundle = fhir.bundle_for(document_for(version))
    fhir.validate_bundle(bundle)
    audit.record_for(
        session,
        user,
        action="export",
        channel=channel,
        person_ref=person.ref,
        plan_version_id=version.id,
        detail={"count": 1, "source": "fhir", "version": version.version},
    )
    return bundle
