"""The mentors' desk: drafting, editing, submitting, approving, publishing, retiring.

A draft is a `PlanVersion` in status "draft" whose `document` holds the whole
response-plan/2 document. Mentors edit it; optimistic concurrency (the version's
`edit_count`, SQLAlchemy's `version_id_col`) refuses a save that started from an
older edit and hands back the field-level differences, so nothing is silently
overwritten. A lead clinician of the person's team publishes: blocking guardrail
findings refuse, each "acknowledge" finding needs a reason, and consent, lawful
basis, review date and approver are recorded on the version before it goes live.

Every step is audited without plan text. Nothing here commits.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from plans import audit, clock, guardrails, nhs_numbers, publish_rules
from plans import document as plan_document
from plans.cases import workflow as cases_gate
from plans.db import utcnow
from plans.document import Agreement, plan_of, read_plan
from plans.exchange.reading import schema_problems, value_problems
from plans.exchange.upgrade import FORMAT as FORMAT
from plans.exchange.upgrade import current
from plans.models import Person, PlanVersion, Team, User
from plans.publish_rules import DEFAULT_RULES, PublishRules
from plans.versions import live_version, make_live, next_version_number, retire
from plans.vocabulary import AuditAction

DRAFTERS = ("mentor", "lead_clinician")
RETIRE_REASONS: dict[str, str] = {
    "withdrew": "The person withdrew their agreement",
    "moved": "The person moved out of the team's area",
    "discharged": "The person was discharged from the team",
}
MIN_ACKNOWLEDGEMENT_LENGTH = 10
# Fields that belong to an approval, never to a draft.
_APPROVAL_FIELDS = ("approved_by", "approved_on", "published_at")


class DraftError(ValueError):
    """A desk step that cannot be carried out, in words."""


class NotAllowed(DraftError):
    """The user's role or team does not allow this step."""


class EditConflict(DraftError):
    """Someone saved the draft since this edit began; nothing was overwritten.

    `changes` are the differences between the saved draft and the refused edit
    (empty when the race was caught by the database; reload and diff again).
    """

    def __init__(self, message: str, changes: list[Change]) -> None:
        super().__init__(message)
        self.changes = changes


class PublishRefused(DraftError):
    """Publishing was refused; `problems` says every reason, `findings` the words."""

    def __init__(
        self,
        problems: list[str],
        findings: list[guardrails.Finding],
    ) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.findings = findings


# --- diff ----------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One field that differs between two documents."""

    pointer: str
    before: Any
    after: Any

    @property
    def label(self) -> str:
        """Return the field's name in words, e.g. 'Behaviours 2 › Advice'."""
        return describe_pointer(self.pointer)


_MISSING = object()


def _escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def _empty(value: Any) -> bool:
    return (
        value is _MISSING
        or value is None
        or value == ""
        or value == []
        or (value == {})
    )


def _diff(old: Any, new: Any, pointer: str) -> Iterator[Change]:
    if _empty(old) and _empty(new):
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in list(old) + [key for key in new if key not in old]:
            yield from _diff(
                old.get(key, _MISSING),
                new.get(key, _MISSING),
                f"{pointer}/{_escape(key)}",
            )
        return
    if isinstance(old, list) and isinstance(new, list):
        for index in range(max(len(old), len(new))):
            yield from _diff(
                old[index] if index < len(old) else _MISSING,
                new[index] if index < len(new) else _MISSING,
                f"{pointer}/{index}",
            )
        return
    if old != new:
        yield Change(
            pointer,
            None if old is _MISSING else old,
            None if new is _MISSING else new,
        )


def diff_documents(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Return the field-level changes from `old` to `new`, in document order."""
    return list(_diff(dict(old), dict(new), ""))


_LABELS: dict[str, str] = {
    "plan": "Plan",
    "person": "Person",
    "team": "Team",
    "advice_for": "Advice for",
    "emergency_department": "Emergency Department",
    "mental_health_crisis_team": "Mental-health crisis team",
    "home_treatment_team": "Home treatment team",
    "liaison_psychiatry": "Liaison psychiatry",
    "nhs_111_crisis_line": "NHS 111 and crisis lines",
    "street_triage": "Street triage",
    "liaison_and_diversion": "Liaison and diversion",
    "if_breached": "If breached",
    "person_statement": "Person's statement",
    "agreed_with_person": "Agreed with the person",
    "plain_explanation": "Plain explanation",
    "gp_practice": "GP practice",
    "ods_code": "ODS code",
    "please_do": "Please do",
    "please_dont": "Please don't",
    "mental_health_act": "Mental Health Act",
    "lpa_health_welfare": "Lasting Power of Attorney",
    "adrt": "Advance Decision to Refuse Treatment",
    "interval_months": "Review every (months)",
    "review_by": "Review by",
    "sharing_basis": "Sharing basis",
    "consent_recorded": "Consent recorded",
}


# Where the lead clinician's s.21 review is written at approval.
CAPACITY_REVIEW_POINTER = "/plan/capacity/acknowledgement"


def describe_pointer(pointer: str) -> str:
    """Return a JSON pointer as the field's name in words."""
    words: list[str] = []
    for token in pointer.strip("/").split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if token.isdigit():
            words[-1] = f"{words[-1]} {int(token) + 1}" if words else token
            continue
        words.append(_LABELS.get(token, token.replace("_", " ").capitalize()))
    if words and words[0] in ("Plan",):
        words = words[1:] or words
    return " \u203a ".join(words)


# --- helpers -------------------------------------------------------------------


def _require_drafter(user: User, person_team_id: int) -> None:
    if user.role not in DRAFTERS or not user.active:
        raise NotAllowed("only mentors and lead clinicians draft plans")
    if person_team_id not in user.team_ids:
        raise NotAllowed("you can only work on plans of your own teams")


def _team_for(session: Session, code: str | None) -> Team | None:
    if not code:
        return None
    return session.scalar(select(Team).where(Team.code == code))


def new_ref(session: Session, team: Team) -> str:
    """Return an unused person reference for the team, TEAMCODE/number."""
    prefix = f"{team.code}/"
    count = session.scalar(
        select(func.count()).select_from(Person).where(Person.ref.like(prefix + "%"))
    )
    number = (count or 0) + 1
    while session.scalar(
        select(Person.id).where(Person.ref == f"{prefix}{number:05d}")
    ):
        number += 1
    return f"{prefix}{number:05d}"


def apply_person_fields(person: Person, fields: plan_document.Person) -> None:
    """Copy the document's `person` object onto the person's row."""
    person.given_name = fields.given_name or person.given_name
    person.family_name = fields.family_name or person.family_name
    person.nhs_number = nhs_numbers.normalised_or_none(fields.nhs_number)
    person.preferred_name = fields.preferred_name or None
    person.aliases = list(fields.aliases)
    person.date_of_birth = fields.date_of_birth
    person.sex = fields.sex or None
    person.description = fields.description or None
    person.address = fields.address.as_dict() if fields.address else None


def as_draft_of(version: PlanVersion, document: Mapping[str, Any]) -> dict[str, Any]:
    """Return a document as it would be saved into this draft (ref, team, number)."""
    return _normalised(document, version.person, version.person.team, version.version)


def _normalised(
    document: Mapping[str, Any], person: Person, team: Team, number: int
) -> dict[str, Any]:
    """Return the document as a draft of `person`: ref, team, version, status."""
    doc = copy.deepcopy(dict(current(dict(document))))
    doc["format"] = FORMAT
    doc["team"] = team.exchange_dict()
    person_fields = dict(doc.get("person") or {})
    person_fields["ref"] = person.ref
    doc["person"] = person_fields
    plan = dict(doc.get("plan") or {})
    plan["version"] = number
    plan["status"] = "draft"
    for key in _APPROVAL_FIELDS:
        plan.pop(key, None)
    doc["plan"] = plan
    return doc


def open_draft(session: Session, person: Person) -> PlanVersion | None:
    """Return the person's draft in progress, if any."""
    return session.scalar(
        select(PlanVersion)
        .where(PlanVersion.person_id == person.id, PlanVersion.status == "draft")
        .order_by(PlanVersion.version.desc())
        .limit(1)
    )


def _audit(
    session: Session,
    user: User,
    action: AuditAction,
    version: PlanVersion,
    **detail: Any,
) -> None:
    audit.record_for(
        session,
        user,
        action=action,
        channel="web",
        person_ref=version.person.ref,
        plan_version_id=version.id,
        detail={"version": version.version, **detail},
    )


# --- drafting ------------------------------------------------------------------


def _refuse_without_case_consent(session: Session, person: Person) -> None:
    """Refuse any drafting for a case's person without permission and consent.

    People who never came through a case (plans.cases) are not affected.
    """
    refusal = cases_gate.refusal_for_person(session, person)
    if refusal:
        raise DraftError(refusal)


def _refuse_unsafe_values(document: Mapping[str, Any]) -> None:
    """Refuse values no plan may hold before any of the document is stored.

    NaN or out-of-range coordinates, lone surrogates and control characters once
    passed a save and broke approval, search and every responder's view later.
    """
    problems = value_problems(document) + [
        problem
        for problem in schema_problems(document)
        if problem.pointer.endswith(("/lat", "/lon"))
    ]
    if problems:
        raise DraftError(
            "; ".join(
                f"{describe_pointer(problem.pointer) or 'Document'}: {problem.message}"
                for problem in problems
            )
        )


_AGREEMENT_KEYS = ("agreed_with_person", "agreed_on", "channel")


def nhs_number_problem(
    session: Session, document: Mapping[str, Any], person: Person | None
) -> str | None:
    """Say why the document's NHS number cannot be this person's, or None."""
    person_fields = document.get("person") or {}
    typed = person_fields.get("nhs_number") if isinstance(person_fields, dict) else None
    if typed is None or typed == "":
        return None
    if not isinstance(typed, str):
        return "NHS number: write the 10 digits, such as 943 476 5919"
    try:
        digits = nhs_numbers.normalise(typed)
    except nhs_numbers.NhsNumberError as error:
        return f"NHS number: {error}"
    holder = session.scalar(select(Person).where(Person.nhs_number == digits))
    if holder is not None and (person is None or holder.id != person.id):
        return (
            f"NHS number: {holder.ref} already has this NHS number; "
            "check it, or edit that person's plan"
        )
    return None


def _check_nhs_number(
    session: Session, document: Mapping[str, Any], person: Person | None
) -> None:
    problem = nhs_number_problem(session, document, person)
    if problem:
        raise DraftError(problem)


def _agreement(document: Mapping[str, Any]) -> tuple[Any, ...]:
    agreement = plan_of(document).agreement or Agreement()
    return (agreement.agreed_with_person, agreement.agreed_on, agreement.channel)


def _words(document: Mapping[str, Any]) -> dict[str, Any]:
    """Return what the person reads and agrees to: person and plan, no bookkeeping."""
    doc = _without_agreement(document)
    plan = dict(doc.get("plan") or {})
    for key in ("version", "status", *_APPROVAL_FIELDS):
        plan.pop(key, None)
    return {"person": doc.get("person"), "plan": plan}


def _without_agreement(document: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of the document with the person's agreement taken out."""
    doc = copy.deepcopy(dict(document))
    plan = doc.get("plan")
    if isinstance(plan, dict):
        coproduction = plan.get("coproduction")
        if isinstance(coproduction, dict):
            for key in _AGREEMENT_KEYS:
                coproduction.pop(key, None)
            if not coproduction:
                plan.pop("coproduction")
        capacity = plan.get("capacity")
        if isinstance(capacity, dict):
            # The lead clinician's s.21 acknowledgement belongs to one version too.
            capacity.pop("acknowledgement", None)
    return doc


def create_draft(
    session: Session,
    document: Mapping[str, Any],
    *,
    author: User,
    team: Team | None = None,
    source: str = "new",
) -> PlanVersion:
    """Start a draft from a document, for a new person or one already known.

    A known `person.ref` gets its next version number; an unknown or empty ref
    creates the person in `team` (or the document's team). A person has at most
    one draft at a time.
    """
    _refuse_unsafe_values(document)
    person_fields = plan_document.person_of(document)
    ref = person_fields.ref.strip()
    person = session.scalar(select(Person).where(Person.ref == ref)) if ref else None
    _check_nhs_number(session, document, person)
    if person is not None:
        _require_drafter(author, person.team_id)
        # Someone who came through a case is drafted for only with the lead
        # clinician's permission and their own consent (plans.cases.workflow).
        _refuse_without_case_consent(session, person)
        if open_draft(session, person) is not None:
            raise DraftError(
                f"{person.ref} already has a draft in progress; edit that one"
            )
        team = person.team
    else:
        team = team or _team_for(session, plan_document.team_of(document).code or None)
        if team is None:
            raise DraftError("choose the team that will own this plan")
        _require_drafter(author, team.id)
        if not person_fields.given_name or not person_fields.family_name:
            raise DraftError("a new plan needs the person's given and family names")
        person = Person(
            ref=ref or new_ref(session, team),
            team=team,
            given_name=person_fields.given_name,
            family_name=person_fields.family_name,
            aliases=[],
        )
        apply_person_fields(person, person_fields)
        session.add(person)
        session.flush()
    number = next_version_number(session, person)
    version = PlanVersion(
        person=person,
        version=number,
        status="draft",
        document=_normalised(document, person, team, number),
        created_by_id=author.id,
        updated_by_id=author.id,
    )
    version.sync_recorded_fields()
    version.findings = [f.to_dict() for f in guardrails.check_plan(version.document)]
    session.add(version)
    session.flush()
    _audit(session, author, "draft_saved", version, source=source)
    return version


@dataclass(frozen=True)
class DraftedDocument:
    """What happened to one uploaded document: its draft, or why there is none."""

    position: str
    version: PlanVersion | None
    problem: str | None = None
    # What stands between the draft and publishing, so the importer knows.
    reasons: tuple[str, ...] = ()


def draft_documents(
    session: Session,
    documents: Iterable[tuple[str, Mapping[str, Any]]],
    *,
    author: User,
    today: dt.date | None = None,
    rules: PublishRules = DEFAULT_RULES,
) -> list[DraftedDocument]:
    """Turn uploaded documents into drafts, each on its own; never publish them.

    Whatever the document's status says, it lands as a draft: only a lead
    clinician's approval puts a plan live. Each outcome lists what the publish
    rules still ask for.
    """
    today = today or clock.today()
    outcomes: list[DraftedDocument] = []
    for position, document in documents:
        savepoint = session.begin_nested()
        try:
            version = create_draft(session, document, author=author, source="import")
        except DraftError as error:
            savepoint.rollback()
            outcomes.append(DraftedDocument(position, None, str(error)))
            continue
        savepoint.commit()
        reasons = draft_problems(
            version,
            today=today,
            rules=rules,
            previous=previous_document(session, version),
            acknowledgement_pending=True,
        )
        outcomes.append(DraftedDocument(position, version, reasons=tuple(reasons)))
    return outcomes


def start_from_live(session: Session, person: Person, *, author: User) -> PlanVersion:
    """Start a new draft from the person's live (or latest) version."""
    base = live_version(session, person) or session.scalar(
        select(PlanVersion)
        .where(PlanVersion.person_id == person.id)
        .order_by(PlanVersion.version.desc())
        .limit(1)
    )
    # The person agrees to each version: a new draft never inherits the
    # agreement (or the lead clinician's acknowledgement) of the one before.
    document: dict[str, Any] = (
        _without_agreement(base.document)
        if base is not None
        else {"person": person.exchange_dict(), "plan": {"summary": ""}}
    )
    document.setdefault("person", {})["ref"] = person.ref
    return create_draft(session, document, author=author)


def edit_draft(
    session: Session,
    version: PlanVersion,
    document: Mapping[str, Any],
    *,
    editor: User,
    based_on: int,
) -> PlanVersion:
    """Save a mentor's edit of a draft, refusing it if it started from an older edit.

    `based_on` is the `edit_count` the editor's form was loaded with. A refused
    edit raises `EditConflict` with the field-level differences; the caller
    rolls back and shows them.
    """
    _require_drafter(editor, version.person.team_id)
    if version.status != "draft":
        raise DraftError(
            f"version {version.version} is {version.status}; start a new draft"
        )
    _refuse_without_case_consent(session, version.person)
    _refuse_unsafe_values(document)
    _check_nhs_number(session, document, version.person)
    mine = as_draft_of(version, document)
    if based_on != version.edit_count:
        raise EditConflict(
            "someone else saved this draft after you opened it; "
            "nothing was overwritten: compare and save again",
            diff_documents(version.document, mine),
        )
    if mine == version.document:
        return version
    if _agreement(mine) == _agreement(version.document) and _words(mine) != _words(
        version.document
    ):
        # New words the person has not seen: their agreement was to the old
        # ones. Recording it again in this same edit keeps it.
        mine = _without_agreement(mine)
    version.document = mine
    version.sync_recorded_fields()
    version.findings = [f.to_dict() for f in guardrails.check_plan(mine)]
    version.updated_by_id = editor.id
    version.updated_at = utcnow()
    # An edit takes a submitted draft back to the mentors: the lead clinician
    # must never approve words they have not seen.
    version.submitted_at = None
    version.submitted_by_id = None
    try:
        session.flush()
    except StaleDataError as error:
        raise EditConflict(
            "someone else saved this draft at the same moment; nothing was "
            "overwritten: compare and save again",
            [],
        ) from error
    _audit(session, editor, "draft_saved", version, source="edit")
    return version


def previous_document(session: Session, version: PlanVersion) -> dict[str, Any] | None:
    """Return the document of the version this draft would supersede, if any."""
    live = live_version(session, version.person)
    if live is None or live.id == version.id:
        return None
    return live.document


def draft_problems(
    version: PlanVersion,
    *,
    today: dt.date,
    rules: PublishRules = DEFAULT_RULES,
    previous: Mapping[str, Any] | None = None,
    acknowledgement_pending: bool = False,
) -> list[str]:
    """Return what stops this draft being published, in words (findings aside).

    The publish rules are `plans.publish_rules`, the same ones imports meet.
    """
    problems = [
        f"{describe_pointer(problem.pointer) or 'Document'}: {problem.message}"
        for problem in schema_problems(version.document)
    ]
    problems.extend(
        f"{describe_pointer(problem.pointer)}: {problem.message}"
        for problem in publish_rules.publish_problems(
            version.document,
            on=today,
            rules=rules,
            previous=previous,
            acknowledgement_pending=acknowledgement_pending,
        )
    )
    if not plan_of(version.document).summary.strip():
        problems.append("Summary: write the summary a responder reads first")
    return problems


def submit(
    session: Session,
    version: PlanVersion,
    *,
    mentor: User,
    today: dt.date | None = None,
    rules: PublishRules = DEFAULT_RULES,
) -> PlanVersion:
    """Submit a draft to the team's lead clinician for approval."""
    _require_drafter(mentor, version.person.team_id)
    if version.status != "draft":
        raise DraftError(f"version {version.version} is {version.status}")
    if version.submitted_at is not None:
        raise DraftError("this draft is already waiting for approval")
    _refuse_without_case_consent(session, version.person)
    today = today or clock.today()
    problems = draft_problems(
        version,
        today=today,
        rules=rules,
        previous=previous_document(session, version),
        acknowledgement_pending=True,
    )
    blocks = guardrails.blocking(guardrails.check_plan(version.document))
    if blocks:
        problems.extend(
            f"{describe_pointer(f.pointer)}: \u201c{f.phrase}\u201d withholds care"
            for f in blocks
        )
    # Another person's draft may have taken the number since this one was saved.
    number_problem = nhs_number_problem(session, version.document, version.person)
    if number_problem:
        problems.append(number_problem)
    if problems:
        raise PublishRefused(problems, blocks)
    version.submitted_at = utcnow()
    version.submitted_by_id = mentor.id
    _flush(session)
    _audit(session, mentor, "submitted", version)
    return version


# --- approval ------------------------------------------------------------------


@dataclass(frozen=True)
class Review:
    """What a lead clinician sees before publishing: problems, findings, changes."""

    problems: list[str]
    blocks: list[guardrails.Finding]
    to_acknowledge: list[guardrails.Finding]
    changes: list[Change] = field(default_factory=list)
    capacity_review_needed: bool = False
    hidden_contacts: list[str] = field(default_factory=list)

    @property
    def publishable(self) -> bool:
        """Say whether nothing but acknowledgements stands in the way."""
        return not self.problems and not self.blocks


def review(
    session: Session,
    version: PlanVersion,
    *,
    today: dt.date,
    rules: PublishRules = DEFAULT_RULES,
) -> Review:
    """Return the problems, findings and changes against the live version."""
    findings = guardrails.check_plan(version.document)
    live = live_version(session, version.person)
    previous = live.document if live is not None and live.id != version.id else None
    plan = plan_of(version.document)
    return Review(
        problems=draft_problems(
            version,
            today=today,
            rules=rules,
            previous=previous,
            acknowledgement_pending=True,
        ),
        blocks=guardrails.blocking(findings),
        to_acknowledge=guardrails.to_acknowledge(findings),
        changes=content_changes(live.document, version.document) if live else [],
        capacity_review_needed=publish_rules.capacity_has_no(plan),
        hidden_contacts=[
            item.name for item in plan.nominated_people if not item.consented
        ],
    )


# Parts of a document that differ between any two versions by their nature.
_LIFECYCLE_POINTERS = (
    "/format",
    "/team",
    "/plan/version",
    "/plan/status",
    "/plan/approved_by",
    "/plan/approved_on",
    "/plan/published_at",
)


def content_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Return the changes a reader cares about: content, not version bookkeeping."""
    return [
        change
        for change in diff_documents(old, new)
        if not change.pointer.startswith(_LIFECYCLE_POINTERS)
    ]


def publish(
    session: Session,
    version: PlanVersion,
    *,
    approver: User,
    acknowledgements: Mapping[str, str] | None = None,
    today: dt.date | None = None,
    rules: PublishRules = DEFAULT_RULES,
) -> PlanVersion:
    """Approve a submitted draft and put it live, superseding the live version.

    `acknowledgements` maps each "acknowledge" finding's key to the lead
    clinician's reason for keeping the words, and "capacity" to the Guide s.21
    review when capacity has a "No". Refuses, naming every reason, when a
    directive withholds care, a finding is unacknowledged, a publish rule
    (`plans.publish_rules`) is broken, or the approver drafted or submitted it.
    """
    person = version.person
    if approver.role != "lead_clinician" or not approver.active:
        raise NotAllowed("only a lead clinician approves and publishes plans")
    if person.team_id not in approver.team_ids:
        raise NotAllowed("only a lead clinician of the person's team publishes")
    if version.status != "draft":
        raise DraftError(f"version {version.version} is {version.status}")
    if version.submitted_at is None:
        raise DraftError("a mentor must submit the draft for approval first")
    _refuse_without_case_consent(session, person)
    # Four eyes: a lead clinician never approves words they wrote or sent.
    if approver.id in {
        version.created_by_id,
        version.updated_by_id,
        version.submitted_by_id,
    }:
        raise NotAllowed(
            "you drafted or submitted this version; another lead clinician of "
            "the team must approve it"
        )
    today = today or clock.today()
    acknowledgements = {
        key: " ".join(str(reason).split())
        for key, reason in (acknowledgements or {}).items()
    }
    capacity_review = acknowledgements.pop(
        publish_rules.CAPACITY_ACKNOWLEDGEMENT_KEY, ""
    )
    document = copy.deepcopy(current(version.document))
    plan = document.setdefault("plan", {})
    if publish_rules.capacity_has_no(read_plan(plan)) and capacity_review:
        plan["capacity"]["acknowledgement"] = {
            "by": approver.display_name,
            "on": today.isoformat(),
            "review": capacity_review[:2000],
        }
    # Check the words that will be published, which include the s.21 review the
    # approver writes now; the approver's own words are changed, not acknowledged.
    findings = guardrails.check_plan(document)
    written_now = [
        finding
        for finding in findings
        if finding.pointer.startswith(CAPACITY_REVIEW_POINTER)
    ]
    findings = [finding for finding in findings if finding not in written_now]
    blocks = guardrails.blocking(findings)
    problems = [
        f"{describe_pointer(problem.pointer) or 'Document'}: {problem.message}"
        for problem in schema_problems(document)
    ] + [
        f"{describe_pointer(problem.pointer)}: {problem.message}"
        + (
            f" (at least {publish_rules.MIN_REVIEW_LENGTH} characters)"
            if problem.pointer == "/plan/capacity"
            else ""
        )
        for problem in publish_rules.publish_problems(
            document,
            on=today,
            rules=rules,
            previous=previous_document(session, version),
        )
    ]
    if not str(plan.get("summary") or "").strip():
        problems.append("Summary: write the summary a responder reads first")
    for finding in blocks:
        problems.append(
            f"{describe_pointer(finding.pointer)}: \u201c{finding.phrase}\u201d "
            "withholds care or mandates a response; change the words"
        )
    for finding in written_now:
        problems.append(
            f"Capacity review: \u201c{finding.phrase}\u201d {finding.message}"
        )
    acknowledged: list[dict[str, Any]] = []
    for finding in guardrails.to_acknowledge(findings):
        reason = acknowledgements.get(finding.key, "")
        if len(reason) < MIN_ACKNOWLEDGEMENT_LENGTH:
            problems.append(
                f"{describe_pointer(finding.pointer)}: acknowledge "
                f"\u201c{finding.phrase}\u201d with a reason"
            )
            continue
        acknowledged.append(
            {
                "key": finding.key,
                "code": finding.code,
                "pointer": finding.pointer,
                "phrase": finding.phrase,
                "reason": reason[:1000],
                "by_id": approver.id,
                "by_name": approver.display_name,
                "on": today.isoformat(),
            }
        )
    # Another person's draft may have taken the number since this one was saved.
    number_problem = nhs_number_problem(session, document, person)
    if number_problem:
        problems.append(number_problem)
    if problems:
        raise PublishRefused(problems, blocks)

    now = utcnow()
    plan["status"] = "live"
    plan["approved_by"] = approver.display_name
    plan["approved_on"] = today.isoformat()
    plan["published_at"] = now.isoformat(timespec="seconds").replace("+00:00", "Z")
    version.document = document
    version.sync_recorded_fields()
    version.approved_by_id = approver.id
    version.findings = [finding.to_dict() for finding in findings]
    version.acknowledgements = acknowledged
    # The content is final now, while the version is still a draft; from here
    # on only its lifecycle changes.
    _flush(session)
    apply_person_fields(person, plan_document.person_of(document))
    make_live(session, version, at=now)
    for item in acknowledged:
        _audit(session, approver, "acknowledgement", version, reason_code=item["code"])
    _audit(
        session,
        approver,
        "published",
        version,
        findings=len(findings),
        acknowledged=len(acknowledged),
    )
    return version


def return_to_mentor(
    session: Session, version: PlanVersion, *, approver: User
) -> PlanVersion:
    """Send a submitted draft back to the mentors without publishing it."""
    if approver.role != "lead_clinician" or version.person.team_id not in (
        approver.team_ids
    ):
        raise NotAllowed("only a lead clinician of the person's team returns drafts")
    if version.status != "draft" or version.submitted_at is None:
        raise DraftError("this draft is not waiting for approval")
    version.submitted_at = None
    version.submitted_by_id = None
    _flush(session)
    _audit(session, approver, "returned", version)
    return version


def discard_draft(session: Session, version: PlanVersion, *, by: User) -> bool:
    """Delete a draft; say whether its person went too (new, with nothing else)."""
    person = version.person
    _require_drafter(by, person.team_id)
    if version.status != "draft":
        raise DraftError("only drafts can be discarded")
    _audit(session, by, "draft_discarded", version)
    others = session.scalar(
        select(func.count())
        .select_from(PlanVersion)
        .where(PlanVersion.person_id == person.id, PlanVersion.id != version.id)
    )
    session.delete(version)
    session.flush()
    if others:
        return False
    # A person typed in for a draft that never went live was never shown to
    # anyone; keeping their details would be keeping data for nothing.
    cases_gate.release_person(session, person)
    session.delete(person)
    session.flush()
    return True


def _flush(session: Session) -> None:
    """Flush, turning a lost race with another writer into an EditConflict."""
    try:
        session.flush()
    except StaleDataError as error:
        raise EditConflict(
            "someone else changed this draft at the same moment; reload it", []
        ) from error


# --- retiring ------------------------------------------------------------------


def retire_plan(
    session: Session,
    person: Person,
    *,
    by: User,
    reason: str,
    person_told: str,
) -> PlanVersion:
    """Retire the person's live plan: it stops being shown and cards stop resolving."""
    _require_drafter(by, person.team_id)
    if reason not in RETIRE_REASONS:
        raise DraftError(f"choose why the plan ends: {', '.join(RETIRE_REASONS)}")
    person_told = " ".join(person_told.split())
    if not person_told:
        raise DraftError("say how the person was told their plan has ended")
    current = retire(
        session, person, reason=f"{reason}: person told {person_told}"[:500]
    )
    if current is None:
        raise DraftError(f"{person.ref} has no live plan to retire")
    _audit(session, by, "retired", current, reason_code=reason)
    return current


# --- lists for the desk --------------------------------------------------------


def team_people(session: Session, team_ids: set[int]) -> list[Person]:
    """Return the people of these teams, by family name."""
    if not team_ids:
        return []
    return list(
        session.scalars(
            select(Person)
            .where(Person.team_id.in_(team_ids))
            .order_by(Person.family_name, Person.given_name, Person.ref)
        )
    )


def team_drafts(
    session: Session, team_ids: set[int], *, submitted: bool | None = None
) -> list[PlanVersion]:
    """Return the drafts of these teams (only submitted ones, or only not)."""
    if not team_ids:
        return []
    query = (
        select(PlanVersion)
        .join(Person, PlanVersion.person_id == Person.id)
        .where(Person.team_id.in_(team_ids), PlanVersion.status == "draft")
    )
    if submitted is True:
        query = query.where(PlanVersion.submitted_at.is_not(None))
    elif submitted is False:
        query = query.where(PlanVersion.submitted_at.is_(None))
    return list(session.scalars(query.order_by(PlanVersion.updated_at.desc())))


@dataclass(frozen=True)
class ReviewReminder:
    """A live plan whose review falls due soon, today, or has passed."""

    person: Person
    version: PlanVersion
    review_by: dt.date
    days_left: int

    @property
    def words(self) -> str:
        """Return when the review is due, in words."""
        if self.days_left > 1:
            return f"review due in {self.days_left} days"
        if self.days_left == 1:
            return "review due tomorrow"
        if self.days_left == 0:
            return "review due today"
        return f"review overdue by {-self.days_left} days"


def review_reminders(
    session: Session,
    team_ids: set[int],
    *,
    today: dt.date,
    rules: PublishRules = DEFAULT_RULES,
) -> list[ReviewReminder]:
    """Return the live plans to review: due within `rules.reminder_days`, or late.

    The desk lists them for the team's mentors from 30 days before the review
    date (by default), on the day, and every day after until a new version is
    published.
    """
    if not team_ids:
        return []
    horizon = today + dt.timedelta(days=rules.reminder_days)
    rows = session.scalars(
        select(PlanVersion)
        .join(Person, PlanVersion.person_id == Person.id)
        .where(
            Person.team_id.in_(team_ids),
            PlanVersion.status == "live",
            PlanVersion.review_by.is_not(None),
            PlanVersion.review_by <= horizon,
        )
        .order_by(PlanVersion.review_by, Person.family_name)
    )
    return [
        ReviewReminder(
            version.person,
            version,
            version.review_by,
            (version.review_by - today).days,
        )
        for version in rows
        if version.review_by is not None
    ]
