"""Turn a plan version into what a responder reads, in the order they need it.

Pure: no session, no IO. The responder's plan page, the mentor desk's preview and
the person's own view all render the `PlanView` this module builds, so the three
can never drift apart. At scene the order matters: the summary, then advice for
the reader's own role, then boundaries, please do and please don't, how to
talk with them, behaviours and early warning signs, places of safety, the people
to call and the dependants who need care; the background (capacity and named
decisions, legal status, diagnosis, the person's own words and what helps them
cope) and the version's provenance (who supported it, who reviews it) follow.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from plans.document import (
    Agreement,
    Diagnosis,
    GpPractice,
    Legal,
    MentalHealthAct,
    Place,
    Plan,
    Review,
    read,
    read_place,
)
from plans.hours import NumberToCall, TeamContacts, number_open_now
from plans.models import RESPONDER_KINDS, ROLE_LABELS, PlanVersion
from plans.nhs_numbers import formatted

ADVICE_ONLY = "Advice only: always assess and treat"
SHARING_BASIS_LABELS: dict[str, str] = {
    "consent": "the person's consent",
    "vital_interests": "vital interests",
    "public_task": "public task",
}
MENTOR_ROLE_LABELS: dict[str, str] = {
    "police": "Police mentor",
    "clinician": "Clinical mentor",
    "other": "Mentor",
}
CAPACITY_ABILITIES: tuple[tuple[str, str], ...] = (
    ("communicate", "Communicate a decision"),
    ("understand", "Understand information"),
    ("retain", "Retain information"),
    ("employ", "Use or weigh information"),
)
RISK_LABELS: dict[str, str] = {"low": "Low", "medium": "Medium", "high": "High"}


class PlanNotShown(ValueError):
    """This version must not be shown (it was retired)."""


@dataclass(frozen=True)
class Link:
    """Something to tap: a phone number (tel:) or directions (geo: or maps)."""

    kind: str  # "tel" or "map"
    label: str
    href: str


@dataclass(frozen=True)
class Entry:
    """One item of a section: an optional heading, text, labelled details, links."""

    heading: str | None = None
    text: str | None = None
    details: tuple[tuple[str, str], ...] = ()
    links: tuple[Link, ...] = ()


@dataclass(frozen=True)
class Section:
    """A titled part of the plan; `key` is stable for templates and tests."""

    key: str
    title: str
    entries: tuple[Entry, ...]
    lead: bool = False  # shown prominently, before the rest


# The sections a responder jumps to from the first screen, in one tap.
JUMP_SECTIONS: tuple[str, ...] = ("places_of_safety", "nominated_people", "boundaries")


@dataclass(frozen=True)
class TeamLine:
    """One of the team's numbers with its hours, for the team section."""

    which: str  # "in_hours", "out_of_hours", "crisis_line"
    label: str
    phone: str
    href: str | None
    hours: str | None
    open_now: bool


@dataclass(frozen=True)
class PlanView:
    """Everything a plan page shows, ordered for a responder at scene."""

    ref: str
    name: str
    aliases: tuple[str, ...]
    age: int | None
    sex: str | None
    description: str | None
    home: str | None
    team_name: str
    team_phone: str | None
    team_hours: str | None
    role: str | None
    role_label: str | None
    status: str
    version: int
    review_by: dt.date | None
    review_overdue: bool
    review_notice: str | None
    approved_by: str | None
    approved_on: dt.date | None
    risk: str | None
    sections: tuple[Section, ...]
    advice_only: str = ADVICE_ONLY
    team_links: tuple[Link, ...] = field(default_factory=tuple)
    legal_name: str | None = None  # given and family name, when a preferred one differs
    preferred_name: str | None = None
    date_of_birth: dt.date | None = None
    nhs_number: str | None = None
    call: NumberToCall | None = None  # the one line that answers now
    checked_at: dt.datetime | None = None  # when `call` was chosen, if it was
    team_lines: tuple[TeamLine, ...] = ()

    @property
    def identity_name(self) -> str:
        """Return the legal and the preferred name together: Kayleigh Jones (Kay)."""
        if self.legal_name and self.preferred_name:
            return f"{self.legal_name} (known as {self.preferred_name})"
        return self.name

    @property
    def date_of_birth_text(self) -> str:
        """Return the date of birth the UK way, or an empty string."""
        return long_date(self.date_of_birth)

    @property
    def jumps(self) -> tuple[Section, ...]:
        """Return the sections the first screen links to, in that order."""
        found = (self.section(key) for key in JUMP_SECTIONS)
        return tuple(section for section in found if section is not None)

    def section(self, key: str) -> Section | None:
        """Return the section with this key, if the plan has one."""
        for section in self.sections:
            if section.key == key:
                return section
        return None

    @property
    def keys(self) -> tuple[str, ...]:
        """Return the keys of the sections, in reading order."""
        return tuple(section.key for section in self.sections)


def long_date(day: dt.date | None) -> str:
    """Return a date the way people in the UK write it: 1 June 2027."""
    if day is None:
        return ""
    return f"{day.day} {day.strftime('%B')} {day.year}"


def tel_href(phone: str) -> str | None:
    """Return a tel: link for a phone number, or None when it has no digits."""
    digits = re.sub(r"[^\d+]", "", phone)
    digits = digits[:1] + digits[1:].replace("+", "")
    if not re.search(r"\d{3,}", digits):
        return None
    return "tel:" + digits


def map_links(place: Place | Mapping[str, Any]) -> tuple[Link, ...]:
    """Return directions to a place: the phone's map app, then a web map.

    Only the coordinates (or the postcode) leave the phone, and only when tapped;
    the plan page itself requests nothing from a third party.
    """
    if not isinstance(place, Place):
        place = read_place(place)
    name = place.name or ""
    if place.point is not None:
        lat, lon = place.point
        where = f"{lat:.6f},{lon:.6f}"
        return (
            Link("map", f"Directions to {name}", f"geo:{where}?q={where}"),
            Link(
                "map",
                "Web map",
                f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}"
                f"#map=17/{lat:.6f}/{lon:.6f}",
            ),
        )
    postcode = (place.postcode or "").strip()
    if postcode:
        return (Link("map", f"Directions to {name}", "geo:0,0?q=" + quote(postcode)),)
    return ()


def _age(dob: dt.date | None, today: dt.date) -> int | None:
    if dob is None:
        return None
    return today.year - dob.year - ((today.month, today.day) < (dob.month, dob.day))


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _place_entry(place: Place, *, directions: bool = True) -> Entry:
    where = ", ".join(
        part for part in (_text(place.address), _text(place.postcode)) if part
    )
    notes = _text(place.notes)
    return Entry(
        heading=_text(place.name),
        text=where or None,
        details=(("Notes", str(place.notes)),) if notes else (),
        links=map_links(place) if directions else (),
    )


def _phone_links(phone: Any, label: str) -> tuple[Link, ...]:
    phone_text = _text(phone)
    if phone_text is None:
        return ()
    href = tel_href(phone_text)
    return (Link("tel", f"{label} {phone_text}", href),) if href else ()


def _advice_section(advice: Mapping[str, str], role: str, *, lead: bool) -> Section:
    label = ROLE_LABELS.get(role, role)
    text = _text(advice.get(role))
    entry = Entry(text=text or "No advice written for this role: use the summary.")
    return Section(f"advice_{role}", f"Advice for {label}", (entry,), lead=lead)


def _texts(values: Iterable[str]) -> tuple[str, ...]:
    """Return the non-empty strings of a list field (response-plan/2 lists)."""
    return tuple(text for text in (_text(value) for value in values) if text)


DEPENDANT_LABELS: dict[str, str] = {
    "child": "Child",
    "adult_cared_for": "Adult they care for",
    "pet": "Pet",
    "other": "Dependant",
}
MHA_LABELS: dict[str, str] = {
    "none": "Not detained or on leave",
    "informal": "Informal patient",
    "section_2": "Section 2",
    "section_3": "Section 3",
    "section_37": "Section 37",
    "section_17_leave": "Section 17 leave",
    "community_treatment_order": "Community treatment order",
    "conditional_discharge": "Conditional discharge",
    "guardianship": "Guardianship",
    "other": "Other",
}
CAPACITY_OUTCOME_LABELS: dict[str, str] = {
    "has_capacity": "Had capacity for this decision",
    "lacks_capacity": "Lacked capacity for this decision",
}


def _at_scene_sections(plan: Plan) -> list[Section]:
    """Return please do / please don't and how to communicate, for the first screens."""
    sections: list[Section] = []
    please = tuple(
        Entry(heading=heading, text=text)
        for heading, values in (
            ("Please do", plan.please_do),
            ("Please don't", plan.please_dont),
        )
        for text in _texts(values)
    )
    if please:
        sections.append(Section("please", "Please do, please don't", please))
    talk = tuple(
        Entry(heading=heading, text=text)
        for heading, text in (
            ("How to communicate with me", _text(plan.communication)),
            ("Reasonable adjustments", _text(plan.reasonable_adjustments)),
        )
        if text
    )
    if talk:
        sections.append(Section("communication", "How to communicate", talk))
    return sections


def _legal_sections(plan: Plan) -> list[Section]:
    """Return Mental Health Act status, LPA and ADRT, and capacity decisions."""
    sections: list[Section] = []
    details: list[tuple[str, str]] = []
    act = plan.mental_health_act or MentalHealthAct()
    status = MHA_LABELS.get(act.status or "")
    if status:
        recorded = act.recorded_on
        details.append(
            (
                "Mental Health Act",
                status + (f" (recorded {long_date(recorded)})" if recorded else ""),
            )
        )
    if _text(act.notes):
        details.append(("Mental Health Act notes", str(act.notes)))
    legal = plan.legal or Legal()
    for answer, label in (
        (legal.lpa_health_welfare, "Lasting Power of Attorney (health and welfare)"),
        (legal.adrt, "Advance Decision to Refuse Treatment"),
    ):
        if answer is not None:
            details.append((label, "Yes" if answer else "No"))
    if _text(legal.notes):
        details.append(("Where to find them", str(legal.notes)))
    if details:
        sections.append(
            Section("legal", "Legal status", (Entry(details=tuple(details)),))
        )
    decisions = tuple(
        Entry(
            heading=item.decision,
            text=CAPACITY_OUTCOME_LABELS.get(item.outcome or ""),
            details=tuple(
                (label, value)
                for label, value in (
                    ("Assessed by", _text(item.assessor)),
                    ("Assessed on", long_date(item.assessed_on)),
                    ("Best-interests decision", _text(item.best_interests)),
                )
                if value
            ),
        )
        for item in plan.capacity_decisions
        if _text(item.decision)
    )
    if decisions:
        sections.append(
            Section(
                "capacity_decisions",
                "Capacity for named decisions (assess it now)",
                decisions,
            )
        )
    return sections


def team_lines(
    contacts: TeamContacts, call: NumberToCall | None
) -> tuple[TeamLine, ...]:
    """Return each of the team's lines with its hours, marking the one open now."""
    rows = (
        ("in_hours", "In hours", contacts.in_hours_phone, contacts.in_hours),
        (
            "out_of_hours",
            "Out of hours",
            contacts.out_of_hours_phone,
            contacts.out_of_hours or "When the team is closed",
        ),
        ("crisis_line", "24-hour crisis line", contacts.crisis_line, "24 hours"),
    )
    return tuple(
        TeamLine(
            which=which,
            label=label,
            phone=phone,
            href=tel_href(phone),
            hours=hours,
            open_now=call is not None and call.which == which,
        )
        for which, label, phone, hours in rows
        if phone
    )


def build(
    source: PlanVersion | Mapping[str, Any],
    role: str | None,
    *,
    today: dt.date,
    for_person: bool = False,
    now: dt.datetime | None = None,
    team_contacts: TeamContacts | None = None,
) -> PlanView:
    """Return the plan as `role` reads it (None: every role's advice, in turn).

    A responder (any `role`) never sees a nominated person whose consent is not
    recorded; staff previews (None) see them marked as hidden, and why. The
    person's own reading (`for_person`) offers no directions to the places
    linked to their past crises.

    `team_contacts` are the team's current lines (the Team row, which may be newer than
    the version); without them the version's own team object is used. With `now`
    the view names the line that answers at that instant (Europe/London hours).
    """
    content = read(source.document if isinstance(source, PlanVersion) else source)
    person, team, plan = content.person, content.team, content.plan
    if isinstance(source, PlanVersion):
        status = source.status
        version_number = source.version
        review_by = source.review_by
        approved_by = source.approved_by_name
        approved_on = source.approved_on
    else:
        status = plan.status
        version_number = plan.version
        review_by = plan.review_by
        approved_by = _text(plan.approved_by)
        approved_on = plan.approved_on
    if status == "retired":
        raise PlanNotShown("a retired plan is never shown")
    if role is not None and role not in RESPONDER_KINDS:
        role = None  # staff previews and the person see every role's advice

    sections: list[Section] = []
    # A responder reads the advice for their own role first: it must sit on the
    # first screen of a phone, above a summary of any length.
    advice = plan.advice_for
    if role is not None:
        sections.append(_advice_section(advice, role, lead=True))
    summary = Entry(text=_text(plan.summary) or "")
    sections.append(Section("summary", "Summary", (summary,), lead=True))

    boundaries = tuple(
        Entry(
            text=item.boundary,
            details=(
                (("Agreed response", str(item.if_breached)),)
                if _text(item.if_breached)
                else ()
            ),
        )
        for item in plan.boundaries
        if _text(item.boundary)
    )
    if boundaries:
        sections.append(
            Section("boundaries", "Boundaries and the agreed response", boundaries)
        )
    sections.extend(_at_scene_sections(plan))

    behaviours = tuple(
        Entry(
            text=item.description,
            details=tuple(
                (label, str(value))
                for value, label in (
                    (item.triggers, "Triggers"),
                    (item.advice, "Advice"),
                )
                if _text(value)
            ),
        )
        for item in plan.behaviours
        if _text(item.description)
    )
    if behaviours:
        sections.append(Section("behaviours", "Behaviours and triggers", behaviours))
    warnings = tuple(Entry(text=text) for text in _texts(plan.early_warning_signs))
    if warnings:
        sections.append(Section("early_warning_signs", "Early warning signs", warnings))

    safety = tuple(_place_entry(p) for p in plan.places_of_safety)
    if safety:
        sections.append(Section("places_of_safety", "Places of safety", safety))

    crisis = tuple(
        _place_entry(p, directions=not for_person) for p in plan.crisis_locations
    )
    if crisis:
        sections.append(
            Section("crisis_locations", "Places linked to past crises", crisis)
        )

    contacts: list[Entry] = []
    for item in plan.nominated_people:
        relationship = _text(item.relationship)
        consented = item.consented
        if role is not None and not consented:
            # Shared with responders only with the person's recorded consent.
            continue
        if consented:
            consent = ("Consent", "The person agreed to this contact being involved")
        elif for_person:
            consent = (
                "Not shown to responders",
                "They will not see this person until you agree to them being "
                "involved; tell your team if you do.",
            )
        else:
            consent = (
                "Not shown to responders",
                "The person's consent to involving this contact is not recorded.",
            )
        contacts.append(
            Entry(
                heading=item.name,
                text=relationship,
                details=(consent,),
                links=_phone_links(item.phone, "Call"),
            )
        )
    if contacts:
        sections.append(
            Section("nominated_people", "Nominated people", tuple(contacts))
        )

    mentors = tuple(
        Entry(
            heading=mentor.name,
            text=MENTOR_ROLE_LABELS.get(
                "other" if mentor.role is None else mentor.role, "Mentor"
            ),
            links=_phone_links(mentor.phone, "Call"),
        )
        for mentor in plan.mentors
    )
    dependants = tuple(
        Entry(
            heading=dependant.who,
            text=_text(dependant.action),
            details=(
                (("Kind", DEPENDANT_LABELS[dependant.kind]),)
                if dependant.kind is not None and dependant.kind in DEPENDANT_LABELS
                else ()
            ),
        )
        for dependant in plan.dependants
        if _text(dependant.who)
    )
    if dependants:
        sections.append(
            Section(
                "dependants", "Dependants: who needs care if they cannot", dependants
            )
        )
    if mentors:
        sections.append(Section("mentors", "Mentors", mentors))

    team_name = _text(team.name) or ""
    if team_contacts is None:
        team_contacts = TeamContacts(
            team_name=team_name,
            in_hours_phone=_text(team.phone),
            in_hours=_text(team.hours),
        )
    call = number_open_now(team_contacts, now) if now is not None else None
    lines = team_lines(team_contacts, call)
    team_links = tuple(
        Link("tel", f"{line.label}: {line.phone}", line.href)
        for line in lines
        if line.href
    )
    team_details = tuple(
        (f"{line.label}{' (open now)' if line.open_now else ''}", line.hours)
        for line in lines
        if line.hours
    ) + ((("Email", str(team.email)),) if _text(team.email) else ())
    sections.append(
        Section(
            "team",
            "The team",
            (Entry(heading=team_name, details=team_details, links=team_links),),
        )
    )
    gp = plan.gp_practice or GpPractice()
    if _text(gp.name) or _text(gp.phone):
        sections.append(
            Section(
                "gp_practice",
                "GP practice",
                (
                    Entry(
                        heading=_text(gp.name),
                        details=(
                            (("ODS code", str(gp.ods_code)),)
                            if _text(gp.ods_code)
                            else ()
                        ),
                        links=_phone_links(gp.phone, "Call"),
                    ),
                ),
            )
        )

    capacity = plan.capacity
    if capacity is not None:
        abilities = tuple(
            (label, "Yes" if answer else "No")
            for key, label in CAPACITY_ABILITIES
            if (answer := capacity.ability(key)) is not None
        )
        assessed = capacity.assessed_on
        sections.append(
            Section(
                "capacity",
                "Capacity",
                (
                    Entry(
                        text=(
                            f"As last assessed on {long_date(assessed)}. "
                            "Capacity is decision-specific: assess it now."
                            if assessed
                            else "Capacity is decision-specific: assess it now."
                        ),
                        details=abilities
                        + (
                            (("Notes", str(capacity.notes)),)
                            if _text(capacity.notes)
                            else ()
                        ),
                    ),
                ),
            )
        )

    sections.extend(_legal_sections(plan))

    diagnosis = plan.diagnosis or Diagnosis()
    explanation = _text(diagnosis.plain_explanation)
    diagnosis_name = _text(diagnosis.name)
    if explanation or diagnosis_name:
        sections.append(
            Section(
                "diagnosis",
                "Diagnosis in plain words",
                (
                    Entry(
                        text=explanation or diagnosis_name,
                        details=(
                            (("Diagnosis", diagnosis_name),)
                            if explanation and diagnosis_name
                            else ()
                        ),
                    ),
                ),
            )
        )

    agreement = plan.agreement or Agreement()
    statement = _text(agreement.person_statement)
    if statement:
        sections.append(
            Section(
                "person_statement",
                "In their own words",
                (Entry(text=statement),),
            )
        )
    coping = tuple(Entry(text=text) for text in _texts(plan.coping_strategies))
    if coping:
        sections.append(Section("coping_strategies", "What helps them cope", coping))

    if role is None:
        for kind in RESPONDER_KINDS:
            if _text(advice.get(kind)):
                sections.append(_advice_section(advice, kind, lead=False))
    else:
        others = tuple(
            Entry(heading=f"For {ROLE_LABELS[kind]}", text=str(advice[kind]))
            for kind in RESPONDER_KINDS
            if kind != role and _text(advice.get(kind))
        )
        if others:
            sections.append(
                Section("advice_other_roles", "Advice for other responders", others)
            )

    review_overdue = review_by is not None and review_by < today
    last_reviewed = approved_on or plan.published_on
    review_notice = None
    if review_overdue:
        review_notice = (
            f"Not reviewed since {long_date(last_reviewed)}"
            if last_reviewed
            else "Not reviewed since it was written"
        ) + f": its review was due on {long_date(review_by)}."

    provenance: list[tuple[str, str]] = [("Version", str(version_number))]
    if approved_by or approved_on:
        provenance.append(
            (
                "Approved",
                " on ".join(
                    part for part in (approved_by, long_date(approved_on)) if part
                ),
            )
        )
    if review_by:
        provenance.append(("Review by", long_date(review_by)))
    agreed_on = agreement.agreed_on
    if agreement.agreed_with_person is True:
        provenance.append(
            (
                "Agreed with the person",
                f"Yes, on {long_date(agreed_on)}" if agreed_on else "Yes",
            )
        )
    elif agreement.agreed_with_person is False:
        provenance.append(("Agreed with the person", "No"))
    basis = SHARING_BASIS_LABELS.get(plan.sharing_basis or "")
    if basis:
        provenance.append(("Shared on the basis of", basis))
    supporters = ", ".join(
        item.name + (f" ({item.role})" if _text(item.role) else "")
        for item in plan.supported_by
        if _text(item.name)
    )
    if supporters:
        provenance.append(("Written with the support of", supporters))
    review = plan.review or Review()
    if _text(review.responsible):
        provenance.append(("Responsible for review", str(review.responsible)))
    if review.interval_months is not None:
        months = review.interval_months
        provenance.append(
            ("Reviewed every", f"{months} month" + ("" if months == 1 else "s"))
        )
    sections.append(
        Section("about", "About this plan", (Entry(details=tuple(provenance)),))
    )

    level = RISK_LABELS.get(plan.risk.level or "") if plan.risk else None
    legal_given = _text(person.given_name) or ""
    preferred = _text(person.preferred_name)
    given = preferred or legal_given
    family = _text(person.family_name) or ""
    legal_name = (
        f"{legal_given} {family}".strip()
        if preferred and preferred.casefold() != legal_given.casefold()
        else None
    )
    date_of_birth = person.date_of_birth
    address = person.address or Place()
    home = ", ".join(
        part for part in (_text(address.address), _text(address.postcode)) if part
    )
    return PlanView(
        ref=person.ref,
        name=f"{given} {family}".strip(),
        aliases=person.aliases,
        age=_age(date_of_birth, today),
        sex=_text(person.sex),
        description=_text(person.description),
        home=home or None,
        team_name=team_name,
        team_phone=team_contacts.in_hours_phone,
        team_hours=team_contacts.in_hours,
        role=role,
        role_label=ROLE_LABELS.get(role) if role else None,
        status=status,
        version=version_number,
        review_by=review_by,
        review_overdue=review_overdue,
        review_notice=review_notice,
        approved_by=approved_by,
        approved_on=approved_on,
        risk=level,
        sections=tuple(sections),
        team_links=team_links,
        legal_name=legal_name,
        preferred_name=preferred if legal_name else None,
        date_of_birth=date_of_birth,
        nhs_number=formatted(_text(person.nhs_number)),
        call=call,
        checked_at=now,
        team_lines=lines,
    )
