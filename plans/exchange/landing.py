"""Landing response-plan/1 documents in the database.

The rules, per document (README of the format):

- a new `person.ref` is added;
- the same ref and version again changes nothing ("unchanged");
- a higher version than the live one supersedes it ("updated");
- a lower version than the live one is refused, in words;
- a document with any guardrail finding lands as a draft with its findings,
  never live, because an import carries no lead clinician's acknowledgement
  ("drafted"); so does a document whose status is draft;
- a held draft may be replaced, or put live, by the same version sent again.

Each document lands inside its own SAVEPOINT, so a bad one never half-lands and
never spoils the others. Nothing here commits: the caller owns the transaction and
commits in batches.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from plans import audit, clock, guardrails
from plans import document as plan_document
from plans.db import utcnow
from plans.exchange.reading import (
    ERROR,
    WARNING,
    ImportProblem,
    ParsedDocument,
    check_document,
)
from plans.models import Person, PlanVersion, PublishedVersionImmutable, Team, User
from plans.publish_rules import DEFAULT_RULES, PublishRules, publish_problems
from plans.versions import (
    LifecycleError,
    PendingLiveChanges,
    add_first_live_versions,
    batched_live_changes,
    live_version,
    make_live,
    retire,
)
from plans.vocabulary import Channel

logger = logging.getLogger(__name__)

ADDED = "added"
UPDATED = "updated"
UNCHANGED = "unchanged"
REFUSED = "refused"
DRAFTED = "drafted"
INVALID = "invalid"
OUTCOMES: tuple[str, ...] = (ADDED, UPDATED, UNCHANGED, REFUSED, DRAFTED, INVALID)

# Documents looked up together: one query learns which refs already exist.
_CHUNK = 500


@dataclass(frozen=True)
class DocumentOutcome:
    """What happened to one document of an import."""

    position: str
    ref: str | None
    version: int | None
    outcome: str
    message: str = ""


@dataclass
class ImportReport:
    """What an import did: counts per outcome, each outcome, and every problem."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    drafted: int = 0
    invalid: int = 0
    outcomes: list[DocumentOutcome] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Return how many documents the import looked at."""
        return sum(getattr(self, name) for name in OUTCOMES)

    @property
    def ok(self) -> bool:
        """Say whether every document was valid and none was refused."""
        return self.refused == 0 and self.invalid == 0

    def count(self, outcome: str) -> None:
        """Count one document under `outcome`."""
        setattr(self, outcome, getattr(self, outcome) + 1)

    def absorb(self, other: ImportReport, *, keep_details: bool = True) -> None:
        """Add another report's counts (and, if asked, its outcomes and problems)."""
        for name in OUTCOMES:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if keep_details:
            self.outcomes.extend(other.outcomes)
            self.problems.extend(other.problems)

    def summary(self) -> str:
        """Return the one-line summary the CLI prints."""
        line = (
            f"added {self.added}, updated {self.updated}, "
            f"unchanged {self.unchanged}, refused {self.refused}, "
            f"drafted {self.drafted}"
        )
        if self.invalid:
            line += f", invalid {self.invalid}"
        return line


# --- guardrails ----------------------------------------------------------------


@dataclass(frozen=True)
class GuardrailResult:
    """The guardrails' view of a document: findings, and whether it may go live."""

    findings: list[dict[str, Any]]
    may_go_live: bool


def guardrail_result(document: dict[str, Any]) -> GuardrailResult:
    """Run the plan guardrails on a document, as publishing would.

    An import carries no lead clinician's acknowledgement, so a finding of either
    kind (blocking, or needing acknowledgement) keeps the document a draft.
    """
    findings = [finding.to_dict() for finding in guardrails.check_plan(document)]
    return GuardrailResult(findings, not findings)


def rule_problems(
    document: dict[str, Any],
    *,
    today: dt.date,
    rules: PublishRules = DEFAULT_RULES,
    previous: dict[str, Any] | None = None,
) -> list[tuple[str, str]]:
    """Return (pointer, message) for each publish rule a live document breaks.

    An imported plan was approved elsewhere, so the rules are judged on its
    approval date (`approved_on`), which must name a lead clinician and not lie
    in the future; the desk judges them on the day of approval.
    """
    plan = plan_document.plan_of(document)
    problems: list[tuple[str, str]] = []
    if not (plan.approved_by or "").strip():
        problems.append(
            ("/plan/approved_by", "name the lead clinician who approved it")
        )
    approved_on = plan.approved_on
    if approved_on is None:
        problems.append(("/plan/approved_on", "record the date it was approved"))
        approved_on = today
    elif approved_on > today:
        problems.append(("/plan/approved_on", "the approval date is in the future"))
    problems.extend(
        (problem.pointer, problem.message)
        for problem in publish_problems(
            document, on=approved_on, rules=rules, previous=previous
        )
    )
    return problems


def _finding_text(finding: dict[str, Any]) -> str:
    if finding.get("severity") == guardrails.BLOCK:
        why = "kept as a draft, publishing refuses this wording"
    else:
        why = "kept as a draft until the lead clinician acknowledges this wording"
    return f"{why}: {finding.get('message') or finding.get('phrase', '')}"


# --- landing -------------------------------------------------------------------


class _Refused(Exception):
    """A document the rules refuse; carries the pointer and the reason."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(message)
        self.pointer = pointer
        self.message = message


def _apply_person_fields(person: Person, fields: plan_document.Person) -> None:
    person.given_name = fields.given_name
    person.family_name = fields.family_name
    person.nhs_number = fields.nhs_number or None
    person.preferred_name = fields.preferred_name or None
    person.aliases = list(fields.aliases)
    person.date_of_birth = fields.date_of_birth
    person.sex = fields.sex
    person.description = fields.description
    person.address = fields.address.as_dict() if fields.address else None


class _Lander:
    """Lands documents one by one inside one caller-owned transaction."""

    def __init__(
        self,
        session: Session,
        actor: User | str | None,
        *,
        today: dt.date,
        rules: PublishRules,
    ) -> None:
        self.session = session
        self.today = today
        self.rules = rules
        self.actor_id = actor.id if isinstance(actor, User) else None
        # Strong references keep the teams in the session's identity map, so
        # nothing (the search refresh included) loads a team twice in a batch.
        self.teams: dict[str, Team] = {}
        self.known_refs: set[str] = set()
        self.held: dict[tuple[str, int], tuple[dict[str, Any], str]] = {}

    def forget_unsaved(self) -> None:
        """Drop what a rolled-back savepoint may have taken with it."""
        self.teams.clear()

    def team_for(self, fields: plan_document.Team) -> Team:
        """Return the document's team, creating it if it is new."""
        code = fields.code
        team = self.teams.get(code)
        if team is None:
            team = self.session.scalar(select(Team).where(Team.code == code))
        if team is None:
            team = Team(
                code=code,
                name=fields.name,
                phone=fields.phone,
                email=fields.email,
                hours=fields.hours,
            )
            self.session.add(team)
            self.session.flush()
        self.teams[code] = team
        return team

    def prefetch(self, refs: Iterable[str]) -> None:
        """Learn, in one query per chunk, which refs and versions are held."""
        wanted = sorted(set(refs))
        self.known_refs = set()
        self.held = {}
        for start in range(0, len(wanted), _CHUNK):
            rows = self.session.execute(
                select(
                    Person.ref,
                    PlanVersion.version,
                    PlanVersion.document,
                    PlanVersion.status,
                )
                .outerjoin(PlanVersion, PlanVersion.person_id == Person.id)
                .where(Person.ref.in_(wanted[start : start + _CHUNK]))
            )
            for ref, number, document, status in rows:
                self.known_refs.add(ref)
                if number is not None:
                    self.held[(ref, number)] = (document, status)

    def fast_candidates(
        self, parsed_chunk: list[ParsedDocument]
    ) -> list[ParsedDocument]:
        """Return the documents that can land together: new people, going live.

        A document qualifies when it is valid, live, passes the guardrails, names
        a person not held and not named twice in the chunk, and a team that
        already exists. Everything else lands one by one.
        """
        seen: dict[str, int] = {}
        for parsed in parsed_chunk:
            if parsed.valid and parsed.document is not None:
                ref = plan_document.ref(parsed.document)
                seen[ref] = seen.get(ref, 0) + 1
        chosen = []
        for parsed in parsed_chunk:
            document = parsed.document
            if not parsed.valid or document is None:
                continue
            ref = plan_document.ref(document)
            if (
                seen[ref] != 1
                or ref in self.known_refs
                or plan_document.status(document) != "live"
                or not self.existing_team(plan_document.team_of(document).code)
                or not guardrail_result(document).may_go_live
                or rule_problems(document, today=self.today, rules=self.rules)
            ):
                continue
            chosen.append(parsed)
        return chosen

    def existing_team(self, code: str) -> bool:
        """Say whether the team exists, remembering it for the batch."""
        if code not in self.teams:
            team = self.session.scalar(select(Team).where(Team.code == code))
            if team is None:
                return False
            self.teams[code] = team
        return True

    def land_new_people(self, batch: list[ParsedDocument]) -> None:
        """Land first live versions of new people together (caller's savepoint)."""
        firsts = []
        for parsed in batch:
            document = parsed.document
            assert document is not None
            person = Person(
                ref=plan_document.ref(document),
                team_id=self.teams[plan_document.team_of(document).code].id,
                aliases=[],
            )
            _apply_person_fields(person, plan_document.person_of(document))
            version = PlanVersion(
                version=plan_document.version_number(document),
                status="draft",
                # A private copy: the caller's dict may change after the import.
                document=json.loads(json.dumps(document)),
                findings=[],
                acknowledgements=[],
                created_by_id=self.actor_id,
                updated_by_id=self.actor_id,
            )
            version.sync_recorded_fields()
            firsts.append((person, version))
        add_first_live_versions(self.session, firsts)
        self.known_refs.update(person.ref for person, _version in firsts)

    def already_held(
        self, document: dict[str, Any], position: str
    ) -> tuple[str, str, list[ImportProblem]] | None:
        """Return the "unchanged" outcome if this ref and version are held."""
        key = (plan_document.ref(document), plan_document.version_number(document))
        stored = self.held.get(key)
        if stored is None:
            return None
        stored_document, status = stored
        same_content = _comparable(stored_document) == _comparable(document)
        if status == "draft" and (
            plan_document.status(document) != "draft" or not same_content
        ):
            # A draft is still open: the sender may finish it or put it live.
            return None
        problems: list[ImportProblem] = []
        if not same_content:
            problems.append(
                ImportProblem(
                    position,
                    "/plan/version",
                    f"version {key[1]} is already held with different "
                    "content; nothing changed (raise the version to update)",
                    WARNING,
                )
            )
        return UNCHANGED, status, problems

    def land(
        self, document: dict[str, Any], position: str
    ) -> tuple[str, str, list[ImportProblem]]:
        """Land one valid document; return its outcome, a message and problems."""
        session = self.session
        ref = plan_document.ref(document)
        number = plan_document.version_number(document)
        status = plan_document.status(document)

        person = None
        if ref in self.known_refs:
            person = session.scalar(select(Person).where(Person.ref == ref))
        current: PlanVersion | None = None
        open_draft: PlanVersion | None = None
        if person is not None:
            open_draft = session.scalar(
                select(PlanVersion).where(
                    PlanVersion.person_id == person.id,
                    PlanVersion.version == number,
                    PlanVersion.status == "draft",
                )
            )
            current = live_version(session, person)
            highest_published = session.scalar(
                select(func.max(PlanVersion.version)).where(
                    PlanVersion.person_id == person.id,
                    PlanVersion.status != "draft",
                )
            )
            if current is not None and number < current.version:
                raise _Refused(
                    "/plan/version",
                    f"version {number} of {ref} is older than the live version "
                    f"{current.version}; nothing changed",
                )
            if highest_published is not None and number < highest_published:
                raise _Refused(
                    "/plan/version",
                    f"version {number} of {ref} is older than version "
                    f"{highest_published} already held; nothing changed",
                )

        nhs_number = plan_document.person_of(document).nhs_number
        if nhs_number:
            holder = session.scalar(
                select(Person.ref).where(
                    Person.nhs_number == nhs_number, Person.ref != ref
                )
            )
            if holder is not None:
                raise _Refused(
                    "/person/nhs_number",
                    f"{holder} already has this NHS number; nothing of {ref} changed",
                )

        problems: list[ImportProblem] = []
        guard = guardrail_result(document) if status == "live" else None
        broken = (
            rule_problems(
                document,
                today=self.today,
                rules=self.rules,
                previous=current.document if current is not None else None,
            )
            if status == "live"
            else []
        )
        goes_live = (
            status == "live" and guard is not None and guard.may_go_live and not broken
        )
        for pointer, message in broken:
            problems.append(
                ImportProblem(
                    position,
                    pointer,
                    f"kept as a draft, publishing refuses it: {message}",
                    WARNING,
                )
            )
        if guard is not None and not guard.may_go_live:
            for finding in guard.findings:
                problems.append(
                    ImportProblem(
                        position,
                        str(finding.get("pointer", "")),
                        _finding_text(finding),
                        WARNING,
                    )
                )

        team = self.team_for(plan_document.team_of(document))
        is_new = person is None
        if person is None:
            person = Person(ref=ref, team_id=team.id, aliases=[])
            _apply_person_fields(person, plan_document.person_of(document))
            session.add(person)
            session.flush()
            self.known_refs.add(ref)
        elif goes_live or status == "retired":
            # The newest published version speaks for the person, including a
            # move to another team.
            person.team_id = team.id
            _apply_person_fields(person, plan_document.person_of(document))

        # A private copy: the caller's dict may change after the import.
        stored_document = json.loads(json.dumps(document))
        findings = guard.findings if guard is not None else []
        if open_draft is not None:
            version = open_draft
            version.document = stored_document
            version.findings = findings
            version.updated_by_id = self.actor_id
            if status == "retired":
                version.status = "retired"
        else:
            version = PlanVersion(
                person_id=person.id,
                version=number,
                status="retired" if status == "retired" else "draft",
                document=stored_document,
                findings=findings,
                acknowledgements=[],
                created_by_id=self.actor_id,
                updated_by_id=self.actor_id,
            )
            session.add(version)
        version.sync_recorded_fields()
        if status == "retired":
            version.ended_at = utcnow()
            version.end_reason = "retired in the imported document"
        session.flush()

        if status == "retired":
            if current is not None:
                retire(
                    session,
                    person,
                    reason=f"version {number} arrived retired by import",
                )
            return (ADDED if is_new else UPDATED), "retired", problems
        if not goes_live:
            if status == "draft":
                reason = "draft"
            elif broken:
                reason = "publish rules not met"
            else:
                reason = "guardrail findings"
            return DRAFTED, reason, problems
        make_live(session, version)
        return (ADDED if is_new else UPDATED), "live", problems


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    # The status in a document says what it was when sent; a later export of the
    # same version may say superseded or retired, and is still the same version.
    plan = dict(document.get("plan") or {})
    plan.pop("status", None)
    plan.pop("published_at", None)
    return dict(document, plan=plan)


def import_documents(
    session: Session,
    documents: Iterable[ParsedDocument | dict[str, Any]],
    *,
    actor: User | str | None,
    source: str,
    channel: Channel = "cli",
    rules: PublishRules = DEFAULT_RULES,
    today: dt.date | None = None,
) -> ImportReport:
    """Land documents by the exchange rules and audit the batch; never commit.

    A live document goes live only if it meets the publish rules
    (`rule_problems`) and the guardrails; otherwise it lands as a draft and the
    report says why.

    Documents stream through in chunks, but everything lands in the caller's
    transaction: callers importing many thousands commit between batches. The
    search index, chat places and notifications hear about the chunk's live
    changes together, after it has landed.
    """
    report = ImportReport()
    lander = _Lander(session, actor, today=today or clock.today(), rules=rules)
    index = 0
    iterator = iter(documents)
    while chunk := list(itertools.islice(iterator, _CHUNK)):
        parsed_chunk = []
        for item in chunk:
            parsed_chunk.append(
                item
                if isinstance(item, ParsedDocument)
                else check_document(item, f"[{index}]")
            )
            index += 1
        lander.prefetch(
            plan_document.ref(parsed.document)
            for parsed in parsed_chunk
            if parsed.valid and parsed.document is not None
        )
        with batched_live_changes(session) as pending:
            landed = _land_new_people(session, lander, parsed_chunk, pending)
            for parsed in parsed_chunk:
                if id(parsed) in landed:
                    _count_landed_new(parsed, report)
                else:
                    _land_one(session, lander, parsed, report, pending)
    _audit(session, report, actor=actor, source=source, channel=channel)
    return report


def _land_new_people(
    session: Session,
    lander: _Lander,
    parsed_chunk: list[ParsedDocument],
    pending: PendingLiveChanges,
) -> set[int]:
    """Land the chunk's new live people in one savepoint; return which landed.

    If anything in the batch fails, none of it stays and every document goes
    the one-by-one way, which names the one at fault.
    """
    batch = lander.fast_candidates(parsed_chunk)
    if len(batch) < 2:
        return set()
    mark = pending.mark()
    try:
        with session.begin_nested():
            lander.land_new_people(batch)
    except (SQLAlchemyError, LifecycleError) as error:
        pending.discard_since(mark)
        lander.forget_unsaved()
        lander.known_refs.difference_update(
            plan_document.ref(parsed.document)
            for parsed in batch
            if parsed.document is not None
        )
        # By type only: a database error's text can quote the values it refused.
        logger.info("batch landing fell back to one by one: %s", type(error).__name__)
        return set()
    for parsed in batch:
        assert parsed.document is not None
        document = parsed.document
        key = (plan_document.ref(document), plan_document.version_number(document))
        lander.held[key] = (document, "live")
    return {id(parsed) for parsed in batch}


def _count_landed_new(parsed: ParsedDocument, report: ImportReport) -> None:
    assert parsed.document is not None
    report.problems.extend(parsed.problems)
    report.count(ADDED)
    report.outcomes.append(
        DocumentOutcome(
            parsed.position,
            plan_document.ref(parsed.document),
            plan_document.version_number(parsed.document),
            ADDED,
            "live",
        )
    )


def _land_one(
    session: Session,
    lander: _Lander,
    parsed: ParsedDocument,
    report: ImportReport,
    pending: PendingLiveChanges,
) -> None:
    report.problems.extend(parsed.problems)
    if not parsed.valid or parsed.document is None:
        report.count(INVALID)
        report.outcomes.append(
            DocumentOutcome(parsed.position, _ref_of(parsed), None, INVALID)
        )
        return
    document = parsed.document
    ref = plan_document.ref(document)
    number = plan_document.version_number(document)
    held = lander.already_held(document, parsed.position)
    if held is not None:
        # Nothing to write, so no savepoint either: re-imports stay cheap.
        outcome, message, problems = held
        report.count(outcome)
        report.problems.extend(problems)
        report.outcomes.append(
            DocumentOutcome(parsed.position, ref, number, outcome, message)
        )
        return
    mark = pending.mark()
    try:
        with session.begin_nested():
            outcome, message, problems = lander.land(document, parsed.position)
    except _Refused as refusal:
        pending.discard_since(mark)
        lander.forget_unsaved()
        report.count(REFUSED)
        report.problems.append(
            ImportProblem(parsed.position, refusal.pointer, refusal.message)
        )
        report.outcomes.append(
            DocumentOutcome(parsed.position, ref, number, REFUSED, refusal.message)
        )
        return
    except (SQLAlchemyError, LifecycleError, PublishedVersionImmutable) as error:
        # The savepoint is gone, and with it anything created inside it.
        pending.discard_since(mark)
        lander.forget_unsaved()
        # By type and position only: the error's text can quote plan values
        # (a home address in a refused INSERT), and logs never carry plan text.
        logger.warning(
            "import refused at position %s: %s", parsed.position, type(error).__name__
        )
        # Our own lifecycle errors are words without plan values; a database
        # error's text is not, so the importer gets its type.
        why = (
            type(error).__name__
            if isinstance(error, SQLAlchemyError)
            else _first_line(error)
        )
        message = f"could not land {ref} version {number}: {why}"
        report.count(REFUSED)
        report.problems.append(ImportProblem(parsed.position, "", message, ERROR))
        report.outcomes.append(
            DocumentOutcome(parsed.position, ref, number, REFUSED, message)
        )
        return
    lander.held[(ref, number)] = (document, "draft" if outcome == DRAFTED else message)
    report.count(outcome)
    report.problems.extend(problems)
    report.outcomes.append(
        DocumentOutcome(parsed.position, ref, number, outcome, message)
    )


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _ref_of(parsed: ParsedDocument) -> str | None:
    document = parsed.document
    if isinstance(document, dict):
        person = document.get("person")
        if isinstance(person, dict) and isinstance(person.get("ref"), str):
            return str(person["ref"])
    return None


def _audit(
    session: Session,
    report: ImportReport,
    *,
    actor: User | str | None,
    source: str,
    channel: Channel,
) -> None:
    detail: dict[str, Any] = {
        "added": report.added,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "refused": report.refused + report.invalid,
        "drafted": report.drafted,
        "count": report.total,
        "source": source[:200],
    }
    if isinstance(actor, User):
        audit.record_for(
            session, actor, action="import", channel=channel, detail=detail
        )
    else:
        audit.record(
            session, action="import", channel=channel, actor=actor, detail=detail
        )


def ensure_teams(session: Session, teams: Iterable[dict[str, Any]]) -> int:
    """Create the teams (response-plan/1 `team` objects) that do not exist yet.

    Return how many were created.
    """
    created = 0
    for fields in teams:
        exists = session.scalar(select(Team.id).where(Team.code == fields["code"]))
        if exists is None:
            session.add(
                Team(
                    code=fields["code"],
                    name=fields["name"],
                    phone=fields.get("phone"),
                    email=fields.get("email"),
                    hours=fields.get("hours"),
                )
            )
            created += 1
    session.flush()
    return created
