"""Who may do what, on which channel: the one table every channel is checked against.

`TABLE[action][channel]` names the audiences allowed to take `action` on
`channel`; an action missing from a channel is refused there to everyone. Domain
functions call `require` before they reveal or change anything, so the web, the
JSON API, the chats, the CLI and the import all answer the same question the same
way. The wiring of each channel to these actions (the Flask endpoints, the CLI
commands, the chat commands) is listed beside the channel and a test walks each
of them against this table, so a new route, command or chat command that is not
in it fails the suite.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

from plans.vocabulary import (
    ANONYMOUS,
    RESPONDER_ROLES,
    ROLES,
    Audience,
    Channel,
)

# Audiences beyond the roles: the person with a plan (signed in with their own
# link or PIN, or through a linked chat) and the operator at the server's shell.
Party = Literal[Audience, "person", "operator"]
PERSON: Literal["person"] = "person"
OPERATOR: Literal["operator"] = "operator"
PARTIES: tuple[Party, ...] = (*get_args(Audience), PERSON, OPERATOR)

Action = Literal[
    "read_public",  # service worker, manifest, health, OpenAPI, card keys
    "sign_in",  # sign-in, enrolment and second-factor pages
    "use_own_account",  # account pages, sign-out, linking a chat
    "receive_webhook",  # provider callbacks, proven by their signature
    "search",
    "open_plan",
    "view_plan",
    "scan_card",
    "manage_cards",
    "edit_drafts",
    "approve",
    "retire",
    "import_plans",
    "export_plans",
    "read_access_log",
    "handle_concerns",
    "oversee_privacy",
    "manage_users",
    "manage_tokens",
    "own_plan",  # the person's own view, requests and withdrawal
    "operate",  # database, backups, audit checks, indexes, demo data
    # the network portal
    "read_demand",  # a team's people's demand, costs, harms, graphs and reports
    "enter_demand",  # desk entry, agency import, costs, harms, mentoring start
    "build_reports",  # save a person's dated report
    "read_network",  # directory, behaviour experience, suppressed aggregates
    "assess_team",  # self-assessment visits and the team's directory entry
    "manage_cases",  # HIU lists, matches, ranking, meetings, allocation, consent
    "give_permission",  # the named lead clinician's permission to start mentoring
]
ACTIONS: tuple[Action, ...] = get_args(Action)

EVERYONE: frozenset[Party] = frozenset((ANONYMOUS, *ROLES))
SIGNED_IN: frozenset[Party] = frozenset(ROLES)
RESPONDERS: frozenset[Party] = frozenset(RESPONDER_ROLES)
MENTORS: frozenset[Party] = frozenset(("mentor", "lead_clinician"))
PLAN_STAFF: frozenset[Party] = frozenset(
    ("mentor", "lead_clinician", "privacy_officer")
)
ONLY_OPERATOR: frozenset[Party] = frozenset((OPERATOR,))
# The portal: a team's mentors and lead clinicians see their people's data, the
# team lead the team's reports; the network role only suppressed aggregates.
TEAM_READERS: frozenset[Party] = MENTORS | {"team_lead"}
NETWORK_READERS: frozenset[Party] = TEAM_READERS | {"network"}
CHATS: tuple[Channel, ...] = ("telegram", "sms", "whatsapp")


def _on(
    channels: tuple[Channel, ...], parties: frozenset[Party]
) -> dict[Channel, frozenset[Party]]:
    return dict.fromkeys(channels, parties)


TABLE: Mapping[Action, Mapping[Channel, frozenset[Party]]] = {
    "read_public": {"web": EVERYONE, "api": EVERYONE, "card": EVERYONE},
    "sign_in": {"web": EVERYONE},
    "use_own_account": {"web": SIGNED_IN, **_on(CHATS, SIGNED_IN)},
    "receive_webhook": _on(CHATS, frozenset((ANONYMOUS,))),
    "search": {"web": RESPONDERS, "api": RESPONDERS, **_on(CHATS, RESPONDERS)},
    "open_plan": {"web": RESPONDERS, "card": RESPONDERS, **_on(CHATS, RESPONDERS)},
    "view_plan": {"web": RESPONDERS},
    # Anyone may point a camera at a card; what it reveals is decided by the
    # scanner's sign-in (responders see the plan, others a checked card).
    "scan_card": {"card": EVERYONE},
    "manage_cards": {"web": MENTORS, "cli": ONLY_OPERATOR},
    "edit_drafts": {"web": MENTORS},
    "approve": {"web": frozenset(("lead_clinician",))},
    "retire": {"web": MENTORS},
    "import_plans": {"web": MENTORS, "cli": ONLY_OPERATOR},
    # A trust system's account (a mentor's or lead clinician's token) fetches
    # its own teams' plans as FHIR bundles (plans.exchange.serving).
    "export_plans": {"cli": ONLY_OPERATOR, "api": MENTORS},
    "read_access_log": {"web": PLAN_STAFF},
    "handle_concerns": {"web": PLAN_STAFF},
    "oversee_privacy": {"web": frozenset(("privacy_officer",))},
    "manage_users": {"web": frozenset(("admin",)), "cli": ONLY_OPERATOR},
    "manage_tokens": {"web": SIGNED_IN, "cli": ONLY_OPERATOR},
    "own_plan": {
        "web": frozenset((ANONYMOUS, PERSON)),
        **_on(CHATS, frozenset((PERSON,))),
    },
    "operate": {"cli": ONLY_OPERATOR},
    "read_demand": {"web": TEAM_READERS, "cli": ONLY_OPERATOR},
    "enter_demand": {"web": MENTORS, "cli": ONLY_OPERATOR},
    "build_reports": {"web": MENTORS},
    "read_network": {"web": NETWORK_READERS},
    "assess_team": {"web": TEAM_READERS},
    # The group's work is the mentors' and lead clinicians'; responders never
    # see a case, so a person's refusal changes nothing they see.
    "manage_cases": {"web": MENTORS, "cli": ONLY_OPERATOR},
    "give_permission": {"web": frozenset(("lead_clinician",))},
}


class NotAllowed(PermissionError):
    """The table does not allow this party to take this action on this channel."""

    def __init__(self, party: str, channel: str, action: str) -> None:
        super().__init__(f"{party} may not {action.replace('_', ' ')} on {channel}")
        self.party = party
        self.channel = channel
        self.action = action


def allowed(party: str | None, channel: Channel, action: Action) -> bool:
    """Say whether the table lets `party` (None: anonymous) take `action` here."""
    parties = TABLE.get(action, {}).get(channel, frozenset())
    return (party or ANONYMOUS) in parties


def party_of(user: object | None) -> str:
    """Return the table's name for whoever acts: a role, or anonymous."""
    if user is None or not getattr(user, "active", True):
        return ANONYMOUS
    return str(getattr(user, "role", ANONYMOUS))


def require(user: object | None, channel: Channel, action: Action) -> None:
    """Raise NotAllowed unless the table lets this user take `action` here.

    A disabled account counts as anonymous, so it loses every right at once.
    """
    party = party_of(user)
    if not allowed(party, channel, action):
        raise NotAllowed(party, channel, action)


def parties_for(action: Action, channel: Channel) -> frozenset[Party]:
    """Return who may take `action` on `channel` (empty when nobody may)."""
    return TABLE.get(action, {}).get(channel, frozenset())
