"""Blueprint `mentor`: the mentors' desk and the lead clinician's approvals.

Mentors (and lead clinicians) of a team see that team's people and plans, draft
and edit plans with every field of response-plan/2, preview them exactly as a
responder reads them, compare them with the live version and submit them. A lead
clinician of the team acknowledges each flagged phrase with a reason and
publishes. Team scope is checked on every object: another team's plans are 404.

The form works without JavaScript: repeating groups ("add another behaviour")
are added and removed by the server, and nothing is saved until "Save draft".
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from plans import (
    access,
    agreement,
    clock,
    drafts,
    oversight,
    people,
    plan_view,
    snomed,
)
from plans.exchange import reading
from plans.models import (
    RESPONDER_KINDS,
    ROLE_LABELS,
    SHARING_BASES,
    Person,
    PlanVersion,
    Team,
    User,
)
from plans.publish_rules import (
    AGREEMENT_CHANNELS,
    MIN_REVIEW_LENGTH,
    PublishRules,
)
from plans.publish_rules import (
    CAPACITY_ACKNOWLEDGEMENT_KEY as CAPACITY_KEY,
)
from plans.versions import live_version
from responder.access import MENTORS, PLAN_STAFF, roles_required
from responder.db import get_session
from responder.rows import draft_or_404, person_or_404

logger = logging.getLogger(__name__)

bp = Blueprint("mentor", __name__, url_prefix="/mentor")


@bp.context_processor
def desk_helpers() -> dict[str, Any]:
    """Give desk templates field names in words for JSON pointers."""
    return {"describe": drafts.describe_pointer}


def today() -> dt.date:
    """Return today's date in the UK, where plans are reviewed."""
    return clock.today()


def rules() -> PublishRules:
    """Return the publish rules as this deployment configures them."""
    return PublishRules.from_config(current_app.config)


def desk_user() -> User:
    """Return the signed-in user as the domain object."""
    user: User = current_user._get_current_object()
    return user


# --- the form ------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One input of the plan form: its key, label, kind and (for selects) choices."""

    key: str
    label: str
    kind: str = "text"  # text, textarea, date, number, int, tel, checkbox, select,
    # yesno (True/False/unknown), lines (a list of strings, one a line)
    hint: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    maxlength: int | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Fieldset:
    """A group of fields at `path` in the document, repeating if `repeats`."""

    legend: str
    path: tuple[str, ...]
    fields: tuple[Field, ...]
    repeats: bool = False
    item: str = ""  # what one row is called, for "Add another ..."
    max_items: int = 0
    hint: str = ""


SEX_CHOICES = (
    ("", "Not recorded"),
    ("female", "Female"),
    ("male", "Male"),
    ("other", "Other"),
    ("unknown", "Unknown"),
)
LEVEL_CHOICES = (
    ("", "Not set"),
    ("low", "Low"),
    ("medium", "Medium"),
    ("high", "High"),
)
SCORE_CHOICES = (("", "Not set"),) + tuple((str(n), str(n)) for n in range(1, 6))
BASIS_CHOICES = (("", "Choose the lawful basis"),) + tuple(
    (basis, plan_view.SHARING_BASIS_LABELS.get(basis, basis)) for basis in SHARING_BASES
)
AGREEMENT_CHOICES = (("", "Not recorded"),) + tuple(
    (key, label.capitalize()) for key, label in AGREEMENT_CHANNELS.items()
)
DEPENDANT_CHOICES = (
    ("", "Not set"),
    ("child", "Child"),
    ("adult_cared_for", "Adult the person cares for"),
    ("pet", "Pet"),
    ("other", "Other"),
)
BEHAVIOUR_CODE_CHOICES = (
    ("", "None"),
    *((code, f"{name} ({code})") for code, name in snomed.BEHAVIOUR_CODES.items()),
)
MHA_CHOICES = (
    ("", "Not recorded"),
    ("none", "Not detained or on leave"),
    ("informal", "Informal patient"),
    ("section_2", "Section 2"),
    ("section_3", "Section 3"),
    ("section_37", "Section 37"),
    ("section_17_leave", "Section 17 leave"),
    ("community_treatment_order", "Community treatment order"),
    ("conditional_discharge", "Conditional discharge"),
    ("guardianship", "Guardianship"),
    ("other", "Other"),
)
CAPACITY_OUTCOME_CHOICES = (
    ("", "Not recorded"),
    ("has_capacity", "Has capacity for this decision"),
    ("lacks_capacity", "Lacks capacity for this decision"),
)
RECORDED_YES_NO = (("", "Not recorded"), ("yes", "Yes"), ("no", "No"))
MONTH_CHOICES = (("", "Not set"),) + tuple((str(n), str(n)) for n in range(1, 25))
MENTOR_ROLE_CHOICES = (
    ("", "Not set"),
    ("clinician", "Clinician"),
    ("police", "Police"),
    ("other", "Other"),
)

PLACE_FIELDS = (
    Field("name", "Name of the place", maxlength=300),
    Field("address", "Address", maxlength=500),
    Field("postcode", "Postcode", maxlength=10),
    Field("lat", "Latitude", "number", hint="e.g. 50.9077", minimum=-90, maximum=90),
    Field("lon", "Longitude", "number", hint="e.g. -1.4136", minimum=-180, maximum=180),
    Field("notes", "Notes", "textarea", maxlength=1000),
)

FIELDSETS: tuple[Fieldset, ...] = (
    Fieldset(
        "The person",
        ("person",),
        (
            Field("given_name", "Given name", maxlength=100),
            Field("family_name", "Family name", maxlength=100),
            Field("preferred_name", "Preferred name", maxlength=100),
            Field(
                "nhs_number",
                "NHS number",
                hint="Optional: 10 digits, such as 943 476 5919",
                maxlength=14,
            ),
            Field("aliases", "Other names", "lines", hint="One a line", maxlength=4000),
            Field("date_of_birth", "Date of birth", "date"),
            Field("sex", "Sex", "select", choices=SEX_CHOICES),
            Field(
                "description",
                "Description",
                "textarea",
                hint="What a responder at scene would recognise",
                maxlength=2000,
            ),
        ),
    ),
    Fieldset("Home address", ("person", "address"), PLACE_FIELDS),
    Fieldset(
        "Summary",
        ("plan",),
        (
            Field(
                "summary",
                "Summary",
                "textarea",
                hint="The first thing a responder reads: who this is and the most "
                "important advice. Plans advise; they never withhold care.",
                maxlength=2000,
            ),
        ),
    ),
    Fieldset(
        "Risk",
        ("plan", "risk"),
        (
            Field("likelihood", "Likelihood (1 to 5)", "int", choices=SCORE_CHOICES),
            Field("impact", "Impact (1 to 5)", "int", choices=SCORE_CHOICES),
            Field("level", "Level", "select", choices=LEVEL_CHOICES),
        ),
    ),
    Fieldset(
        "Advice for each service",
        ("plan", "advice_for"),
        tuple(
            Field(kind, f"Advice for {ROLE_LABELS[kind]}", "textarea", maxlength=4000)
            for kind in RESPONDER_KINDS
        ),
    ),
    Fieldset(
        "Please do, please don't",
        ("plan",),
        (
            Field(
                "please_do",
                "Please do",
                "lines",
                hint="In the person's words, one a line",
                maxlength=6000,
            ),
            Field(
                "please_dont",
                "Please don't",
                "lines",
                hint="In the person's words, one a line",
                maxlength=6000,
            ),
            Field(
                "communication",
                "How to communicate with me",
                "textarea",
                hint="Language, interpreter, pace, what to avoid saying",
                maxlength=2000,
            ),
            Field(
                "reasonable_adjustments",
                "Reasonable adjustments",
                "textarea",
                maxlength=2000,
            ),
        ),
    ),
    Fieldset(
        "Early warning signs",
        ("plan",),
        (
            Field(
                "early_warning_signs",
                "Early warning signs",
                "lines",
                hint="Signs that a crisis is building, one a line",
                maxlength=8000,
            ),
        ),
    ),
    Fieldset(
        "Behaviours",
        ("plan", "behaviours"),
        (
            Field("description", "What the person does", "textarea", maxlength=1000),
            Field(
                "code",
                "SNOMED CT code",
                "select",
                choices=BEHAVIOUR_CODE_CHOICES,
                hint="Optional: lets other systems match it; the words stay the plan",
            ),
            Field("triggers", "Triggers", "textarea", maxlength=1000),
            Field("advice", "What helps", "textarea", maxlength=2000),
        ),
        repeats=True,
        item="behaviour",
        max_items=50,
    ),
    Fieldset(
        "Boundaries",
        ("plan", "boundaries"),
        (
            Field("boundary", "Boundary", "textarea", maxlength=1000),
            Field("if_breached", "If it is breached", "textarea", maxlength=2000),
        ),
        repeats=True,
        item="boundary",
        max_items=50,
    ),
    Fieldset(
        "Crisis locations",
        ("plan", "crisis_locations"),
        PLACE_FIELDS,
        repeats=True,
        item="crisis location",
        max_items=50,
    ),
    Fieldset(
        "Places of safety",
        ("plan", "places_of_safety"),
        PLACE_FIELDS,
        repeats=True,
        item="place of safety",
        max_items=20,
    ),
    Fieldset(
        "Nominated people",
        ("plan", "nominated_people"),
        (
            Field("name", "Name", maxlength=200),
            Field("relationship", "Relationship", maxlength=100),
            Field("phone", "Phone", "tel", maxlength=40),
            Field(
                "consent_recorded",
                "The person consented to this contact being involved",
                "checkbox",
            ),
        ),
        repeats=True,
        item="nominated person",
        max_items=20,
    ),
    Fieldset(
        "Dependants",
        ("plan", "dependants"),
        (
            Field("who", "Who", maxlength=200, hint="e.g. son, 8; dog"),
            Field("kind", "Kind", "select", choices=DEPENDANT_CHOICES),
            Field(
                "action",
                "What to do for them",
                "textarea",
                hint="If the person is taken to hospital or custody",
                maxlength=2000,
            ),
        ),
        repeats=True,
        item="dependant",
        max_items=20,
    ),
    Fieldset(
        "Mental Health Act",
        ("plan", "mental_health_act"),
        (
            Field("status", "Status", "select", choices=MHA_CHOICES),
            Field("recorded_on", "Recorded on", "date"),
            Field("notes", "Notes", "textarea", maxlength=1000),
        ),
    ),
    Fieldset(
        "Mentors",
        ("plan", "mentors"),
        (
            Field("name", "Name", maxlength=200),
            Field("role", "Role", "select", choices=MENTOR_ROLE_CHOICES),
            Field("phone", "Phone", "tel", maxlength=40),
        ),
        repeats=True,
        item="mentor",
        max_items=10,
    ),
    Fieldset(
        "Diagnosis",
        ("plan", "diagnosis"),
        (
            Field("name", "Diagnosis", maxlength=300),
            Field("plain_explanation", "In plain words", "textarea", maxlength=2000),
        ),
    ),
    Fieldset(
        "Mental capacity",
        ("plan", "capacity"),
        (
            Field("assessed_on", "Last assessed on", "date"),
            Field("communicate", "Can communicate a decision", "yesno"),
            Field("understand", "Can understand information", "yesno"),
            Field("retain", "Can retain information", "yesno"),
            Field("employ", "Can use or weigh information", "yesno"),
            Field("notes", "Notes", "textarea", maxlength=2000),
        ),
    ),
    Fieldset(
        "Capacity for named decisions",
        ("plan", "capacity_decisions"),
        (
            Field("decision", "Decision", maxlength=500),
            Field("outcome", "Outcome", "select", choices=CAPACITY_OUTCOME_CHOICES),
            Field("assessor", "Assessed by", maxlength=200),
            Field("assessed_on", "Assessed on", "date"),
            Field(
                "best_interests",
                "Best-interests decision",
                "textarea",
                maxlength=2000,
            ),
        ),
        repeats=True,
        item="decision",
        max_items=20,
    ),
    Fieldset(
        "Lasting Power of Attorney and advance decisions",
        ("plan", "legal"),
        (
            Field(
                "lpa_health_welfare",
                "A Lasting Power of Attorney for health and welfare is registered",
                "yesno",
                choices=RECORDED_YES_NO,
            ),
            Field(
                "adrt",
                "An Advance Decision to Refuse Treatment exists",
                "yesno",
                choices=RECORDED_YES_NO,
            ),
            Field("notes", "Where they are, whom to ask", "textarea", maxlength=1000),
        ),
    ),
    Fieldset(
        "GP practice",
        ("plan", "gp_practice"),
        (
            Field("name", "Practice", maxlength=300),
            Field("ods_code", "ODS code", hint="e.g. J82001", maxlength=10),
            Field("phone", "Phone", "tel", maxlength=40),
        ),
    ),
    Fieldset(
        "Coping strategies",
        ("plan",),
        (
            Field(
                "coping_strategies",
                "What helps me cope",
                "lines",
                hint="One a line",
                maxlength=8000,
            ),
        ),
    ),
    Fieldset(
        "Who supported me to write it",
        ("plan", "supported_by"),
        (
            Field("name", "Name", maxlength=200),
            Field("role", "Role or relationship", maxlength=100),
        ),
        repeats=True,
        item="supporter",
        max_items=10,
    ),
    Fieldset(
        "Co-production",
        ("plan", "coproduction"),
        (
            Field(
                "agreed_with_person", "The plan was agreed with the person", "checkbox"
            ),
            Field("agreed_on", "Agreed on", "date"),
            Field(
                "channel",
                "How the person agreed this version",
                "select",
                choices=AGREEMENT_CHOICES,
            ),
            Field(
                "person_statement",
                "The person's statement",
                "textarea",
                hint="What the person wants responders to know, in their own words",
                maxlength=4000,
            ),
        ),
        hint="Required before the plan can be published, for every version: the "
        "person agrees to these words, not to an earlier version's.",
    ),
    Fieldset(
        "Sharing and review",
        ("plan",),
        (
            Field(
                "sharing_basis",
                "Lawful basis for sharing",
                "select",
                choices=BASIS_CHOICES,
            ),
            Field("review_by", "Review by", "date"),
        ),
        hint="Required before the plan can be published.",
    ),
    Fieldset(
        "Review",
        ("plan", "review"),
        (
            Field("responsible", "Responsible for review", maxlength=200),
            Field(
                "interval_months",
                "Review every (months)",
                "int",
                choices=MONTH_CHOICES,
            ),
        ),
        hint="Who reviews the plan and how often; the review date above still "
        "decides when responders see it as overdue.",
    ),
)


def field_name(path: tuple[str | int, ...]) -> str:
    """Return the form name of a document path, e.g. plan.behaviours.0.advice."""
    return ".".join(str(step) for step in path)


def value_at(document: Mapping[str, Any], path: tuple[str | int, ...]) -> Any:
    """Return the value at a path of the document, or None."""
    node: Any = document
    for step in path:
        if isinstance(node, Mapping):
            node = node.get(str(step))
        elif isinstance(node, list) and isinstance(step, int) and step < len(node):
            node = node[step]
        else:
            return None
    return node


def shown(field: Field, value: Any) -> str:
    """Return a value as the form shows it."""
    if value is None:
        return ""
    if field.kind == "lines" and isinstance(value, list):
        return "\n".join(str(item) for item in value)
    if field.kind == "yesno":
        return {True: "yes", False: "no"}.get(value, "")
    if isinstance(value, bool):
        return "on" if value else ""
    return str(value)


class FormProblem(ValueError):
    """A value the form cannot read, in words."""


def _read(field: Field, raw: str | None) -> Any:
    raw = (raw or "").strip()
    if field.kind == "checkbox":
        return True if raw else None
    if not raw:
        return None
    if field.maxlength and len(raw) > field.maxlength:
        raise FormProblem(f"{field.label}: at most {field.maxlength} characters")
    if field.kind == "date":
        try:
            return dt.date.fromisoformat(raw).isoformat()
        except ValueError:
            raise FormProblem(f"{field.label}: write a date as YYYY-MM-DD") from None
    if field.kind == "number":
        # float() reads "nan", "inf" and "1e999" too; none of them is a place.
        try:
            number = float(raw) if len(raw) <= 40 else math.nan
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise FormProblem(f"{field.label}: write a number")
        if (field.minimum is not None and number < field.minimum) or (
            field.maximum is not None and number > field.maximum
        ):
            raise FormProblem(
                f"{field.label}: write a number from {field.minimum:g} "
                f"to {field.maximum:g}"
            )
        return number
    if field.kind == "int":
        numbers = [key for key, _ in field.choices if key]
        if raw not in numbers:
            raise FormProblem(f"{field.label}: choose {numbers[0]} to {numbers[-1]}")
        return int(raw)
    if field.kind == "yesno":
        return {"yes": True, "no": False}.get(raw)
    bad = reading.bad_character(raw)
    if bad:
        raise FormProblem(f"{field.label}: {bad}; retype it")
    if field.kind == "lines":
        return [line.strip() for line in raw.splitlines() if line.strip()]
    if field.kind == "select" and raw not in {key for key, _ in field.choices}:
        raise FormProblem(f"{field.label}: choose one of the options")
    return raw.replace("\r\n", "\n")


def _put(document: dict[str, Any], path: tuple[str, ...], key: str, value: Any) -> None:
    node = document
    for step in path:
        node = node.setdefault(step, {})
    node[key] = value


def _prune(value: Any) -> Any:
    """Drop empty strings, empty objects and blank rows, recursively."""
    if isinstance(value, dict):
        pruned = {key: _prune(item) for key, item in value.items()}
        return {key: item for key, item in pruned.items() if not _blank(item)}
    if isinstance(value, list):
        pruned_items = [_prune(item) for item in value]
        return [item for item in pruned_items if not _blank(item)]
    return value


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


@dataclass
class FormState:
    """A plan form as posted: the document (blank rows kept) and its problems."""

    document: dict[str, Any]
    problems: list[str]

    @property
    def clean(self) -> dict[str, Any]:
        """Return the document with blank rows and empty fields removed."""
        pruned: dict[str, Any] = _prune(self.document)
        pruned.setdefault("plan", {}).setdefault("summary", "")
        # Aliases are always a list, even when empty, as exports write them.
        pruned.setdefault("person", {}).setdefault("aliases", [])
        return pruned


def read_form(form: MultiDict[str, str], base: Mapping[str, Any]) -> FormState:
    """Read the plan form into a document on top of `base` (format, team, ref)."""
    document: dict[str, Any] = {
        "format": drafts.FORMAT,
        "team": dict(base.get("team") or {}),
        "person": {"ref": value_at(base, ("person", "ref")) or ""},
        "plan": {},
    }
    problems: list[str] = []
    for fieldset in FIELDSETS:
        if fieldset.repeats:
            try:
                count = min(
                    int(form.get(field_name((*fieldset.path, "count")), "0")),
                    fieldset.max_items,
                )
            except ValueError:
                count = 0
            rows: list[dict[str, Any]] = []
            for index in range(max(count, 0)):
                row: dict[str, Any] = {}
                for field in fieldset.fields:
                    name = field_name((*fieldset.path, index, field.key))
                    if len(form.getlist(name)) > 1:
                        problems.append(
                            f"{fieldset.item.capitalize()} {index + 1}: "
                            f"{field.label}: sent twice; reload the form"
                        )
                        continue
                    try:
                        row[field.key] = _read(field, form.get(name))
                    except FormProblem as problem:
                        problems.append(
                            f"{fieldset.item.capitalize()} {index + 1}: {problem}"
                        )
                        row[field.key] = form.get(name)
                rows.append(row)
            _put(document, fieldset.path[:-1], fieldset.path[-1], rows)
            continue
        for field in fieldset.fields:
            name = field_name((*fieldset.path, field.key))
            if len(form.getlist(name)) > 1:
                # Like a duplicate JSON key: which value was meant is unknowable.
                problems.append(f"{field.label}: sent twice; reload the form")
                continue
            try:
                value = _read(field, form.get(name))
            except FormProblem as problem:
                problems.append(str(problem))
                value = form.get(name)
            _put(document, fieldset.path, field.key, value)
    return FormState(document, problems)


def change_rows(state: FormState, action: str) -> str | None:
    """Add or remove a row for an "add:" or "remove:" button; say what changed."""
    verb, _, rest = action.partition(":")
    path_text, _, index_text = rest.partition(":")
    fieldset = next(
        (f for f in FIELDSETS if f.repeats and field_name(f.path) == path_text), None
    )
    if fieldset is None or verb not in ("add", "remove"):
        return None
    rows: list[dict[str, Any]] = value_at(state.document, fieldset.path) or []
    if verb == "add":
        if len(rows) >= fieldset.max_items:
            return f"A plan holds at most {fieldset.max_items} of these."
        rows.append({})
        _put(state.document, fieldset.path[:-1], fieldset.path[-1], rows)
        return f"Added another {fieldset.item}; it is not saved yet."
    try:
        index = int(index_text)
    except ValueError:
        return None
    if 0 <= index < len(rows):
        del rows[index]
        return f"Removed {fieldset.item} {index + 1}; this is not saved until you save."
    return None


def form_rows(document: Mapping[str, Any], fieldset: Fieldset) -> list[Any]:
    """Return the rows a repeating fieldset shows (one blank row when empty)."""
    rows = value_at(document, fieldset.path) or []
    return list(rows) or [{}]


FORM_HELPERS: dict[str, Any] = {
    "field_name": field_name,
    "value_at": value_at,
    "shown": shown,
    "rows": form_rows,
}


# --- lookups -------------------------------------------------------------------


def user_teams() -> list[Team]:
    """Return the signed-in user's teams, by name."""
    return sorted(desk_user().teams, key=lambda team: team.name)


def preview_view(version: PlanVersion, role: str | None) -> plan_view.PlanView:
    """Return the plan exactly as a responder in `role` would read it."""
    return plan_view.build(version, role, today=today())


def render_form(
    template_context: dict[str, Any], *, status: int = 200
) -> ResponseReturnValue:
    """Render the plan form."""
    return (
        render_template(
            "mentor/edit.html", fieldsets=FIELDSETS, h=FORM_HELPERS, **template_context
        ),
        status,
    )


# --- views ---------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRow:
    """One line of the desk: a person and where their plan stands."""

    person: Person
    live: PlanVersion | None
    draft: PlanVersion | None
    review_overdue: bool


@bp.route("/")
@roles_required(*MENTORS)
def index() -> ResponseReturnValue:
    """Show the team's people, drafts in progress and drafts awaiting approval."""
    session = get_session()
    user = desk_user()
    team_ids = user.team_ids
    on_date = today()
    versions_by_person: dict[int, dict[str, PlanVersion]] = {}
    if team_ids:
        for version in session.scalars(
            select(PlanVersion)
            .join(Person, PlanVersion.person_id == Person.id)
            .where(
                Person.team_id.in_(team_ids),
                PlanVersion.status.in_(("live", "draft")),
            )
        ):
            versions_by_person.setdefault(version.person_id, {})[version.status] = (
                version
            )
    # Mentors open the desk every working day: a withdrawal past its deadline
    # reaches the privacy officer then, even if the person never looks.
    if people.alert_overdue_withdrawals(session, today=on_date):
        session.commit()
    rows = []
    for person in drafts.team_people(session, team_ids):
        found = versions_by_person.get(person.id, {})
        live = found.get("live")
        rows.append(
            PersonRow(
                person,
                live,
                found.get("draft"),
                bool(live and live.review_overdue(on_date)),
            )
        )
    return render_template(
        "mentor/desk.html",
        rows=rows,
        awaiting=drafts.team_drafts(session, team_ids, submitted=True),
        reminders=drafts.review_reminders(
            session, team_ids, today=on_date, rules=rules()
        ),
        in_progress=drafts.team_drafts(session, team_ids, submitted=False),
        is_lead=user.role == "lead_clinician",
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MENTORS)
def new() -> ResponseReturnValue:
    """Start a plan for someone new: the whole form, saved as a draft."""
    teams = user_teams()
    if not teams:
        abort(403)
    context: dict[str, Any] = {
        "teams": teams,
        "version": None,
        "person": None,
        "edit_count": None,
        "conflict": None,
        "notice": None,
    }
    if request.method == "GET":
        blank: dict[str, dict[str, object]] = {"person": {}, "plan": {}}
        return render_form({**context, "document": blank, "problems": []})
    team_id = request.form.get("team_id", type=int)
    team = next((t for t in teams if t.id == team_id), None)
    state = read_form(request.form, {})
    action = request.form.get("action", "save")
    if action != "save":
        notice = change_rows(state, action)
        return render_form(
            {
                **context,
                "document": state.document,
                "problems": [],
                "notice": notice,
                "team_id": team_id,
            }
        )
    problems = list(state.problems)
    if team is None:
        problems.append("Team: choose the team that will own this plan")
    if not problems:
        session = get_session()
        try:
            version = drafts.create_draft(
                session, state.clean, author=desk_user(), team=team
            )
        except drafts.DraftError as error:
            session.rollback()
            problems.append(str(error))
        else:
            session.commit()
            flash("Draft saved. Nothing is shown to responders until it is published.")
            return redirect(url_for("mentor.draft", version_id=version.id), code=303)
    return render_form(
        {
            **context,
            "document": state.document,
            "problems": problems,
            "team_id": team_id,
        },
        status=422,
    )


@bp.route("/people/<int:person_id>")
@roles_required(*MENTORS)
def person(person_id: int) -> ResponseReturnValue:
    """Show a person's plan: the live version, its history, drafts and retiring."""
    session = get_session()
    who = person_or_404(person_id)
    live = live_version(session, who)
    if live is not None:
        oversight.read_plan_as_staff(session, desk_user(), live)
    page = render_template(
        "mentor/person.html",
        person=who,
        live=live,
        draft=drafts.open_draft(session, who),
        versions=list(reversed(who.versions)),
        view=preview_view(live, None) if live else None,
        reasons=drafts.RETIRE_REASONS,
        review_overdue=bool(live and live.review_overdue(today())),
    )
    session.commit()
    return page


@bp.route("/people/<int:person_id>/drafts", methods=["POST"])
@roles_required(*MENTORS)
def start_draft(person_id: int) -> ResponseReturnValue:
    """Start a new draft from the person's live version."""
    session = get_session()
    who = person_or_404(person_id)
    try:
        version = drafts.start_from_live(session, who, author=desk_user())
    except drafts.DraftError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("mentor.person", person_id=who.id), code=303)
    session.commit()
    return redirect(url_for("mentor.edit", version_id=version.id), code=303)


@bp.route("/drafts/<int:version_id>")
@roles_required(*MENTORS)
def draft(version_id: int) -> ResponseReturnValue:
    """Show a draft: what stops publishing, flagged words, changes and a preview."""
    session = get_session()
    version = draft_or_404(version_id)
    role = request.args.get("role")
    if role not in RESPONDER_KINDS:
        role = None
    seen = drafts.review(session, version, today=today(), rules=rules())
    oversight.read_plan_as_staff(session, desk_user(), version)
    page = render_template(
        "mentor/draft.html",
        version=version,
        person=version.person,
        review=seen,
        responses=agreement.responses_for(session, version),
        view=preview_view(version, role),
        role=role,
        roles=[(kind, ROLE_LABELS[kind]) for kind in RESPONDER_KINDS],
        is_lead=desk_user().role == "lead_clinician",
    )
    session.commit()
    return page


@bp.route("/drafts/<int:version_id>/edit", methods=["GET", "POST"])
@roles_required(*MENTORS)
def edit(version_id: int) -> ResponseReturnValue:
    """Edit a draft; a save that started from an older copy is refused and compared."""
    session = get_session()
    version = draft_or_404(version_id)
    context: dict[str, Any] = {
        "version": version,
        "person": version.person,
        "teams": None,
        "conflict": None,
        "notice": None,
        "problems": [],
    }
    if request.method == "GET":
        return render_form(
            {**context, "document": version.document, "edit_count": version.edit_count}
        )
    based_on = request.form.get("edit_count", type=int)
    state = read_form(request.form, version.document)
    action = request.form.get("action", "save")
    if action != "save":
        notice = change_rows(state, action)
        return render_form(
            {
                **context,
                "document": state.document,
                "edit_count": based_on,
                "notice": notice,
            }
        )
    if state.problems or based_on is None:
        return render_form(
            {
                **context,
                "document": state.document,
                "edit_count": based_on,
                "problems": state.problems or ["The form is incomplete: reload it"],
            },
            status=422,
        )
    mine = state.clean
    try:
        drafts.edit_draft(session, version, mine, editor=desk_user(), based_on=based_on)
        session.commit()
    except drafts.EditConflict as conflict:
        session.rollback()
        version = draft_or_404(version_id)
        changes = conflict.changes or drafts.diff_documents(
            version.document,
            drafts.as_draft_of(version, mine),
        )
        return render_form(
            {
                **context,
                "version": version,
                "document": state.document,
                # Saving again now is a deliberate choice made with the
                # differences in view.
                "edit_count": version.edit_count,
                "conflict": {"message": str(conflict), "changes": changes},
            },
            status=409,
        )
    except drafts.DraftError as error:
        session.rollback()
        return render_form(
            {
                **context,
                "document": state.document,
                "edit_count": based_on,
                "problems": [str(error)],
            },
            status=422,
        )
    flash("Draft saved.")
    return redirect(url_for("mentor.draft", version_id=version.id), code=303)


@bp.route("/drafts/<int:version_id>/submit", methods=["POST"])
@roles_required(*MENTORS)
def submit(version_id: int) -> ResponseReturnValue:
    """Submit a draft to the team's lead clinician."""
    session = get_session()
    version = draft_or_404(version_id)
    try:
        drafts.submit(
            session, version, mentor=desk_user(), today=today(), rules=rules()
        )
    except drafts.DraftError as error:
        session.rollback()
        for problem in getattr(error, "problems", None) or [str(error)]:
            flash(problem, "error")
        return redirect(url_for("mentor.draft", version_id=version_id), code=303)
    session.commit()
    flash("Submitted to the lead clinician for approval.")
    return redirect(url_for("mentor.draft", version_id=version_id), code=303)


@bp.route("/drafts/<int:version_id>/approve", methods=["GET", "POST"])
@roles_required("lead_clinician")
def approve(version_id: int) -> ResponseReturnValue:
    """Review a submitted draft, acknowledge flagged words, and publish it."""
    session = get_session()
    version = draft_or_404(version_id)
    seen = drafts.review(session, version, today=today(), rules=rules())
    refused: list[str] = []
    reasons: dict[str, str] = {}
    if request.method == "POST":
        reasons = {
            finding.key: request.form.get(f"ack-{index}", "")
            for index, finding in enumerate(seen.to_acknowledge)
        }
        if seen.capacity_review_needed:
            reasons[CAPACITY_KEY] = request.form.get("ack-capacity", "")
        try:
            drafts.publish(
                session,
                version,
                approver=desk_user(),
                acknowledgements=reasons,
                today=today(),
                rules=rules(),
            )
        except drafts.DraftError as error:
            session.rollback()
            refused = getattr(error, "problems", None) or [str(error)]
            version = draft_or_404(version_id)
        else:
            session.commit()
            flash(f"Version {version.version} is live; the one before is superseded.")
            return redirect(
                url_for("mentor.person", person_id=version.person_id), code=303
            )
    return (
        render_template(
            "mentor/approve.html",
            version=version,
            person=version.person,
            review=seen,
            refused=refused,
            reasons=reasons,
            min_reason=drafts.MIN_ACKNOWLEDGEMENT_LENGTH,
            min_review=MIN_REVIEW_LENGTH,
            agreement_channels=AGREEMENT_CHANNELS,
            capacity_key=CAPACITY_KEY,
            view=preview_view(version, None),
        ),
        422 if refused else 200,
    )


@bp.route("/drafts/<int:version_id>/return", methods=["POST"])
@roles_required("lead_clinician")
def return_draft(version_id: int) -> ResponseReturnValue:
    """Send a submitted draft back to the mentors."""
    session = get_session()
    version = draft_or_404(version_id)
    try:
        drafts.return_to_mentor(session, version, approver=desk_user())
    except drafts.DraftError as error:
        session.rollback()
        flash(str(error), "error")
    else:
        session.commit()
        flash("Returned to the mentors.")
    return redirect(url_for("mentor.draft", version_id=version_id), code=303)


@bp.route("/drafts/<int:version_id>/discard", methods=["POST"])
@roles_required(*MENTORS)
def discard(version_id: int) -> ResponseReturnValue:
    """Discard a draft that never went live."""
    session = get_session()
    version = draft_or_404(version_id)
    person_id = version.person_id
    person_gone = drafts.discard_draft(session, version, by=desk_user())
    session.commit()
    flash("Draft discarded.")
    if person_gone:
        return redirect(url_for("mentor.index"), code=303)
    return redirect(url_for("mentor.person", person_id=person_id), code=303)


@bp.route("/people/<int:person_id>/retire", methods=["POST"])
@roles_required(*MENTORS)
def retire(person_id: int) -> ResponseReturnValue:
    """Retire the person's live plan; responders stop seeing it at once."""
    session = get_session()
    who = person_or_404(person_id)
    try:
        drafts.retire_plan(
            session,
            who,
            by=desk_user(),
            reason=request.form.get("reason", ""),
            person_told=request.form.get("person_told", ""),
        )
    except drafts.DraftError as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("mentor.person", person_id=who.id), code=303)
    session.commit()
    flash(
        "The plan is retired. Responders no longer see it and its cards stop working."
    )
    return redirect(url_for("mentor.person", person_id=who.id), code=303)


@bp.route("/people/<int:person_id>/access")
@roles_required(*PLAN_STAFF)
def access_log(person_id: int) -> ResponseReturnValue:
    """Show who opened this person's plan, when, and on what basis."""
    session = get_session()
    who = person_or_404(person_id)
    return render_template(
        "mentor/access_log.html",
        person=who,
        grants=access.access_log(session, who),
        bases=access.BASES,
    )


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*MENTORS)
def import_documents() -> ResponseReturnValue:
    """Turn uploaded response-plan documents into drafts for the lead clinician."""
    if request.method == "GET":
        return render_template("mentor/import.html", outcomes=None, problems=[])
    upload = request.files.get("file")
    text = request.form.get("text", "")
    name = ""
    if upload is not None and upload.filename:
        name = upload.filename
        try:
            text = upload.read().decode("utf-8")
        except UnicodeDecodeError:
            return render_template(
                "mentor/import.html",
                outcomes=None,
                problems=["The file is not UTF-8 text."],
            ), 422
    if not text.strip():
        return render_template(
            "mentor/import.html",
            outcomes=None,
            problems=["Choose a file or paste a document."],
        ), 422
    parsed = reading.read_text(text, name=name)
    problems = [str(problem) for document in parsed for problem in document.problems]
    valid = [
        (document.position or "document", document.document)
        for document in parsed
        if document.valid and document.document is not None
    ]
    session = get_session()
    outcomes = drafts.draft_documents(
        session, valid, author=desk_user(), today=today(), rules=rules()
    )
    session.commit()
    refused = any(not document.valid for document in parsed)
    return render_template(
        "mentor/import.html", outcomes=outcomes, problems=problems
    ), (422 if refused else 200)
