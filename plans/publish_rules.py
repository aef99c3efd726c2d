"""The rules a plan version meets before responders may see it, on every path.

The desk (submit and approve in `plans.drafts`), the web import and the CLI import
(`plans.exchange.landing`) all ask `publish_problems`, so no path publishes what
another refuses. Pure: no session, no IO, no clock; the caller says which day
the rules are judged on (`on`): today at the desk, the document's own approval
date for an imported plan that was approved elsewhere.

The rules, with their configuration (`PublishRules`, from the app config keys in
brackets):

- the person's agreement is recorded for this version, with its date and channel,
  and is not the previous version's agreement carried over;
- the risk level follows the 5x5 likelihood x impact matrix (Operational Guide
  s.45; `risk_level`);
- a capacity assessment (C-U-R-E: communicate, understand, retain, evaluate or
  weigh, the schema's `employ`) is recorded and no older than
  `max_capacity_age_months` [PUBLISH_MAX_CAPACITY_AGE_MONTHS, default 12]; any
  "No" needs the lead clinician's acknowledgement with the Guide s.21 review;
- the review date is after `on` and at most `max_review_months`
  [PUBLISH_MAX_REVIEW_MONTHS, default 12] ahead of it;
- the lawful basis for sharing is recorded.

The approver rule (not the person who drafted or submitted the version) needs
users, so `plans.drafts.publish` checks it; an import names its approver in the
document instead.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from plans.document import Agreement, Capacity, Plan, plan_of
from plans.models import SHARING_BASES

# How the person's agreement was given. "own_view": they agreed in /me/.
AGREEMENT_CHANNELS: dict[str, str] = {
    "in_person": "in person",
    "phone": "by phone",
    "video": "by video call",
    "letter": "by letter",
    "own_view": "in their own online view",
}

# The 5x5 risk quantification matrix (Guide s.45): score = likelihood x impact.
# The usual NHS bands are 1-3 low, 4-6 moderate, 8-12 high and 15-25 extreme;
# response-plan/1 has three levels, so moderate is "medium" and high and
# extreme are both "high" (scores 7, 11, 13, 14 cannot occur on a 5x5 grid).
RISK_BANDS: tuple[tuple[int, int, str], ...] = (
    (1, 3, "low"),
    (4, 6, "medium"),
    (8, 25, "high"),
)
CAPACITY_ABILITIES: tuple[str, ...] = ("communicate", "understand", "retain", "employ")
CAPACITY_ACKNOWLEDGEMENT_KEY = "capacity"
MIN_REVIEW_LENGTH = 20


@dataclass(frozen=True)
class PublishRules:
    """The configurable limits of the publish rules."""

    max_review_months: int = 12
    max_capacity_age_months: int = 12
    reminder_days: int = 30

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PublishRules:
        """Read the limits from an app config (keys PUBLISH_*, REVIEW_*)."""
        return cls(
            max_review_months=int(config.get("PUBLISH_MAX_REVIEW_MONTHS", 12)),
            max_capacity_age_months=int(
                config.get("PUBLISH_MAX_CAPACITY_AGE_MONTHS", 12)
            ),
            reminder_days=int(config.get("REVIEW_REMINDER_DAYS", 30)),
        )


DEFAULT_RULES = PublishRules()


@dataclass(frozen=True)
class RuleProblem:
    """One publish rule a document breaks: the field's pointer and why."""

    pointer: str
    message: str


def risk_level(likelihood: int, impact: int) -> str:
    """Return the schema's risk level for a likelihood and an impact (1 to 5)."""
    score = likelihood * impact
    for low, high, level in RISK_BANDS:
        if low <= score <= high:
            return level
    raise ValueError(f"likelihood x impact must be 1 to 25, got {score}")


def add_months(day: dt.date, months: int) -> dt.date:
    """Return the same day `months` later (or earlier), clamped to the month's end."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _long(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%B')} {day.year}"


def capacity_has_no(plan: Plan) -> bool:
    """Say whether the capacity assessment answers "No" to any C-U-R-E ability."""
    capacity = plan.capacity or Capacity()
    return any(capacity.ability(key) is False for key in CAPACITY_ABILITIES)


def capacity_acknowledged(plan: Plan) -> bool:
    """Say whether a lead clinician's s.21 review is recorded in the document."""
    acknowledgement = (plan.capacity or Capacity()).acknowledgement
    if acknowledgement is None:
        return False
    return bool(
        (acknowledgement.by or "").strip()
        and acknowledgement.on
        and len((acknowledgement.review or "").strip()) >= MIN_REVIEW_LENGTH
    )


def publish_problems(
    document: Mapping[str, Any],
    *,
    on: dt.date,
    rules: PublishRules = DEFAULT_RULES,
    previous: Mapping[str, Any] | None = None,
    acknowledgement_pending: bool = False,
) -> list[RuleProblem]:
    """Return every publish rule the document breaks, judged on the day `on`.

    `previous` is the document of the version this one follows (the live one),
    so an agreement carried over from it is caught. `acknowledgement_pending`
    says the lead clinician has yet to review (a submission, not an approval):
    a capacity "No" is then not a problem yet.
    """
    plan = plan_of(document)
    problems: list[RuleProblem] = []

    def refuse(pointer: str, message: str) -> None:
        problems.append(RuleProblem(pointer, message))

    review_by = plan.review_by
    latest_review = add_months(on, rules.max_review_months)
    if review_by is None:
        refuse("/plan/review_by", "set the date this plan must be reviewed by")
    elif review_by <= on:
        refuse("/plan/review_by", "the review date must be after the approval date")
    elif review_by > latest_review:
        refuse(
            "/plan/review_by",
            f"the review date must be at most {rules.max_review_months} months "
            f"ahead, by {_long(latest_review)}",
        )

    if plan.sharing_basis not in SHARING_BASES:
        refuse("/plan/sharing_basis", "record the lawful basis for sharing the plan")

    _agreement_problems(plan, on, previous, refuse)
    _risk_problems(plan, refuse)
    _capacity_problems(plan, on, rules, acknowledgement_pending, refuse)
    return problems


def _agreement_problems(
    plan: Plan,
    on: dt.date,
    previous: Mapping[str, Any] | None,
    refuse: Any,
) -> None:
    agreement = plan.agreement or Agreement()
    if agreement.agreed_with_person is not True:
        refuse(
            "/plan/coproduction/agreed_with_person",
            "record that the person agreed this version",
        )
        return
    agreed_on = agreement.agreed_on
    if agreed_on is None:
        refuse("/plan/coproduction/agreed_on", "record the date it was agreed")
    elif agreed_on > on:
        refuse("/plan/coproduction/agreed_on", "the agreed date is in the future")
    if agreement.channel not in AGREEMENT_CHANNELS:
        refuse(
            "/plan/coproduction/channel",
            "record how the person agreed: " + ", ".join(AGREEMENT_CHANNELS),
        )
    if previous is None or agreed_on is None:
        return
    before = plan_of(previous)
    before_agreed = before.agreement.agreed_on if before.agreement else None
    before_approved = before.approved_on
    # The person agrees to words; words that changed after the previous
    # version's agreement (or approval) were never in front of them then.
    if (before_agreed and agreed_on <= before_agreed) or (
        before_approved and agreed_on < before_approved
    ):
        refuse(
            "/plan/coproduction/agreed_on",
            "this is the previous version's agreement; the person must agree "
            "this version",
        )


def _risk_problems(plan: Plan, refuse: Any) -> None:
    risk = plan.risk
    if risk is None:
        return
    likelihood, impact, level = risk.likelihood, risk.impact, risk.level
    if not (isinstance(likelihood, int) and isinstance(impact, int) and level):
        refuse(
            "/plan/risk",
            "give the likelihood, the impact and the level together",
        )
        return
    if not (1 <= likelihood <= 5 and 1 <= impact <= 5):
        refuse("/plan/risk", "likelihood and impact are each 1 to 5")
        return
    expected = risk_level(likelihood, impact)
    if level != expected:
        refuse(
            "/plan/risk/level",
            f"likelihood {likelihood} x impact {impact} = {likelihood * impact} "
            f"is {expected} on the risk matrix (Guide s.45), not {level}",
        )


def _capacity_problems(
    plan: Plan,
    on: dt.date,
    rules: PublishRules,
    acknowledgement_pending: bool,
    refuse: Any,
) -> None:
    capacity = plan.capacity or Capacity()
    assessed_on = capacity.assessed_on
    if assessed_on is None:
        refuse(
            "/plan/capacity/assessed_on",
            "record when capacity (C-U-R-E) was last assessed",
        )
    else:
        oldest = add_months(on, -rules.max_capacity_age_months)
        if assessed_on < oldest:
            refuse(
                "/plan/capacity/assessed_on",
                f"the capacity assessment is older than "
                f"{rules.max_capacity_age_months} months; assess it again",
            )
        elif assessed_on > on:
            refuse("/plan/capacity/assessed_on", "the assessment date is in the future")
    missing = [key for key in CAPACITY_ABILITIES if capacity.ability(key) is None]
    for key in missing:
        refuse(f"/plan/capacity/{key}", "answer yes or no")
    if (
        capacity_has_no(plan)
        and not acknowledgement_pending
        and not capacity_acknowledged(plan)
    ):
        refuse(
            "/plan/capacity",
            "a \u201cNo\u201d needs the lead clinician's acknowledgement with the "
            "Guide s.21 review",
        )
