"""Route guards: every view states who may call it, checked on the server.

Views declare their audience with `roles_required(...)` (or `public` for the few
routes anyone may reach); the URL-map walk in
tests/security/test_authorisation.py fails for any route that declares neither.
Team scope is checked per object with `require_team`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from flask import abort
from flask.typing import ResponseReturnValue
from flask_login import current_user

from plans.models import RESPONDER_KINDS
from plans.rules import Action, parties_for
from plans.vocabulary import ROLES, Channel

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])

RESPONDERS = RESPONDER_KINDS
MENTORS = ("mentor", "lead_clinician")
PLAN_STAFF = ("mentor", "lead_clinician", "privacy_officer")


def public(view: F) -> F:
    """Mark a view as reachable without signing in (checked by the URL-map walk)."""
    view.access_rule = "public"  # type: ignore[attr-defined]
    return view


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow only signed-in users whose role is one of `roles`."""
    allowed = frozenset(roles)

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            from flask import current_app

            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined,no-any-return]
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.access_rule = tuple(sorted(allowed))  # type: ignore[attr-defined]
        return cast(F, wrapped)

    return decorator


def signed_in(view: F) -> F:
    """Allow any signed-in user, whatever their role."""
    from plans.models import ROLES

    return roles_required(*ROLES)(view)


def require_team(team_ids: Iterable[int] | int) -> None:
    """Abort 404 unless the current user belongs to one of these teams.

    404 rather than 403: a user outside the team learns nothing, not even that the
    object exists.
    """
    from flask import request

    from plans import access
    from responder.db import session_factory

    user = current_user._get_current_object()
    # A session of its own: only the refusal's audit row is committed, never
    # half of what the view did before it looked the object up.
    with session_factory()() as db:
        try:
            access.require_team(
                db, user, team_ids, channel="web", route=request.endpoint or ""
            )
        except access.OutOfTeam:
            db.commit()
            abort(404)


# -- the one table, as each channel of this app wires it ----------------------------
#
# Every Flask endpoint and every CLI command names the action it takes, in the
# terms of plans.rules.TABLE. tests/security/test_rules.py walks the URL map and the
# CLI and fails for anything missing here, and checks each view's declared audience
# against the table. The domain functions check the same table again.

ENDPOINT_RULES: dict[str, tuple[Channel, Action]] = {
    # the JSON API
    "api.healthz": ("api", "read_public"),
    # added with issues 12, 13 and 15
    "auth.confirm_password": ("web", "use_own_account"),
    "cards.current_plan": ("web", "open_plan"),
    "cards.set_pin": ("web", "manage_cards"),
    "lookup.plan_photo": ("web", "view_plan"),
    "person.agree": ("web", "own_plan"),
    "person.comment": ("web", "own_plan"),
    "photos.add": ("web", "manage_cards"),
    "photos.person_photo": ("web", "manage_cards"),
    "photos.remove": ("web", "manage_cards"),
    "api.openapi": ("api", "read_public"),
    "api.search": ("api", "search"),
    "api.plan_fhir": ("api", "export_plans"),
    # signing in (responder/auth.py)
    "auth.login": ("web", "sign_in"),
    "auth.login_passkey": ("web", "sign_in"),
    "auth.login_recovery": ("web", "sign_in"),
    "auth.login_totp": ("web", "sign_in"),
    "auth.passkey_options": ("web", "sign_in"),
    "auth.second_factor": ("web", "sign_in"),
    "auth.enrol": ("web", "sign_in"),
    "auth.enrol_passkey": ("web", "sign_in"),
    "auth.enrol_passkey_options": ("web", "sign_in"),
    "auth.enrol_totp": ("web", "sign_in"),
    "auth.logout": ("web", "use_own_account"),
    # one's own account (responder/account.py)
    "account.index": ("web", "use_own_account"),
    "account.change_password": ("web", "use_own_account"),
    "account.end_other_sessions": ("web", "use_own_account"),
    "account.recovery_codes": ("web", "use_own_account"),
    "account.remove_passkey": ("web", "use_own_account"),
    "account.revoke_token": ("web", "manage_tokens"),
    # every account, for administrators (responder/users.py); the last four came
    # with issue 19: administration on a phone, single sign-on
    "users.index": ("web", "manage_users"),
    "users.disable": ("web", "manage_users"),
    "users.reset_factors": ("web", "manage_users"),
    "users.new": ("web", "manage_users"),
    "users.show": ("web", "manage_users"),
    "users.enable": ("web", "manage_users"),
    "users.approve_sign_in": ("web", "manage_users"),
    "sso.start": ("web", "sign_in"),
    "sso.callback": ("web", "sign_in"),
    "person.nhs_login": ("web", "own_plan"),
    "person.nhs_login_callback": ("web", "own_plan"),
    "chat.index": ("web", "use_own_account"),
    "chat.number": ("web", "use_own_account"),
    "chat.confirm": ("web", "use_own_account"),
    "chat.telegram": ("web", "use_own_account"),
    "chat.unlink": ("web", "use_own_account"),
    # responders
    "lookup.index": ("web", "use_own_account"),
    "lookup.search": ("web", "search"),
    "lookup.near": ("web", "search"),
    "lookup.scan": ("web", "search"),
    "lookup.open_plan": ("web", "open_plan"),
    "lookup.plan": ("web", "view_plan"),
    "lookup.manifest": ("web", "read_public"),
    "lookup.service_worker": ("web", "read_public"),
    "lookup.offline": ("web", "read_public"),
    # cards
    "cards.scan": ("card", "scan_card"),
    "cards.check": ("card", "read_public"),
    "cards.keys_document": ("card", "read_public"),
    "cards.revoked_list": ("card", "read_public"),
    "cards.person_cards": ("web", "manage_cards"),
    "cards.issue": ("web", "manage_cards"),
    "cards.reissue": ("web", "manage_cards"),
    "cards.revoke": ("web", "manage_cards"),
    "cards.printable": ("web", "manage_cards"),
    # the mentors' desk
    "mentor.index": ("web", "edit_drafts"),
    "mentor.new": ("web", "edit_drafts"),
    "mentor.person": ("web", "edit_drafts"),
    "mentor.start_draft": ("web", "edit_drafts"),
    "mentor.draft": ("web", "edit_drafts"),
    "mentor.edit": ("web", "edit_drafts"),
    "mentor.submit": ("web", "edit_drafts"),
    "mentor.discard": ("web", "edit_drafts"),
    "mentor.approve": ("web", "approve"),
    "mentor.return_draft": ("web", "approve"),
    "mentor.retire": ("web", "retire"),
    "mentor.import_documents": ("web", "import_plans"),
    "mentor.access_log": ("web", "read_access_log"),
    "concerns.queue": ("web", "handle_concerns"),
    "concerns.detail": ("web", "handle_concerns"),
    "concerns.answer": ("web", "handle_concerns"),
    "concerns.complete_withdrawal": ("web", "handle_concerns"),
    "privacy.index": ("web", "oversee_privacy"),
    "privacy.log": ("web", "oversee_privacy"),
    "privacy.alert": ("web", "oversee_privacy"),
    # the person's own view (they prove who they are with a card PIN or a link)
    "person.home": ("web", "own_plan"),
    "person.link": ("web", "own_plan"),
    "person.open_link": ("web", "own_plan"),
    "person.pin": ("web", "own_plan"),
    "person.pin_form": ("web", "own_plan"),
    "person.raise_request": ("web", "own_plan"),
    "person.sign_out": ("web", "own_plan"),
    "person.withdraw": ("web", "own_plan"),
    "person.withdraw_form": ("web", "own_plan"),
    "chat.own_index": ("web", "own_plan"),
    "chat.own_number": ("web", "own_plan"),
    "chat.own_confirm": ("web", "own_plan"),
    "chat.own_telegram": ("web", "own_plan"),
    "chat.own_opened": ("web", "own_plan"),
    "chat.own_unlink": ("web", "own_plan"),
    # the network portal (issue 18)
    "portal.index": ("web", "read_network"),
    "portal.person": ("web", "read_demand"),
    "portal.demand_form": ("web", "enter_demand"),
    "portal.save_demand": ("web", "enter_demand"),
    "portal.set_start": ("web", "enter_demand"),
    "portal.add_harm": ("web", "enter_demand"),
    "portal.build_report": ("web", "build_reports"),
    "portal.report": ("web", "read_demand"),
    "portal.report_pdf": ("web", "read_demand"),
    "portal.team": ("web", "read_demand"),
    "portal.import_form": ("web", "enter_demand"),
    "portal.import_demand": ("web", "enter_demand"),
    "portal.import_template": ("web", "enter_demand"),
    "portal.costs_page": ("web", "enter_demand"),
    "portal.set_cost": ("web", "enter_demand"),
    "portal.network": ("web", "read_network"),
    "portal.directory_page": ("web", "read_network"),
    "portal.experience": ("web", "read_network"),
    "portal.profile_form": ("web", "assess_team"),
    "portal.save_profile": ("web", "assess_team"),
    "portal.assessments": ("web", "assess_team"),
    "portal.save_assessment": ("web", "assess_team"),
    "portal.assessment_record": ("web", "assess_team"),
    "portal_own.own_reports": ("web", "own_plan"),
    "portal_own.own_report": ("web", "own_plan"),
    "portal_own.own_report_pdf": ("web", "own_plan"),
    "portal_own.own_comment": ("web", "own_plan"),
    # the High Intensity User group's cases (issue 17)
    "cases.index": ("web", "manage_cases"),
    "cases.upload": ("web", "manage_cases"),
    "cases.matches": ("web", "manage_cases"),
    "cases.decide": ("web", "manage_cases"),
    "cases.ranked": ("web", "manage_cases"),
    "cases.open_case": ("web", "manage_cases"),
    "cases.case": ("web", "manage_cases"),
    "cases.allocate": ("web", "manage_cases"),
    "cases.permission": ("web", "give_permission"),
    "cases.capacity_changed": ("web", "manage_cases"),
    "cases.consent": ("web", "manage_cases"),
    "cases.nominee": ("web", "manage_cases"),
    "cases.withdraw_nominee": ("web", "manage_cases"),
    "cases.draft": ("web", "manage_cases"),
    "cases.meetings_page": ("web", "manage_cases"),
    "cases.meeting": ("web", "manage_cases"),
    "cases.discuss": ("web", "manage_cases"),
    "cases.contact": ("web", "manage_cases"),
    "cases.borders_page": ("web", "manage_cases"),
    "cases.ask_border": ("web", "manage_cases"),
    "cases.border_question": ("web", "manage_cases"),
    "cases.answer_border": ("web", "manage_cases"),
    # provider callbacks
    "hooks.telegram": ("telegram", "receive_webhook"),
    "hooks.twilio_sms": ("sms", "receive_webhook"),
    "hooks.twilio_whatsapp": ("whatsapp", "receive_webhook"),
}

COMMAND_RULES: dict[str, Action] = {
    "audit verify": "operate",
    "audit checkpoint": "operate",
    "audit checkpoint-key": "operate",
    "backup": "operate",
    "restore": "operate",
    "db current": "operate",
    "db downgrade": "operate",
    "db revision": "operate",
    "db upgrade": "operate",
    "demo": "operate",
    "serve": "operate",
    "search rebuild": "operate",
    "chat rebuild-places": "operate",
    "notify drain": "operate",
    "notify worker": "operate",
    "notify follow": "operate",
    "notify following": "operate",
    "notify unfollow": "operate",
    "telegram poll": "operate",
    "telegram set-webhook": "operate",
    "sessions purge": "operate",
    "privacy alert-overdue": "operate",
    "reviews remind": "operate",
    "nrl send": "operate",
    "nrl status": "operate",
    "sessions revoke": "manage_users",
    "users create": "manage_users",
    "users demo": "manage_users",
    "users list": "manage_users",
    "users disable": "manage_users",
    "users enable": "manage_users",
    "tokens create": "manage_tokens",
    "tokens list": "manage_tokens",
    "tokens revoke": "manage_tokens",
    "cards issue": "manage_cards",
    "cards reissue": "manage_cards",
    "cards revoke": "manage_cards",
    "cards verify": "manage_cards",
    "cards keys generate": "operate",
    "cards keys list": "operate",
    "cards keys rotate": "operate",
    "import": "import_plans",
    "export": "export_plans",
    "portal import": "enter_demand",
    "portal team-report": "read_demand",
    "cases upload": "manage_cases",
    "cases template": "manage_cases",
}


def web_roles(action: Action, channel: Channel = "web") -> tuple[str, ...]:
    """Return the signed-in roles the table allows `action` on `channel`."""
    return tuple(sorted(set(parties_for(action, channel)) & set(ROLES)))
