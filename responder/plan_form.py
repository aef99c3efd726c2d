"""The plan form: every field of response-plan/2, read from a post and shown again.

Pure Python over the plan document: no Flask and no werkzeug, so it is tested with
plain asserts (tests/web/test_plan_form.py). `read_form` takes anything with
`getlist(name)` (a werkzeug `MultiDict`, as Flask's `request.form` is) or a plain
mapping of names to lists of values. The mentors' views (`responder.mentor`) parse
with it, call `plans.drafts`, commit and respond.

Repeating groups ("add another behaviour") are added and removed by the server
(`change_rows`), so the form works without JavaScript.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from plans import drafts, plan_view, snomed
from plans.exchange import reading
from plans.models import RESPONDER_KINDS, ROLE_LABELS, SHARING_BASES
from plans.publish_rules import AGREEMENT_CHANNELS


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


def read_value(field: Field, raw: str | None) -> Any:
    """Return one posted value as the document holds it; FormProblem names the field."""
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


class PostedForm(Protocol):
    """A posted form: every value sent under a name (werkzeug's `MultiDict` is one)."""

    def getlist(self, key: str) -> list[str]:
        """Return every value sent under `key`, in order (none: an empty list)."""
        ...


FormData = PostedForm | Mapping[str, Sequence[str]]


def _values(form: FormData, name: str) -> list[str]:
    """Return every value posted under `name`."""
    getlist = getattr(form, "getlist", None)
    if getlist is not None:
        return list(getlist(name))
    assert isinstance(form, Mapping)
    sent = form.get(name)
    if sent is None:
        return []
    return [sent] if isinstance(sent, str) else list(sent)


def read_form(form: FormData, base: Mapping[str, Any]) -> FormState:
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
            sent = _values(form, field_name((*fieldset.path, "count")))
            try:
                count = min(int(sent[0]) if sent else 0, fieldset.max_items)
            except ValueError:
                count = 0
            rows: list[dict[str, Any]] = []
            for index in range(max(count, 0)):
                row: dict[str, Any] = {}
                for field in fieldset.fields:
                    values = _values(
                        form, field_name((*fieldset.path, index, field.key))
                    )
                    if len(values) > 1:
                        problems.append(
                            f"{fieldset.item.capitalize()} {index + 1}: "
                            f"{field.label}: sent twice; reload the form"
                        )
                        continue
                    raw = values[0] if values else None
                    try:
                        row[field.key] = read_value(field, raw)
                    except FormProblem as problem:
                        problems.append(
                            f"{fieldset.item.capitalize()} {index + 1}: {problem}"
                        )
                        row[field.key] = raw
                rows.append(row)
            _put(document, fieldset.path[:-1], fieldset.path[-1], rows)
            continue
        for field in fieldset.fields:
            values = _values(form, field_name((*fieldset.path, field.key)))
            if len(values) > 1:
                # Like a duplicate JSON key: which value was meant is unknowable.
                problems.append(f"{field.label}: sent twice; reload the form")
                continue
            raw = values[0] if values else None
            try:
                value = read_value(field, raw)
            except FormProblem as problem:
                problems.append(str(problem))
                value = raw
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
