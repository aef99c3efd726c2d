"""The words the rules are written in: roles, channels, plan statuses, audit actions.

Each is a `Literal`, so mypy refuses a misspelt one at the call site, and the
tuples beside them (read off the Literal, never typed twice) feed the database
CHECK constraints, the role x channel x action table in `plans.rules`, and the
tests that parse every `audit.record*` call.
"""

from __future__ import annotations

from typing import Literal, get_args

# Everyone who meets the person in crisis and reads the plan there. The last six
# are the NHS and partner services the NRL's crisis-plan model and the PRSB
# standard name (issue 16): they search, open and read plans as responders do.
ResponderRole = Literal[
    "police",
    "ambulance",
    "emergency_department",
    "control_room",
    "mental_health_crisis_team",
    "home_treatment_team",
    "liaison_psychiatry",
    "nhs_111_crisis_line",
    "street_triage",
    "liaison_and_diversion",
]
StaffRole = Literal[
    "mentor", "lead_clinician", "privacy_officer", "admin", "team_lead", "network"
]
Role = Literal[ResponderRole, StaffRole]

RESPONDER_ROLES: tuple[ResponderRole, ...] = get_args(ResponderRole)
STAFF_ROLES: tuple[StaffRole, ...] = get_args(StaffRole)
ROLES: tuple[Role, ...] = (*RESPONDER_ROLES, *STAFF_ROLES)

# Someone not signed in: a card scanner, the person with a plan, a webhook caller.
ANONYMOUS: Literal["anonymous"] = "anonymous"
Audience = Literal[Role, "anonymous"]
AUDIENCES: tuple[Audience, ...] = (ANONYMOUS, *ROLES)

Channel = Literal[
    "web",
    "api",
    "cli",
    "card",
    "telegram",
    "sms",
    "whatsapp",
    "system",
]
CHANNELS: tuple[Channel, ...] = get_args(Channel)
ChatChannel = Literal["telegram", "sms", "whatsapp"]
CHAT_CHANNELS: tuple[ChatChannel, ...] = get_args(ChatChannel)

PlanStatus = Literal["draft", "live", "superseded", "retired"]
PLAN_STATUSES: tuple[PlanStatus, ...] = get_args(PlanStatus)

# What happens at sign-in and on the account pages, as the audit log names it.
SignInEvent = Literal[
    "login_succeeded",
    "login_failed",
    "login_throttled",
    "logout",
    "mfa_failed",
    "mfa_throttled",
    "totp_enrolled",
    "recovery_codes_issued",
    "recovery_code_used",
    "passkey_added",
    "passkey_removed",
    "password_changed",
    "password_change_failed",
    "session_revoked",
    "reauthenticated",
    "reauth_failed",
]

AuditAction = Literal[
    # responders reaching plans
    "search",
    "plan_opened",
    "plan_viewed",
    "plan_disclosed",
    "card_scan",
    "card_scan_invalid",
    # plan lifecycle
    "draft_saved",
    "draft_discarded",
    "submitted",
    "returned",
    "acknowledgement",
    "published",
    "retired",
    "import",
    "export",
    "search_rebuilt",
    "review_reminders_queued",
    # cards
    "card_issued",
    "card_revoked",
    "card_printed",
    "pin_set",
    "pin_changed",
    "person_agreed",
    "person_commented",
    # the person's photo
    "photo_added",
    "photo_removed",
    "photo_viewed",
    # the person's own view
    "person_signed_in",
    "person_pin_failed",
    "person_view",
    "withdrawal_requested",
    "concern_raised",
    "plan_withdrawn",
    "concern_updated",
    # oversight
    "access_denied",
    "access_log_searched",
    "alert_closed",
    "staff_viewed",
    "out_of_team",
    "alert_raised",
    # accounts and sign-in
    "user_created",
    "account_disabled",
    "account_enabled",
    "sso_refused",
    "sso_awaiting_approval",
    "sso_approved",
    "sso_declined",
    "demo_accounts",
    "token_created",
    "token_revoked",
    "credentials_ended",
    "factors_reset",
    SignInEvent,
    # chats
    "chat_linked",
    "chat_unlinked",
    # the network portal
    "demand_entered",
    "demand_corrected",
    "demand_imported",
    "mentoring_start_set",
    "unit_cost_set",
    "harm_recorded",
    "report_saved",
    "report_viewed",
    "report_commented",
    "directory_updated",
    "self_assessment_saved",
    # cases (plans.cases)
    "case_list_uploaded",
    "case_match_decided",
    "case_opened",
    "case_allocated",
    "case_permission_recorded",
    "case_consent_recorded",
    "case_nominee_recorded",
    "case_meeting_recorded",
    "case_contact_recorded",
    "case_border_asked",
    "case_border_answered",
    # National Record Locator pointers (plans.nrl)
    "nrl_pointer_created",
    "nrl_pointer_superseded",
    "nrl_pointer_deleted",
    "nrl_pointer_refused",
    # operations
    "database_backed_up",
    "database_restored",
]
AUDIT_ACTIONS: tuple[AuditAction, ...] = get_args(AuditAction)


def as_channel(name: str) -> Channel:
    """Return a stored channel name as a Channel; refuse one the log does not know."""
    if name not in CHANNELS:
        raise ValueError(f"unknown channel {name!r}")
    return name
