"""The units of demand counted each month for each person, and their default costs.

The Operational Guide (s.57) asks for five minimum data sets every month for each
person supported three or more times; the fifth, "s136 detentions and Mental
Health Act assessments", is counted as two units so each can be costed. The
further units are optional. The table is the configuration: add a row here (and
a default cost below) to count something new; codes, once used, never change,
because stored counts are keyed on them.

Default unit costs are ILLUSTRATIVE round figures, not prices: they are in the
range of published national figures (named in `source`) but carry no more
precision than that. Each team replaces them with its own dated local costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

Service = Literal["police", "ambulance", "hospital", "mental_health", "other"]

SERVICE_LABELS: dict[Service, str] = {
    "police": "Police",
    "ambulance": "Ambulance",
    "hospital": "ED and acute hospital",
    "mental_health": "Mental health",
    "other": "Other services",
}
# The four services the s.58 bar charts stack; "other" units are tabled, not stacked.
CHART_SERVICES: tuple[Service, ...] = (
    "police",
    "ambulance",
    "hospital",
    "mental_health",
)


@dataclass(frozen=True)
class Unit:
    """One thing counted per person per month."""

    code: str
    label: str
    service: Service
    minimum: bool = False  # one of the Operational Guide's minimum data sets


UNITS: tuple[Unit, ...] = (
    # the minimum data sets (s.57)
    Unit("police_incidents", "Police incidents", "police", True),
    Unit("ambulance_deployments", "Ambulance deployments", "ambulance", True),
    Unit("ed_attendances", "ED attendances needing treatment", "hospital", True),
    Unit("mh_bed_days", "Mental-health bed days", "mental_health", True),
    Unit("s136_detentions", "Section 136 detentions", "police", True),
    Unit("mha_assessments", "Mental Health Act assessments", "mental_health", True),
    # further units
    Unit("calls_999_police", "999 calls to police", "police"),
    Unit("calls_101", "101 calls to police", "police"),
    Unit("police_custody", "Police custody episodes", "police"),
    Unit("police_welfare_checks", "Police welfare checks", "police"),
    Unit("missing_reports", "Missing-person reports", "police"),
    Unit("s135_warrants", "Section 135 warrants", "police"),
    Unit("street_triage", "Street triage contacts", "police"),
    Unit("calls_999_ambulance", "999 calls to ambulance", "ambulance"),
    Unit("calls_111", "NHS 111 calls", "ambulance"),
    Unit("hear_and_treat", "Ambulance hear and treat", "ambulance"),
    Unit("see_and_treat", "Ambulance see and treat", "ambulance"),
    Unit("see_and_convey", "Ambulance see and convey", "ambulance"),
    Unit("ed_no_treatment", "ED attendances without treatment", "hospital"),
    Unit("acute_admissions", "Acute hospital admissions", "hospital"),
    Unit("acute_bed_days", "Acute hospital bed days", "hospital"),
    Unit("self_harm_presentations", "Self-harm presentations", "hospital"),
    Unit("liaison_assessments", "Liaison psychiatry assessments", "hospital"),
    Unit("urgent_care", "Urgent treatment centre attendances", "hospital"),
    Unit("crisis_team_contacts", "Crisis team contacts", "mental_health"),
    Unit("home_treatment_contacts", "Home treatment contacts", "mental_health"),
    Unit("cmht_contacts", "Community mental-health team contacts", "mental_health"),
    Unit("picu_bed_days", "Psychiatric intensive care bed days", "mental_health"),
    Unit("out_of_area_days", "Out-of-area placement days", "mental_health"),
    Unit("gp_appointments", "GP appointments", "other"),
    Unit("gp_out_of_hours", "GP out-of-hours contacts", "other"),
    Unit("social_care_emergency", "Emergency duty social care contacts", "other"),
    Unit("criminal_justice_liaison", "Liaison and diversion contacts", "other"),
)
UNITS_BY_CODE: dict[str, Unit] = {unit.code: unit for unit in UNITS}
MINIMUM_UNITS: tuple[Unit, ...] = tuple(unit for unit in UNITS if unit.minimum)


def unit_or_none(code: str) -> Unit | None:
    """Return the unit with this code, or None when the table has none."""
    return UNITS_BY_CODE.get(code.strip().lower())


@dataclass(frozen=True)
class DefaultCost:
    """An illustrative starting cost of one unit, with where its order comes from."""

    unit: str
    pounds: Decimal
    source: str


_PSSRU = (
    "illustrative; order of magnitude from PSSRU Unit Costs of Health and Social Care"
)
_NCC = "illustrative; order of magnitude from NHS England National Cost Collection"
_POLICE = "illustrative; order of magnitude from Home Office police cost estimates"
_LOCAL = "illustrative placeholder; no national source, enter your local cost"

DEFAULT_COSTS: tuple[DefaultCost, ...] = (
    DefaultCost("police_incidents", Decimal("300"), _POLICE),
    DefaultCost("ambulance_deployments", Decimal("300"), _NCC),
    DefaultCost("ed_attendances", Decimal("250"), _NCC),
    DefaultCost("mh_bed_days", Decimal("500"), _NCC),
    DefaultCost("s136_detentions", Decimal("1500"), _POLICE),
    DefaultCost("mha_assessments", Decimal("1500"), _PSSRU),
    DefaultCost("calls_999_police", Decimal("50"), _LOCAL),
    DefaultCost("calls_101", Decimal("20"), _LOCAL),
    DefaultCost("police_custody", Decimal("500"), _POLICE),
    DefaultCost("police_welfare_checks", Decimal("100"), _POLICE),
    DefaultCost("missing_reports", Decimal("2000"), _POLICE),
    DefaultCost("s135_warrants", Decimal("1000"), _LOCAL),
    DefaultCost("street_triage", Decimal("200"), _LOCAL),
    DefaultCost("calls_999_ambulance", Decimal("10"), _NCC),
    DefaultCost("calls_111", Decimal("10"), _NCC),
    DefaultCost("hear_and_treat", Decimal("50"), _NCC),
    DefaultCost("see_and_treat", Decimal("300"), _NCC),
    DefaultCost("see_and_convey", Decimal("400"), _NCC),
    DefaultCost("ed_no_treatment", Decimal("100"), _NCC),
    DefaultCost("acute_admissions", Decimal("2000"), _NCC),
    DefaultCost("acute_bed_days", Decimal("400"), _NCC),
    DefaultCost("self_harm_presentations", Decimal("300"), _NCC),
    DefaultCost("liaison_assessments", Decimal("200"), _PSSRU),
    DefaultCost("urgent_care", Decimal("100"), _NCC),
    DefaultCost("crisis_team_contacts", Decimal("200"), _PSSRU),
    DefaultCost("home_treatment_contacts", Decimal("200"), _PSSRU),
    DefaultCost("cmht_contacts", Decimal("100"), _PSSRU),
    DefaultCost("picu_bed_days", Decimal("1000"), _NCC),
    DefaultCost("out_of_area_days", Decimal("600"), _LOCAL),
    DefaultCost("gp_appointments", Decimal("40"), _PSSRU),
    DefaultCost("gp_out_of_hours", Decimal("100"), _LOCAL),
    DefaultCost("social_care_emergency", Decimal("100"), _LOCAL),
    DefaultCost("criminal_justice_liaison", Decimal("100"), _LOCAL),
)
DEFAULT_COSTS_BY_UNIT: dict[str, DefaultCost] = {c.unit: c for c in DEFAULT_COSTS}
