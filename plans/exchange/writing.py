"""Exporting stored plan versions as response-plan/2 documents."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from plans.exchange import fhir
from plans.exchange.upgrade import FORMAT, upgrade_document
from plans.models import Person, PlanVersion

JSONL = "jsonl"
JSON = "json"
# One FHIR R4 collection Bundle per plan, one a line (plans.exchange.fhir).
FHIR = "fhir"
EXPORT_FORMATS: tuple[str, ...] = (JSONL, JSON, FHIR)

# The exchange format knows draft, live and retired. A superseded version is no
# longer shown to responders, which is what retired means to a receiving team.
_EXCHANGE_STATUS = {
    "draft": "draft",
    "live": "live",
    "superseded": "retired",
    "retired": "retired",
}


def document_for(version: PlanVersion) -> dict[str, Any]:
    """Return the response-plan/2 document of a stored version, as it stands now.

    The stored document is the record of the version, so it comes back as it
    arrived; only the status follows the version's lifecycle. A publication time
    is never invented: `published_at` is exported when the document carries it.
    """
    # Migration 0006 upgraded every stored version; upgrading again is a no-op,
    # and keeps a version restored from an older backup exportable.
    document: dict[str, Any] = copy.deepcopy(upgrade_document(version.document))
    document["format"] = FORMAT
    plan = document.setdefault("plan", {})
    plan["version"] = version.version
    plan["status"] = _EXCHANGE_STATUS[version.status]
    return document


def current_versions(
    session: Session, *, refs: Sequence[str] | None = None, batch_size: int = 500
) -> Iterator[PlanVersion]:
    """Yield each person's current version (live, else newest), ordered by ref.

    Streams in batches so an export of every plan never holds them all at once.
    """
    query = (
        select(PlanVersion)
        .join(Person, PlanVersion.person_id == Person.id)
        .order_by(Person.ref, PlanVersion.version)
        .execution_options(yield_per=batch_size)
    )
    if refs:
        query = query.where(Person.ref.in_(list(refs)))
    chosen: PlanVersion | None = None
    for version in session.scalars(query):
        if chosen is not None and version.person_id != chosen.person_id:
            yield chosen
            chosen = None
        if chosen is None or chosen.status != "live":
            chosen = version
    if chosen is not None:
        yield chosen


def export_documents(
    session: Session, *, refs: Sequence[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Yield the current document of every person (or of the given refs)."""
    for version in current_versions(session, refs=refs):
        yield document_for(version)


def write_documents(
    documents: Iterable[dict[str, Any]], stream: IO[str], *, format: str = JSONL
) -> int:
    """Write documents as JSON Lines, a JSON array or FHIR bundles; return how many.

    Every FHIR bundle is checked against the FHIR R4 models before it is
    written, so an export never hands on a bundle another system would refuse.
    """
    if format not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {format!r}")
    count = 0
    if format == FHIR:
        for document in documents:
            bundle = fhir.bundle_for(document)
            fhir.validate_bundle(bundle)
            stream.write(json.dumps(bundle, ensure_ascii=False))
            stream.write("\n")
            count += 1
        return count
    if format == JSONL:
        for document in documents:
            stream.write(json.dumps(document, ensure_ascii=False))
            stream.write("\n")
            count += 1
        return count
    stream.write("[")
    for document in documents:
        stream.write(",\n" if count else "\n")
        stream.write(json.dumps(document, ensure_ascii=False, indent=2))
        count += 1
    stream.write("\n]\n" if count else "]\n")
    return count
