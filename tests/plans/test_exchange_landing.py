"""Landing documents in the database and exporting them again."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plans import exchange
from plans.audit import AuditEvent
from plans.exchange import landing
from plans.models import Person, PlanVersion, Team
from plans.versions import LifecycleError
from responder.demo import generate_documents
from tests.plans.factories import document

SHARED = Path(__file__).resolve().parents[3] / "shared"
EXAMPLE = SHARED / "plan-format" / "example.json"
DEV_PLANS = SHARED / "data" / "dev-search" / "plans.jsonl"


def land(session: Session, *documents: dict[str, Any]) -> exchange.ImportReport:
    """Import documents as the CLI would, and commit."""
    report = exchange.import_documents(
        session, list(documents), actor="test", source="test"
    )
    session.commit()
    return report


def versions_of(session: Session, ref: str) -> list[tuple[int, str]]:
    """Return (version, status) of every stored version of a person."""
    return [
        (row.version, row.status)
        for row in session.scalars(
            select(PlanVersion)
            .join(Person, PlanVersion.person_id == Person.id)
            .where(Person.ref == ref)
            .order_by(PlanVersion.version)
        )
    ]


def test_a_new_ref_is_added_live_with_its_person_and_team(session: Session) -> None:
    report = land(session, document())
    assert (report.added, report.total) == (1, 1)
    assert versions_of(session, "TEST-TEAM/00001") == [(1, "live")]
    person = session.scalars(select(Person)).one()
    assert (person.given_name, person.date_of_birth) == (
        "Alexandra",
        dt.date(1988, 3, 14),
    )
    assert person.team.code == "TEST-TEAM"
    version = session.scalars(select(PlanVersion)).one()
    assert version.sharing_basis == "consent"
    assert version.review_by == dt.date(2027, 6, 1)


def test_the_same_ref_and_version_again_changes_nothing(session: Session) -> None:
    land(session, document())
    report = land(session, document())
    assert (report.unchanged, report.added, report.problems) == (1, 0, [])
    assert versions_of(session, "TEST-TEAM/00001") == [(1, "live")]


def test_the_same_version_with_other_content_changes_nothing_but_says_so(
    session: Session,
) -> None:
    land(session, document())
    report = land(session, document(summary="A different summary."))
    assert report.unchanged == 1
    assert "different content" in report.problems[0].message
    stored = session.scalars(select(PlanVersion)).one()
    assert stored.summary == "Alexandra has a plan agreed with the test team."


def test_a_higher_version_supersedes_the_live_one(session: Session) -> None:
    land(session, document())
    newer = document(version=2, summary="Version two.")
    newer["person"]["family_name"] = "Newname"
    report = land(session, newer)
    assert report.updated == 1
    assert versions_of(session, "TEST-TEAM/00001") == [(1, "superseded"), (2, "live")]
    person = session.scalars(select(Person)).one()
    assert person.family_name == "Newname"


def test_a_lower_version_than_the_live_one_is_refused(session: Session) -> None:
    land(session, document(version=3))
    report = land(session, document(version=2))
    assert report.refused == 1 and not report.ok
    (problem,) = report.problems
    assert problem.pointer == "/plan/version"
    assert "older than the live version 3" in problem.message
    assert versions_of(session, "TEST-TEAM/00001") == [(3, "live")]


def test_a_draft_lands_as_a_draft_and_leaves_the_live_plan_alone(
    session: Session,
) -> None:
    land(session, document())
    report = land(session, document(version=2, status="draft", summary="Draft."))
    assert report.drafted == 1
    assert versions_of(session, "TEST-TEAM/00001") == [(1, "live"), (2, "draft")]
    person = session.scalars(select(Person)).one()
    assert person.family_name == "Testperson"


def test_a_retired_document_retires_the_live_plan(session: Session) -> None:
    land(session, document())
    report = land(session, document(version=2, status="retired"))
    assert report.updated == 1
    assert versions_of(session, "TEST-TEAM/00001") == [(1, "retired"), (2, "retired")]


def test_a_person_moving_area_moves_to_the_new_team(session: Session) -> None:
    land(session, document())
    moved = document(version=2)
    moved["team"] = {"code": "NEW-TEAM", "name": "New area team"}
    land(session, moved)
    person = session.scalars(select(Person)).one()
    assert person.team.code == "NEW-TEAM"
    assert session.scalar(select(func.count()).select_from(Team)) == 2


@pytest.mark.parametrize(
    ("field", "words", "reason"),
    [
        ("ambulance", "Do not convey to hospital.", "publishing refuses"),
        ("police", "A frequent flyer; be firm.", "lead clinician acknowledges"),
    ],
)
def test_guardrail_findings_keep_a_document_a_draft(
    session: Session, field: str, words: str, reason: str
) -> None:
    report = land(session, document(advice_for={field: words}))
    assert (report.drafted, report.added) == (1, 0)
    assert versions_of(session, "TEST-TEAM/00001") == [(1, "draft")]
    (problem,) = report.problems
    assert problem.pointer == f"/plan/advice_for/{field}"
    assert reason in problem.message and problem.severity == "warning"
    stored = session.scalars(select(PlanVersion)).one()
    assert [finding["pointer"] for finding in stored.findings] == [problem.pointer]


def test_a_drafted_live_plan_leaves_the_current_live_version_live(
    session: Session,
) -> None:
    land(session, document())
    report = land(
        session, document(version=2, advice_for={"ambulance": "Do not convey."})
    )
    assert report.drafted == 1
    assert versions_of(session, "TEST-TEAM/00001") == [(1, "live"), (2, "draft")]


def test_a_document_that_fails_midway_never_half_lands(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_make_live = landing.make_live

    def failing(session: Session, version: PlanVersion, **kwargs: Any) -> Any:
        if version.version == 2:
            raise LifecycleError("simulated failure")
        return real_make_live(session, version, **kwargs)

    monkeypatch.setattr(landing, "make_live", failing)
    report = land(
        session,
        document("TEST-TEAM/00001"),
        document("TEST-TEAM/00002", version=2),
        document("TEST-TEAM/00003"),
    )
    assert (report.added, report.refused) == (2, 1)
    refs = set(session.scalars(select(Person.ref)))
    assert refs == {"TEST-TEAM/00001", "TEST-TEAM/00003"}
    assert "simulated failure" in report.problems[0].message


def test_invalid_documents_are_counted_and_explained(session: Session) -> None:
    broken = document("TEST-TEAM/00002")
    del broken["plan"]["summary"]
    report = land(session, document(), broken)
    assert (report.added, report.invalid, report.ok) == (1, 1, False)
    assert report.problems[0].position == "[1]"
    assert report.problems[0].pointer == "/plan/summary"


def test_each_import_batch_is_audited_without_plan_text(session: Session) -> None:
    land(session, document(), document("TEST-TEAM/00002"), document())
    (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "import"))
    assert event.detail["added"] == 2 and event.detail["unchanged"] == 1
    assert event.detail["count"] == 3
    assert "Alexandra" not in json.dumps(event.detail)


def export_all(session: Session, **kwargs: Any) -> list[dict[str, Any]]:
    """Export through the streaming writer and read the JSON Lines back."""
    out = io.StringIO()
    exchange.write_documents(exchange.export_documents(session, **kwargs), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_export_gives_back_exactly_what_was_imported(session: Session) -> None:
    docs = list(generate_documents(300, seed=5, today=dt.date(2026, 11, 23)))
    report = land(session, *docs)
    assert report.ok and report.total == 300
    exported = export_all(session)
    assert sorted(exported, key=lambda d: d["person"]["ref"]) == sorted(
        docs, key=lambda d: d["person"]["ref"]
    )
    assert all(exchange.check_document(doc).valid for doc in exported)


def test_the_shared_example_and_dev_plans_round_trip(session: Session) -> None:
    if not (EXAMPLE.exists() and DEV_PLANS.exists()):
        pytest.skip("shared/ is not beside the repository")
    # The shared plans predate the publish rules (no agreement channel, no
    # C-U-R-E answers, some risk levels off the matrix): each lands whole, as a
    # draft, with its reasons; none goes live and none is lost.
    shared = [json.loads(EXAMPLE.read_text(encoding="utf-8"))]
    shared += [json.loads(line) for line in DEV_PLANS.read_text().splitlines()]
    report = exchange.import_documents(session, shared, actor="test", source="shared")
    session.commit()
    assert (report.added, report.drafted, report.ok) == (0, 1001, True)
    assert {doc["plan"]["status"] for doc in export_all(session)} == {"draft"}


def test_export_of_a_superseded_version_says_retired_and_stays_valid(
    session: Session,
) -> None:
    land(session, document(), document(version=2))
    first = session.scalars(select(PlanVersion).where(PlanVersion.version == 1)).one()
    exported = exchange.document_for(first)
    assert exported["plan"]["status"] == "retired"
    assert exchange.check_document(exported).valid


def test_export_gives_each_person_their_live_version(session: Session) -> None:
    land(session, document(), document(version=2, status="draft"))
    land(session, document("TEST-TEAM/00002", status="draft"))
    exported = {d["person"]["ref"]: d["plan"] for d in export_all(session)}
    assert exported["TEST-TEAM/00001"]["version"] == 1
    assert exported["TEST-TEAM/00001"]["status"] == "live"
    assert exported["TEST-TEAM/00002"]["status"] == "draft"


def test_export_can_pick_people_by_ref(session: Session) -> None:
    land(session, document(), document("TEST-TEAM/00002"), document("TEST-TEAM/00003"))
    exported = export_all(session, refs=["TEST-TEAM/00003", "TEST-TEAM/00001"])
    assert [d["person"]["ref"] for d in exported] == [
        "TEST-TEAM/00001",
        "TEST-TEAM/00003",
    ]


def test_export_never_invents_a_publication_time(session: Session) -> None:
    land(
        session,
        document(),
        document("TEST-TEAM/00002", published_at="2026-06-02T10:00:00Z"),
    )
    exported = {d["person"]["ref"]: d["plan"] for d in export_all(session)}
    assert "published_at" not in exported["TEST-TEAM/00001"]
    assert exported["TEST-TEAM/00002"]["published_at"] == "2026-06-02T10:00:00Z"


@pytest.mark.parametrize("export_format", ["json", "jsonl"])
def test_both_export_formats_read_back_as_the_same_documents(
    session: Session, export_format: str
) -> None:
    docs = list(generate_documents(5, seed=2, today=dt.date(2026, 11, 23)))
    land(session, *docs)
    out = io.StringIO()
    count = exchange.write_documents(
        exchange.export_documents(session), out, format=export_format
    )
    parsed = exchange.read_text(out.getvalue())
    assert count == 5 and all(item.valid for item in parsed)
    assert sorted(item.document["person"]["ref"] for item in parsed) == sorted(  # type: ignore[index]
        d["person"]["ref"] for d in docs
    )


def test_an_empty_export_is_still_valid_json() -> None:
    out = io.StringIO()
    assert exchange.write_documents([], out, format="json") == 0
    assert json.loads(out.getvalue()) == []


def test_versions_of_one_person_in_one_file_land_in_order(session: Session) -> None:
    report = land(session, document(), document(version=2), document(version=3))
    assert (report.added, report.updated) == (1, 2)
    assert versions_of(session, "TEST-TEAM/00001") == [
        (1, "superseded"),
        (2, "superseded"),
        (3, "live"),
    ]


def test_a_draft_sent_again_as_live_goes_live(session: Session) -> None:
    land(session, document())
    land(session, document(version=2, status="draft"))
    report = land(session, document(version=2))
    assert report.updated == 1
    assert versions_of(session, "TEST-TEAM/00001") == [(1, "superseded"), (2, "live")]


def test_a_changed_draft_replaces_the_held_draft(session: Session) -> None:
    land(session, document(status="draft"))
    report = land(session, document(status="draft", summary="Finished wording."))
    assert report.drafted == 1
    stored = session.scalars(select(PlanVersion)).one()
    assert (stored.status, stored.summary) == ("draft", "Finished wording.")
    again = land(session, document(status="draft", summary="Finished wording."))
    assert (again.unchanged, again.problems) == (1, [])


def test_a_plan_held_back_by_guardrails_stays_one_draft_when_sent_again(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    finding = {"pointer": "/plan/summary", "message": "stigmatising wording"}
    monkeypatch.setattr(
        landing,
        "guardrail_result",
        lambda doc: landing.GuardrailResult([finding], may_go_live=False),
    )
    land(session, document())
    report = land(session, document())
    assert report.drafted == 1
    assert versions_of(session, "TEST-TEAM/00001") == [(1, "draft")]
    monkeypatch.setattr(
        landing, "guardrail_result", lambda doc: landing.GuardrailResult([], True)
    )
    assert land(session, document()).updated == 1
    assert versions_of(session, "TEST-TEAM/00001") == [(1, "live")]


def _new_people(count: int, start: int = 1) -> list[dict[str, Any]]:
    return [document(f"TEST-TEAM/{n:05d}") for n in range(start, start + count)]


def test_new_people_land_together_searchable_and_in_order(session: Session) -> None:
    from plans import search
    from plans.chat import ChatPlace

    land(session, document("TEST-TEAM/00000"))  # the team exists: batches qualify
    batch = _new_people(5, start=1)
    batch.insert(2, document("TEST-TEAM/00900", status="draft"))
    report = land(session, *batch)
    assert (report.added, report.drafted) == (5, 1)
    assert [o.ref for o in report.outcomes] == [d["person"]["ref"] for d in batch]
    for item in batch:
        ref = item["person"]["ref"]
        want = "draft" if ref == "TEST-TEAM/00900" else "live"
        assert versions_of(session, ref) == [(1, want)]
    assert session.scalar(select(func.count()).select_from(search.SearchEntry)) == 6
    assert session.scalar(select(func.count()).select_from(ChatPlace)) >= 6
    found = search.search(session, "Alexandra", limit=10)
    assert {r.ref for r in found} >= {"TEST-TEAM/00001", "TEST-TEAM/00005"}


def test_a_failing_batch_falls_back_to_one_by_one(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import IntegrityError

    land(session, document("TEST-TEAM/00000"))

    def fail(*_args: object, **_kwargs: object) -> None:
        raise IntegrityError("INSERT", {}, Exception("simulated"))

    monkeypatch.setattr(landing, "add_first_live_versions", fail)
    report = land(session, *_new_people(4, start=1))
    assert report.added == 4 and report.ok
    assert versions_of(session, "TEST-TEAM/00004") == [(1, "live")]
    assert session.scalar(select(func.count()).select_from(Person)) == 5


def test_a_ref_twice_in_one_chunk_lands_both_versions_in_order(
    session: Session,
) -> None:
    land(session, document("TEST-TEAM/00000"))
    first = document("TEST-TEAM/00001")
    second = document("TEST-TEAM/00001", version=2, summary="second")
    report = land(session, first, *_new_people(3, start=2), second)
    assert (report.added, report.updated) == (4, 1)
    assert versions_of(session, "TEST-TEAM/00001") == [(1, "superseded"), (2, "live")]
