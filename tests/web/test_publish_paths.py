"""The publish rules through the web: the import page, the CLI, the approval page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from plans import drafts
from plans.models import PlanVersion
from tests.plans import factories
from tests.plans.test_publish_rules import _desk_doc, _user

# --- the web and CLI imports print the reasons ---------------------------------


def test_the_web_import_lists_what_stands_before_publishing(
    client: Any, auth: Any, db: Session
) -> None:
    import json

    doc = factories.document(risk={"likelihood": 5, "impact": 5, "level": "low"})
    auth.login(role="mentor", teams=("TEST-TEAM",))
    response = client.post("/mentor/import", data={"text": json.dumps(doc)})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Before it can be published" in page
    assert "is high on the risk matrix" in page
    statuses = db.scalars(
        PlanVersion.__table__.select().with_only_columns(PlanVersion.status)
    ).all()
    assert statuses == ["draft"]


def test_the_cli_import_prints_why_a_live_document_stayed_a_draft(
    runner: Any, db: Session, tmp_path: Any
) -> None:
    import json

    doc = factories.document()
    doc["plan"].pop("capacity")
    path = tmp_path / "plans.jsonl"
    path.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "drafted 1" in result.stdout
    assert (
        f"{path}:1 /plan/capacity/assessed_on: warning: kept as a draft, publishing "
        "refuses it: record when capacity (C-U-R-E) was last assessed"
    ) in result.stderr.splitlines()


def test_the_lead_records_the_s21_review_on_the_approval_page(
    client: Any, auth: Any, db: Session
) -> None:
    from plans import clock

    today = clock.today()
    writer = _user(db, "writer@example.test", "mentor")
    capacity = dict(factories.BASE_DOCUMENT["plan"]["capacity"], understand=False)
    capacity["assessed_on"] = today.isoformat()
    doc = _desk_doc(capacity=capacity)
    doc["plan"]["review_by"] = (today + dt.timedelta(days=90)).isoformat()
    doc["plan"]["coproduction"]["agreed_on"] = today.isoformat()
    version = drafts.create_draft(db, doc, author=writer)
    drafts.submit(db, version, mentor=writer, today=today)
    db.commit()
    auth.login(role="lead_clinician", teams=("TEST-TEAM",))
    page = client.get(f"/mentor/drafts/{version.id}/approve").get_data(as_text=True)
    assert "data-capacity-review" in page
    refused = client.post(f"/mentor/drafts/{version.id}/approve", data={})
    assert refused.status_code == 422
    assert "s.21 review" in refused.get_data(as_text=True)
    published = client.post(
        f"/mentor/drafts/{version.id}/approve",
        data={"ack-capacity": "Reviewed under s.21: advice only, assess at scene."},
    )
    assert published.status_code == 303
    db.expire_all()
    live = db.get(PlanVersion, version.id)
    assert live is not None and live.status == "live"
    assert live.document["plan"]["capacity"]["acknowledgement"]["review"].startswith(
        "Reviewed under s.21"
    )
