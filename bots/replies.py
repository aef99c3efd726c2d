"""Channel-neutral answer text, and fitting it into SMS segments.

Telegram, SMS and WhatsApp all say the same words; only the transport differs.
SMS answers that carry a plan must fit three segments: 459 characters when every
character is in the GSM-7 alphabet (extension characters count twice), 201 UTF-16
units otherwise (an emoji counts twice).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from typing import Any

from plans.clock import iso_date
from plans.plan_view import long_date

ADVICE_ONLY = "Advice only: always assess and treat."
NOT_LINKED = (
    "This chat is not linked to Responder. Link it from the Responder app first."
)
LINKED_STAFF = "Linked to Responder as {name} ({role}). Send help for commands."
LINKED_PERSON = (
    "Linked to your own plan. Send plan for your summary and your mentors' "
    "numbers. Send help for more."
)
LINK_FAILED = (
    "That link has expired or was used already. Ask for a new one in the Responder app."
)
UNLINKED = "Unlinked. This chat will get nothing more from Responder."
TOO_LONG = "That message is too long. Send a shorter one."
TOO_MANY_SEARCHES = "Too many searches from this account. Wait a minute and try again."
HELP_RESPONDER = (
    "find <name, behaviour or place>: up to 5 matches\n"
    "find <words> near <place or postcode>\n"
    "open <number> attending [incident no.]: open a plan (audited)\n"
    "unlink: stop using this chat"
)
HELP_RESPONDER_TELEGRAM = HELP_RESPONDER + "\nShare your location to find near you."
HELP_STAFF = (
    "You get a message here when a plan you follow is updated or retired, and "
    "mentors when a plan of their team is due for review.\n"
    "unlink: stop using this chat"
)
HELP_PERSON = (
    "plan: your plan's summary and your mentors' numbers\n"
    "view: a one-time link to your whole plan and who opened it\n"
    "opened on / opened off: a message when your plan is opened\n"
    "unlink: stop using this chat"
)
NOT_FOR_YOU = "That is not something this chat can do. Send help for commands."
FIND_WHAT = "Send find followed by a name, a behaviour or a place."
NO_MATCHES = "No live plans match. Try other words, or a place or postcode."
UNKNOWN_PLACE = (
    "No plan mentions the place {place!r}. Try a postcode or another place name."
)
RESULTS_GONE = "Those results have expired. Search again with find."
WHICH_RESULT = "Reply open and the number of a result, e.g. open 1 attending."
SAY_WHY = (
    "Say why you are opening it: open {number} attending [incident no.]. "
    "Every opening is audited."
)
OWN_VIEW_LINK = "Your own view (works once, for 10 minutes): {url}"
OPENED_ON = "You will get a message each time your plan is opened."
OPENED_OFF = "You will no longer get a message when your plan is opened."
NO_PLAN = "You have no live plan at the moment. Contact your team: {team}."

# Words a responder may give as the reason for opening a plan.
REASON_WORDS: dict[str, str] = {
    "attending": "attending_incident",
    "incident": "attending_incident",
    "control": "control_room_incident",
    "ed": "ed_attendance",
    "call": "crisis_call",
    "assessing": "crisis_assessment",
}

UK = zoneinfo.ZoneInfo("Europe/London")

# -- SMS segments -------------------------------------------------------------------

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")
SMS_SEGMENTS = 3
GSM7_LIMIT = 153 * SMS_SEGMENTS  # 459
UCS2_LIMIT = 67 * SMS_SEGMENTS  # 201


def is_gsm7(text: str) -> bool:
    """Say whether every character is in the GSM-7 alphabet."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def _char_units(ch: str, gsm: bool) -> int:
    if gsm:
        return 2 if ch in GSM7_EXTENDED else 1
    return 2 if ord(ch) > 0xFFFF else 1


def sms_units(text: str, *, gsm: bool | None = None) -> int:
    """Count the units a text takes: septets for GSM-7, UTF-16 units otherwise."""
    gsm = is_gsm7(text) if gsm is None else gsm
    return sum(_char_units(ch, gsm) for ch in text)


def sms_segments(text: str) -> int:
    """Return how many SMS segments a text is sent as."""
    gsm = is_gsm7(text)
    units = sms_units(text, gsm=gsm)
    single, multi = (160, 153) if gsm else (70, 67)
    if units <= single:
        return 1
    return -(-units // multi)


def _cut(text: str, budget: int, gsm: bool) -> str:
    """Shorten `text` to `budget` units, ending with '...' at a word if possible."""
    if sms_units(text, gsm=gsm) <= budget:
        return text
    if budget < 4:
        return ""
    kept: list[str] = []
    used = 0
    for ch in text:
        cost = _char_units(ch, gsm)
        if used + cost > budget - 3:
            break
        kept.append(ch)
        used += cost
    cut = "".join(kept)
    if " " in cut[len(cut) // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:") + "..."


def fit_sms(parts: Sequence[str], *, keep: Iterable[int] = ()) -> str:
    """Join parts with newlines into at most three segments, shortening as needed.

    Parts whose index is in `keep` (the advice-only line, a link) are never cut;
    the others give way from the last one backwards.
    """
    parts = [p for p in parts if p]
    text = "\n".join(parts)
    gsm = is_gsm7(text)
    limit = GSM7_LIMIT if gsm else UCS2_LIMIT
    if sms_units(text, gsm=gsm) <= limit:
        return text
    kept = set(keep)
    fixed = sum(sms_units(p, gsm=gsm) for i, p in enumerate(parts) if i in kept)
    budget = limit - fixed - (len(parts) - 1)
    shaped: list[str] = list(parts)
    flexible = [i for i in range(len(parts)) if i not in kept]
    # Give each flexible part what it needs, in order, until the budget runs out.
    for i in flexible:
        shaped[i] = _cut(parts[i], max(budget, 0), gsm)
        budget -= sms_units(shaped[i], gsm=gsm)
    return "\n".join(p for p in shaped if p)


# -- answers ------------------------------------------------------------------------


MATCH_WORDS = {
    "strong": "strong match",
    "possible": "possible match",
    "weak": "weak match",
}
NO_STRONG_MATCH = "None is a strong match: the person may have no plan."


AREA_FIRST = "People known in your team's area are listed first."


def results_text(results: Sequence[Any], *, near: str | None = None) -> str:
    """List search results in minimal identity, how strongly and why each matched."""
    if not results:
        return NO_MATCHES
    total = int(getattr(results, "total", len(results)))
    counted = f" ({len(results)} of {total})" if total > len(results) else ""
    lines = [f"Matches{' near ' + near if near else ''}{counted}:"]
    for number, result in enumerate(results, start=1):
        who = [result.name]
        if result.age is not None:
            who.append(str(result.age))
        if result.town:
            who.append(result.town)
        match = getattr(result, "match", "weak")
        line = f"{number}. {', '.join(who)} ({result.team}) {MATCH_WORDS[match]}"
        if result.reasons:
            line += ": " + "; ".join(result.reasons[:3])
        if result.review_overdue:
            line += " [review overdue]"
        lines.append(line)
    if getattr(results, "area_first", False):
        lines.append(AREA_FIRST)
    if not any(getattr(result, "match", "weak") == "strong" for result in results):
        lines.append(NO_STRONG_MATCH)
    lines.append("Reply open <number> attending [incident no.] to open a plan.")
    return "\n".join(lines)


def plan_opened_text(
    *,
    name: str,
    link: str,
    summary: str | None = None,
    advice: str | None = None,
    sms: bool = False,
) -> str:
    """Write what a responder receives when they open a plan from a chat."""
    head = f"Plan for {name} (opening audited)."
    if summary is None:
        return "\n".join([head, ADVICE_ONLY, f"Open it after sign-in: {link}"])
    parts = [head, ADVICE_ONLY, summary, f"Advice: {advice}" if advice else "", link]
    if sms:
        return fit_sms(parts, keep=(1, 4))
    return "\n".join(p for p in parts if p)


def own_plan_text(
    *,
    summary: str,
    mentors: Sequence[tuple[str, str | None, str | None]],
    team: str,
    team_phone: str | None,
    sms: bool = False,
) -> str:
    """Write the person's own summary and how to reach their mentors."""
    contacts = [
        f"{name}{' (' + role + ')' if role else ''}: {phone}"
        for name, role, phone in mentors
        if phone
    ]
    if team_phone:
        contacts.append(f"{team}: {team_phone}")
    parts = ["Your plan: " + summary, "Contacts: " + "; ".join(contacts)]
    if sms:
        return fit_sms(parts, keep=(1,))
    return "\n".join(parts)


def uk_time(at: dt.datetime) -> str:
    """Return a moment as UK local time, e.g. 14:03 on 23 Nov 2026."""
    local = at.astimezone(UK)
    return f"{local:%H:%M} on {local.day} {local:%b %Y}"


def notification_text(kind: str, params: dict[str, Any], *, base_url: str) -> str:
    """Write the words of an outbox message; no plan text, ever."""
    link = f" {base_url.rstrip('/')}/" if base_url else ""
    if kind == "plan_updated":
        return (
            f"Plan updated: {params.get('name')} ({params.get('ref')}), version "
            f"{params.get('version')}. Open it in Responder.{link}".rstrip()
        )
    if kind == "plan_retired":
        return (
            f"Plan retired: {params.get('name')} ({params.get('ref')}). It is no "
            "longer shown to responders."
        )
    if kind == "own_plan_updated":
        return (
            f"Your plan has been updated (version {params.get('version')}). "
            "Send plan to read the summary."
        )
    if kind == "own_plan_retired":
        phone = params.get("team_phone")
        return "Your plan is no longer in use." + (
            f" Questions? Call {params.get('team')}: {phone}." if phone else ""
        )
    if kind == "own_plan_opened":
        at = dt.datetime.fromisoformat(str(params.get("at")))
        return f"Your plan was opened by {params.get('role')} at {uk_time(at)}."
    if kind in ("review_soon", "review_due"):
        return _review_text(kind, params, base_url=base_url)
    raise ValueError(f"unknown notification kind {kind!r}")


def _review_text(kind: str, params: dict[str, Any], *, base_url: str) -> str:
    """Write a mentor's review reminder: the ref, the version and the date only."""
    day = long_date(iso_date(params.get("review_by")))
    plan = f"{params.get('ref')} (version {params.get('version')})"
    desk = (
        f" Open the mentor desk: {base_url.rstrip('/')}/mentor/"
        if base_url
        else " Open the mentor desk in Responder."
    )
    if kind == "review_soon":
        return f"Review coming up: plan {plan} is to be reviewed by {day}.{desk}"
    return f"Review due: plan {plan} has reached its review date, {day}.{desk}"
