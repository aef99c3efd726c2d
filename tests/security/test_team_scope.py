"""Team boundaries: probing is audited where it is refused; alerts stay in scope.

Finding 11 of the hostile test pass (issue 12): 404s from team scope left no
audit row, and a team-scoped privacy officer closed a trust-wide alert by id.
"""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from plans import access
from plans.access import PrivacyAlert
from plans.audit import AuditEvent
from plans.models import User
from tests.conftest import AuthActions
from tests.plans import factories


def _probes(db: Session) -> list[AuditEvent]:
    db.expire_all()
    return list(
        db.scalars(select(AuditEvent).where(AuditEvent.action == "out_of_team"))
    )


def test_opening_another_teams_person_is_not_found_and_audited(
    auth: AuthActions, client: FlaskClient, db: Session
) -> None:
    other = factories.person(db, ref="OTHER/00001", code="OTHER")
    db.commit()
    mentor = auth.login(role="mentor", teams=("DEMO-X",))
    response = client.get(f"/mentor/people/{other.id}")
    assert response.status_code == 404
    (probe,) = _probes(db)
    assert probe.actor_id == mentor.id
    assert probe.detail["route"] == "mentor.person"


def test_own_team_lookups_leave_no_probe_row(
    auth: AuthActions, client: FlaskClient, db: Session
) -> None:
    mine = factories.person(db, ref="DEMO-X/00001", code="DEMO-X")
    db.commit()
    auth.login(role="mentor", teams=("DEMO-X",))
    assert client.get(f"/mentor/people/{mine.id}").status_code == 200
    assert _probes(db) == []


def test_the_domain_refusal_writes_its_own_row(db: Session) -> None:
    team = factories.team(db, "MINE")
    other = factories.team(db, "THEIRS")
    user = User(email="m@example.org", role="mentor", display_name="M")
    db.add(user)
    db.flush()
    from plans.models import TeamMembership

    user.memberships.append(TeamMembership(team=team))
    db.flush()
    with pytest.raises(access.OutOfTeam):
        access.require_team(db, user, other.id, channel="api", route="x")
    assert [e.channel for e in _probes(db)] == ["api"]


@pytest.fixture
def trust_wide_alert(db: Session) -> int:
    alert = PrivacyAlert(kind="sign_in_guessing", summary="guessing at an account")
    db.add(alert)
    db.commit()
    return alert.id


def test_a_team_scoped_officer_cannot_close_a_trust_wide_alert(
    auth: AuthActions, client: FlaskClient, db: Session, trust_wide_alert: int
) -> None:
    auth.login(role="privacy_officer", teams=("DEMO-X",))
    assert client.get(f"/privacy/alerts/{trust_wide_alert}").status_code == 404
    response = client.post(
        f"/privacy/alerts/{trust_wide_alert}", data={"resolution": "closed by me"}
    )
    assert response.status_code == 404
    db.expire_all()
    assert db.get(PrivacyAlert, trust_wide_alert).status == "open"


def test_the_domain_refuses_it_too(db: Session, trust_wide_alert: int) -> None:
    team = factories.team(db, "MINE")
    from plans.models import TeamMembership

    officer = User(email="po@example.org", role="privacy_officer", display_name="P")
    db.add(officer)
    db.flush()
    officer.memberships.append(TeamMembership(team=team))
    db.flush()
    alert = db.get(PrivacyAlert, trust_wide_alert)
    with pytest.raises(access.AccessRefused):
        access.close_alert(db, alert, officer=officer, resolution="mine now")


def test_a_trust_wide_officer_closes_it(
    auth: AuthActions, client: FlaskClient, db: Session, trust_wide_alert: int
) -> None:
    auth.login(role="privacy_officer", teams=())
    response = client.post(
        f"/privacy/alerts/{trust_wide_alert}", data={"resolution": "checked"}
    )
    assert response.status_code == 303
    db.expire_all()
    assert db.get(PrivacyAlert, trust_wide_alert).status == "closed"
