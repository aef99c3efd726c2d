"""The response-plan/2 document as typed, read-only structures: read it here.

A version's `document` is stored as the exchange format's JSON (the schema in
plans/schema/response-plan-2.schema.json); every module that reads it goes
through this one: `read(document)` parses the whole of it once, and the small
accessors below (`places`, `date_of_birth`, `review_by`, `crisis_locations`,
`nominated_people`, `display_name`, ...) answer the questions many modules ask,
so each is written once.

Frozen dataclasses rather than TypedDicts: a TypedDict only types the dict, so
every reader would still write its own `.get(...) or {}` chain, default and
date parser (issue 11 found six). A dataclass is parsed once: dates are
`datetime.date`, lists are tuples, an absent (or empty) object is None and an
absent list is empty, and mypy refuses a misspelt field. They are frozen: the
document of a published version never changes, and code that edits a draft
(plans.drafts, plans.agreement) or lands an import (plans.exchange) still
writes the dict, then reads it back through here.

Parsing is tolerant: a stored document was validated against the schema, but a
draft being edited may be partial, so a missing part gives None or empty and a
value of the wrong type is read as missing, never an exception.

The person's photo is not part of the document (plans.photos keeps it beside
the person row).

To add a field: add it to the schema, then to the dataclass here (with its
default) and to the function that reads that part (`person_of`, `read_plan`,
`read_place`, `_read_risk`, ...); tests/plans/test_document.py reads a full v2
document, a minimal one and odd drafts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, TypeVar

from plans.clock import iso_date

T = TypeVar("T")

PlaceKind = Literal["home", "crisis_locations", "places_of_safety"]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Place:
    """A place: the person's home, a crisis location or a place of safety."""

    name: str | None = None
    address: str | None = None
    postcode: str | None = None
    lat: float | None = None
    lon: float | None = None
    notes: str | None = None

    @property
    def point(self) -> tuple[float, float] | None:
        """Return (lat, lon) when both are given, else None."""
        if self.lat is None or self.lon is None:
            return None
        return (self.lat, self.lon)

    def as_dict(self) -> dict[str, Any]:
        """Return the place as the exchange format writes it (given fields only)."""
        return {
            key: value
            for key, value in (
                ("name", self.name),
                ("address", self.address),
                ("postcode", self.postcode),
                ("lat", self.lat),
                ("lon", self.lon),
                ("notes", self.notes),
            )
            if value is not None
        }


@dataclass(frozen=True, slots=True)
class Team:
    """The team that owns the plan, as the version recorded it."""

    code: str = ""
    name: str = ""
    phone: str | None = None
    email: str | None = None
    hours: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """Who the plan is about."""

    ref: str = ""
    given_name: str = ""
    family_name: str = ""
    nhs_number: str | None = None
    preferred_name: str | None = None
    aliases: tuple[str, ...] = ()
    date_of_birth: dt.date | None = None
    sex: str | None = None
    description: str | None = None
    address: Place | None = None

    @property
    def display_name(self) -> str:
        """Return the name a responder would call the person by."""
        return f"{self.preferred_name or self.given_name} {self.family_name}"

    @property
    def postcode(self) -> str | None:
        """Return the postcode of the person's home, if the plan gives one."""
        return self.address.postcode if self.address is not None else None


@dataclass(frozen=True, slots=True)
class Risk:
    """Likelihood x impact (each 1 to 5) and the level the matrix gives."""

    likelihood: int | None = None
    impact: int | None = None
    level: str | None = None


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """A diagnosis, and what it means in plain words."""

    name: str | None = None
    plain_explanation: str | None = None


@dataclass(frozen=True, slots=True)
class CapacityAcknowledgement:
    """The lead clinician's review of a capacity "No" (s.21)."""

    by: str | None = None
    on: dt.date | None = None
    review: str | None = None


@dataclass(frozen=True, slots=True)
class Capacity:
    """Mental capacity as last assessed (C-U-R-E: None where not answered)."""

    assessed_on: dt.date | None = None
    communicate: bool | None = None
    understand: bool | None = None
    retain: bool | None = None
    employ: bool | None = None
    notes: str | None = None
    acknowledgement: CapacityAcknowledgement | None = None

    def ability(self, key: str) -> bool | None:
        """Return one C-U-R-E answer by its name ("communicate", ...)."""
        answers = {
            "communicate": self.communicate,
            "understand": self.understand,
            "retain": self.retain,
            "employ": self.employ,
        }
        return answers.get(key)


@dataclass(frozen=True, slots=True)
class Behaviour:
    """A behaviour, with what triggers it and the advice for it."""

    description: str = ""
    code: str | None = None
    triggers: str | None = None
    advice: str | None = None


@dataclass(frozen=True, slots=True)
class Boundary:
    """A boundary and the agreed response when it is crossed."""

    boundary: str = ""
    if_breached: str | None = None


@dataclass(frozen=True, slots=True)
class NominatedPerson:
    """A contact the person named; shared with responders only with consent."""

    name: str = ""
    relationship: str | None = None
    phone: str | None = None
    consent_recorded: bool | None = None

    @property
    def consented(self) -> bool:
        """Say whether the person's consent to involving them is recorded."""
        return self.consent_recorded is True


@dataclass(frozen=True, slots=True)
class Mentor:
    """A police or clinical mentor of the plan."""

    name: str = ""
    role: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Agreement:
    """How and when the person agreed this version (the schema's coproduction)."""

    agreed_with_person: bool | None = None
    agreed_on: dt.date | None = None
    channel: str | None = None
    person_statement: str | None = None


@dataclass(frozen=True, slots=True)
class Dependant:
    """Someone (or a pet) who needs care if the person cannot give it."""

    who: str = ""
    kind: str | None = None
    action: str | None = None


@dataclass(frozen=True, slots=True)
class MentalHealthAct:
    """The person's Mental Health Act status when recorded."""

    status: str | None = None
    recorded_on: dt.date | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class CapacityDecision:
    """A named decision and the capacity outcome for it."""

    decision: str = ""
    outcome: str | None = None
    assessor: str | None = None
    assessed_on: dt.date | None = None
    best_interests: str | None = None


@dataclass(frozen=True, slots=True)
class Legal:
    """Lasting Power of Attorney, advance decision, where to find them."""

    lpa_health_welfare: bool | None = None
    adrt: bool | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class GpPractice:
    """The person's GP practice."""

    name: str | None = None
    ods_code: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Supporter:
    """Someone who supported writing the plan."""

    name: str = ""
    role: str | None = None


@dataclass(frozen=True, slots=True)
class Review:
    """Who reviews the plan, and how often."""

    responsible: str | None = None
    interval_months: int | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """The plan itself: what a responder reads, and its approval and consent."""

    version: int = 0
    status: str = "draft"
    published_at: str | None = None
    review_by: dt.date | None = None
    approved_by: str | None = None
    approved_on: dt.date | None = None
    risk: Risk | None = None
    summary: str = ""
    diagnosis: Diagnosis | None = None
    capacity: Capacity | None = None
    behaviours: tuple[Behaviour, ...] = ()
    crisis_locations: tuple[Place, ...] = ()
    places_of_safety: tuple[Place, ...] = ()
    boundaries: tuple[Boundary, ...] = ()
    nominated_people: tuple[NominatedPerson, ...] = ()
    mentors: tuple[Mentor, ...] = ()
    advice_for: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    agreement: Agreement | None = None
    sharing_basis: str | None = None
    early_warning_signs: tuple[str, ...] = ()
    please_do: tuple[str, ...] = ()
    please_dont: tuple[str, ...] = ()
    communication: str | None = None
    reasonable_adjustments: str | None = None
    coping_strategies: tuple[str, ...] = ()
    dependants: tuple[Dependant, ...] = ()
    mental_health_act: MentalHealthAct | None = None
    capacity_decisions: tuple[CapacityDecision, ...] = ()
    legal: Legal | None = None
    gp_practice: GpPractice | None = None
    supported_by: tuple[Supporter, ...] = ()
    review: Review | None = None

    @property
    def published_on(self) -> dt.date | None:
        """Return the day the version was published, if the document says."""
        return iso_date(self.published_at)

    @property
    def triggers(self) -> tuple[str, ...]:
        """Return the triggers written against the plan's behaviours."""
        return tuple(b.triggers for b in self.behaviours if b.triggers)


@dataclass(frozen=True, slots=True)
class ResponsePlan:
    """A whole response-plan/2 document."""

    format: str = ""
    team: Team = field(default_factory=Team)
    person: Person = field(default_factory=Person)
    plan: Plan = field(default_factory=Plan)


# --- the accessors: every module asks these of a document here -------------


def read(document: Mapping[str, Any]) -> ResponsePlan:
    """Parse a whole response-plan/2 document into its typed structures."""
    return ResponsePlan(
        format=_str(document.get("format")) or "",
        team=team_of(document),
        person=person_of(document),
        plan=plan_of(document),
    )


def team_of(document: Mapping[str, Any]) -> Team:
    """Return the document's team."""
    raw = _part(document, "team")
    return Team(
        code=_str(raw.get("code")) or "",
        name=_str(raw.get("name")) or "",
        phone=_str(raw.get("phone")),
        email=_str(raw.get("email")),
        hours=_str(raw.get("hours")),
    )


def person_of(document: Mapping[str, Any]) -> Person:
    """Return the document's person."""
    raw = _part(document, "person")
    address = _object(raw.get("address"))
    return Person(
        ref=_str(raw.get("ref")) or "",
        given_name=_str(raw.get("given_name")) or "",
        family_name=_str(raw.get("family_name")) or "",
        nhs_number=_str(raw.get("nhs_number")),
        preferred_name=_str(raw.get("preferred_name")),
        aliases=_strings(raw.get("aliases")),
        date_of_birth=iso_date(raw.get("date_of_birth")),
        sex=_str(raw.get("sex")),
        description=_str(raw.get("description")),
        address=read_place(address) if address is not None else None,
    )


def plan_of(document: Mapping[str, Any]) -> Plan:
    """Return the document's plan."""
    return read_plan(_part(document, "plan"))


def read_plan(raw: Mapping[str, Any]) -> Plan:
    """Return a plan object (the document's `plan`) as a `Plan`."""
    advice = _object(raw.get("advice_for")) or _EMPTY
    return Plan(
        version=_int(raw.get("version")) or 0,
        status=_str(raw.get("status")) or "draft",  # as `status` reads it
        published_at=_str(raw.get("published_at")),
        review_by=iso_date(raw.get("review_by")),
        approved_by=_str(raw.get("approved_by")),
        approved_on=iso_date(raw.get("approved_on")),
        risk=_maybe(_read_risk, raw.get("risk")),
        summary=_str(raw.get("summary")) or "",
        diagnosis=_maybe(_read_diagnosis, raw.get("diagnosis")),
        capacity=_maybe(_read_capacity, raw.get("capacity")),
        behaviours=_items(_read_behaviour, raw.get("behaviours")),
        crisis_locations=_items(read_place, raw.get("crisis_locations")),
        places_of_safety=_items(read_place, raw.get("places_of_safety")),
        boundaries=_items(_read_boundary, raw.get("boundaries")),
        nominated_people=_items(_read_nominated, raw.get("nominated_people")),
        mentors=_items(_read_mentor, raw.get("mentors")),
        advice_for=MappingProxyType(
            {k: v for k, v in advice.items() if isinstance(v, str)}
        ),
        agreement=_maybe(_read_agreement, raw.get("coproduction")),
        sharing_basis=_str(raw.get("sharing_basis")),
        early_warning_signs=_strings(raw.get("early_warning_signs")),
        please_do=_strings(raw.get("please_do")),
        please_dont=_strings(raw.get("please_dont")),
        communication=_str(raw.get("communication")),
        reasonable_adjustments=_str(raw.get("reasonable_adjustments")),
        coping_strategies=_strings(raw.get("coping_strategies")),
        dependants=_items(_read_dependant, raw.get("dependants")),
        mental_health_act=_maybe(_read_mental_health_act, raw.get("mental_health_act")),
        capacity_decisions=_items(_read_decision, raw.get("capacity_decisions")),
        legal=_maybe(_read_legal, raw.get("legal")),
        gp_practice=_maybe(_read_gp, raw.get("gp_practice")),
        supported_by=_items(_read_supporter, raw.get("supported_by")),
        review=_maybe(_read_review, raw.get("review")),
    )


# The accessors below read only the part they answer (an import asks for the
# ref and version of every document several times; search and chat index the
# places of every live plan), with the same readers `read` uses.


def places(document: Mapping[str, Any]) -> list[tuple[PlaceKind, Place]]:
    """Return (kind, place) for every place of a plan with a lat/lon.

    Home first, then the crisis locations, then the places of safety: chat
    (named places), following an area (NRL outbox) and search all read them
    here, so a place a plan adds is found by every channel or by none.
    """
    home = _object(_part(document, "person").get("address"))
    plan = _part(document, "plan")
    found: list[tuple[PlaceKind, Place]] = (
        [("home", read_place(home))] if home is not None else []
    )
    found.extend(
        ("crisis_locations", place)
        for place in _items(read_place, plan.get("crisis_locations"))
    )
    found.extend(
        ("places_of_safety", place)
        for place in _items(read_place, plan.get("places_of_safety"))
    )
    return [(kind, place) for kind, place in found if place.point is not None]


def ref(document: Mapping[str, Any]) -> str:
    """Return the person's reference (the plan's key in every exchange)."""
    return _str(_part(document, "person").get("ref")) or ""


def version_number(document: Mapping[str, Any]) -> int:
    """Return the plan's version number (0 when missing)."""
    return _int(_part(document, "plan").get("version")) or 0


def status(document: Mapping[str, Any]) -> str:
    """Return the plan's status as the document states it ("draft" when missing)."""
    return _str(_part(document, "plan").get("status")) or "draft"


def display_name(document: Mapping[str, Any]) -> str:
    """Return the name a responder would call the person by."""
    return person_of(document).display_name


def date_of_birth(document: Mapping[str, Any]) -> dt.date | None:
    """Return the person's date of birth, if the plan gives it."""
    return iso_date(_part(document, "person").get("date_of_birth"))


def review_by(document: Mapping[str, Any]) -> dt.date | None:
    """Return the date the plan must be reviewed by, if set."""
    return iso_date(_part(document, "plan").get("review_by"))


def summary(document: Mapping[str, Any]) -> str:
    """Return the summary a responder reads first ("" when missing)."""
    return _str(_part(document, "plan").get("summary")) or ""


def behaviours(document: Mapping[str, Any]) -> tuple[Behaviour, ...]:
    """Return the plan's behaviours, each with its triggers and advice."""
    return _items(_read_behaviour, _part(document, "plan").get("behaviours"))


def crisis_locations(document: Mapping[str, Any]) -> tuple[Place, ...]:
    """Return the places linked to the person's past crises."""
    return _items(read_place, _part(document, "plan").get("crisis_locations"))


def nominated_people(document: Mapping[str, Any]) -> tuple[NominatedPerson, ...]:
    """Return every nominated person (consented or not: filter on `consented`)."""
    return _items(_read_nominated, _part(document, "plan").get("nominated_people"))


def nominated_person(document: Mapping[str, Any]) -> NominatedPerson | None:
    """Return the first nominated person whose consent is recorded, if any."""
    return next((p for p in nominated_people(document) if p.consented), None)


# --- parsing: tolerant, a wrong type reads as missing -----------------------


def _part(document: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """Return the document's `person`, `plan` or `team` object (empty if absent)."""
    return _object(document.get(key)) or _EMPTY


def _object(value: object) -> Mapping[str, Any] | None:
    """Return a non-empty JSON object, else None (absent and empty read alike)."""
    return value if isinstance(value, Mapping) and value else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def _maybe(reader: Callable[[Mapping[str, Any]], T], value: object) -> T | None:
    raw = _object(value)
    return reader(raw) if raw is not None else None


def _items(reader: Callable[[Mapping[str, Any]], T], value: object) -> tuple[T, ...]:
    if not isinstance(value, list | tuple):
        return ()
    return tuple(reader(item) for item in value if isinstance(item, Mapping))


def read_place(raw: Mapping[str, Any]) -> Place:
    """Return one place object (home, crisis location, place of safety)."""
    return Place(
        name=_str(raw.get("name")),
        address=_str(raw.get("address")),
        postcode=_str(raw.get("postcode")),
        lat=_number(raw.get("lat")),
        lon=_number(raw.get("lon")),
        notes=_str(raw.get("notes")),
    )


def _read_risk(raw: Mapping[str, Any]) -> Risk:
    return Risk(
        likelihood=_int(raw.get("likelihood")),
        impact=_int(raw.get("impact")),
        level=_str(raw.get("level")),
    )


def _read_diagnosis(raw: Mapping[str, Any]) -> Diagnosis:
    return Diagnosis(
        name=_str(raw.get("name")),
        plain_explanation=_str(raw.get("plain_explanation")),
    )


def _read_capacity(raw: Mapping[str, Any]) -> Capacity:
    acknowledgement = _object(raw.get("acknowledgement"))
    return Capacity(
        assessed_on=iso_date(raw.get("assessed_on")),
        communicate=_bool(raw.get("communicate")),
        understand=_bool(raw.get("understand")),
        retain=_bool(raw.get("retain")),
        employ=_bool(raw.get("employ")),
        notes=_str(raw.get("notes")),
        acknowledgement=(
            CapacityAcknowledgement(
                by=_str(acknowledgement.get("by")),
                on=iso_date(acknowledgement.get("on")),
                review=_str(acknowledgement.get("review")),
            )
            if acknowledgement is not None
            else None
        ),
    )


def _read_behaviour(raw: Mapping[str, Any]) -> Behaviour:
    return Behaviour(
        description=_str(raw.get("description")) or "",
        code=_str(raw.get("code")),
        triggers=_str(raw.get("triggers")),
        advice=_str(raw.get("advice")),
    )


def _read_boundary(raw: Mapping[str, Any]) -> Boundary:
    return Boundary(
        boundary=_str(raw.get("boundary")) or "",
        if_breached=_str(raw.get("if_breached")),
    )


def _read_nominated(raw: Mapping[str, Any]) -> NominatedPerson:
    return NominatedPerson(
        name=_str(raw.get("name")) or "",
        relationship=_str(raw.get("relationship")),
        phone=_str(raw.get("phone")),
        consent_recorded=_bool(raw.get("consent_recorded")),
    )


def _read_mentor(raw: Mapping[str, Any]) -> Mentor:
    return Mentor(
        name=_str(raw.get("name")) or "",
        role=_str(raw.get("role")),
        phone=_str(raw.get("phone")),
    )


def _read_agreement(raw: Mapping[str, Any]) -> Agreement:
    return Agreement(
        agreed_with_person=_bool(raw.get("agreed_with_person")),
        agreed_on=iso_date(raw.get("agreed_on")),
        channel=_str(raw.get("channel")),
        person_statement=_str(raw.get("person_statement")),
    )


def _read_dependant(raw: Mapping[str, Any]) -> Dependant:
    return Dependant(
        who=_str(raw.get("who")) or "",
        kind=_str(raw.get("kind")),
        action=_str(raw.get("action")),
    )


def _read_mental_health_act(raw: Mapping[str, Any]) -> MentalHealthAct:
    return MentalHealthAct(
        status=_str(raw.get("status")),
        recorded_on=iso_date(raw.get("recorded_on")),
        notes=_str(raw.get("notes")),
    )


def _read_decision(raw: Mapping[str, Any]) -> CapacityDecision:
    return CapacityDecision(
        decision=_str(raw.get("decision")) or "",
        outcome=_str(raw.get("outcome")),
        assessor=_str(raw.get("assessor")),
        assessed_on=iso_date(raw.get("assessed_on")),
        best_interests=_str(raw.get("best_interests")),
    )


def _read_legal(raw: Mapping[str, Any]) -> Legal:
    return Legal(
        lpa_health_welfare=_bool(raw.get("lpa_health_welfare")),
        adrt=_bool(raw.get("adrt")),
        notes=_str(raw.get("notes")),
    )


def _read_gp(raw: Mapping[str, Any]) -> GpPractice:
    return GpPractice(
        name=_str(raw.get("name")),
        ods_code=_str(raw.get("ods_code")),
        phone=_str(raw.get("phone")),
    )


def _read_supporter(raw: Mapping[str, Any]) -> Supporter:
    return Supporter(name=_str(raw.get("name")) or "", role=_str(raw.get("role")))


def _read_review(raw: Mapping[str, Any]) -> Review:
    return Review(
        responsible=_str(raw.get("responsible")),
        interval_months=_int(raw.get("interval_months")),
    )
