"""response-plan/2 documents as FHIR R4 (4.0.1) collection Bundles, and back.

Pure: no session, no IO. One Bundle per plan, each resource with its UK Core
profile and the security label V (very restricted), as the NRL asks of crisis
plans:

    Patient        person: NHS number, ref, names, birth date, sex, description
    Organization   the team; the GP practice (ODS code)
    CarePlan       category 736253002 (mental health crisis plan), status,
                   version, summary, review date, advice per responder kind and
                   every list section as activities
    CareTeam       the mentors, each a Practitioner
    RelatedPerson  each nominated person, with a Consent when it is recorded
    Condition      the diagnosis
    Observation    capacity as last assessed (C-U-R-E)
    Location       home, crisis locations, places of safety
    Consent        the lawful basis for sharing and the person's agreement
    Provenance     the lead clinician's approval

Fields FHIR has no element for (risk, communication, the Mental Health Act
status and so on) travel as extensions of the CarePlan
(`EXTENSION`/field), so `document_from_bundle(bundle_for(document))` gives back
the same document: our own bundles import without loss. The models of
`fhir.resources` (R4B) check every bundle in `validate_bundle`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from plans import nhs_numbers, snomed
from plans.exchange.upgrade import FORMAT

FHIR_VERSION = "4.0.1"
MEDIA_TYPE = "application/fhir+json; fhirVersion=4.0"
SNOMED = "http://snomed.info/sct"
CRISIS_PLAN_CODE = "736253002"
CRISIS_PLAN_DISPLAY = "Mental health crisis plan"
NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
# Our own identifiers and extensions: not NHS systems, so named as ours.
BASE = "https://responder.invalid/fhir"
REF_SYSTEM = f"{BASE}/Id/person-ref"
TEAM_SYSTEM = f"{BASE}/Id/team-code"
SECTION_SYSTEM = f"{BASE}/CodeSystem/plan-section"
PLACE_SYSTEM = f"{BASE}/CodeSystem/place-kind"
EXTENSION = f"{BASE}/StructureDefinition/response-plan-field"
NAMESPACE = uuid.UUID("5b1c7c1e-8f0e-4c55-9d0a-16d0c0e0f216")

SECURITY = [{"system": CONFIDENTIALITY, "code": "V", "display": "very restricted"}]
_STATUS_TO_FHIR = {"draft": "draft", "live": "active", "retired": "revoked"}
_STATUS_FROM_FHIR = {value: key for key, value in _STATUS_TO_FHIR.items()}

# Plan lists carried as CarePlan activities, one activity per item.
ACTIVITY_SECTIONS: tuple[str, ...] = (
    "behaviours",
    "boundaries",
    "please_do",
    "please_dont",
    "early_warning_signs",
    "coping_strategies",
    "dependants",
    "capacity_decisions",
    "supported_by",
)
# Plan keys with a resource or element of their own.
_MAPPED_PLAN_KEYS = frozenset(
    {
        "version",
        "status",
        "summary",
        "review_by",
        "published_at",
        "approved_by",
        "approved_on",
        "advice_for",
        "diagnosis",
        "capacity",
        "crisis_locations",
        "places_of_safety",
        "nominated_people",
        "mentors",
        "coproduction",
        "sharing_basis",
        "gp_practice",
        *ACTIVITY_SECTIONS,
    }
)
_PERSON_PLAIN = ("ref", "given_name", "family_name", "preferred_name", "aliases")


class BundleError(ValueError):
    """A bundle that is not one of ours, or breaks FHIR R4; `pointer` says where."""

    def __init__(self, pointer: str, message: str) -> None:
        super().__init__(message)
        self.pointer = pointer
        self.message = message


# --- generic values as extensions ------------------------------------------------


def _ext(key: str, value: Any) -> dict[str, Any]:
    """Return an extension holding one JSON value under `key`, losslessly."""
    url = f"{EXTENSION}#{key}"
    if isinstance(value, bool):
        return {"url": url, "valueBoolean": value}
    if isinstance(value, int):
        return {"url": url, "valueInteger": value}
    if isinstance(value, float):
        return {"url": url, "valueDecimal": value}
    if isinstance(value, str):
        return {"url": url, "valueString": value}
    if isinstance(value, Mapping):
        return {
            "url": url,
            "extension": [_ext("object", None)]
            + [_ext(str(k), v) for k, v in value.items()],
        }
    if isinstance(value, list):
        return {
            "url": url,
            "extension": [_ext("list", None)] + [_ext("item", item) for item in value],
        }
    if value is None:
        return {"url": url, "valueCode": "null"}
    raise TypeError(f"cannot carry {type(value).__name__} in an extension")


def _unext(extension: Mapping[str, Any]) -> tuple[str, Any]:
    """Return the key and JSON value an `_ext` extension holds."""
    url = str(extension.get("url", ""))
    if not url.startswith(EXTENSION + "#"):
        raise BundleError("", f"unknown extension {url!r}")
    key = url.split("#", 1)[1]
    for name in ("valueBoolean", "valueInteger", "valueDecimal", "valueString"):
        if name in extension:
            value = extension[name]
            if name == "valueDecimal":
                value = float(value)
            return key, value
    if extension.get("valueCode") == "null":
        return key, None
    children = list(extension.get("extension") or [])
    if not children:
        raise BundleError("", f"extension {key!r} holds no value")
    marker, _ = _unext(children[0])
    if marker == "list":
        return key, [_unext(child)[1] for child in children[1:]]
    return key, {k: v for k, v in (_unext(child) for child in children[1:])}


def _own_extensions(resource: Mapping[str, Any]) -> dict[str, Any]:
    return dict(
        _unext(extension)
        for extension in resource.get("extension") or ()
        if str(extension.get("url", "")).startswith(EXTENSION + "#")
    )


# --- export ------------------------------------------------------------------------


def _id(ref: str, *parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join([ref, *map(str, parts)])))


def _resource(kind: str, ref: str, *parts: object) -> dict[str, Any]:
    return {
        "resourceType": kind,
        "id": _id(ref, kind, *parts),
        "meta": {"profile": [UK_CORE + kind], "security": list(SECURITY)},
    }


def _reference(resource: Mapping[str, Any]) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource['id']}"}


def _telecom(phone: Any = None, email: Any = None) -> list[dict[str, str]]:
    out = []
    if phone:
        out.append({"system": "phone", "value": str(phone)})
    if email:
        out.append({"system": "email", "value": str(email)})
    return out


def _location(
    ref: str, kind: str, index: int, place: Mapping[str, Any]
) -> dict[str, Any]:
    location = _resource("Location", ref, kind, index)
    location["name"] = place["name"]
    location["type"] = [{"coding": [{"system": PLACE_SYSTEM, "code": kind}]}]
    address: dict[str, Any] = {}
    if "address" in place:
        address["text"] = place["address"]
    if "postcode" in place:
        address["postalCode"] = place["postcode"]
    if address:
        location["address"] = address
    if "lat" in place and "lon" in place:
        location["position"] = {"latitude": place["lat"], "longitude": place["lon"]}
    if "notes" in place:
        location["description"] = place["notes"]
    extra = {k: v for k, v in place.items() if k not in _PLACE_KEYS}
    if ("lat" in place) != ("lon" in place):
        extra.update({k: place[k] for k in ("lat", "lon") if k in place})
    if extra:
        location["extension"] = [_ext(k, v) for k, v in extra.items()]
    return location


_PLACE_KEYS = frozenset({"name", "address", "postcode", "lat", "lon", "notes"})


def bundle_for(document: Mapping[str, Any]) -> dict[str, Any]:
    """Return one plan as a FHIR R4 collection Bundle (plain JSON-ready dicts)."""
    person: Mapping[str, Any] = document["person"]
    team: Mapping[str, Any] = document["team"]
    plan: Mapping[str, Any] = document["plan"]
    ref = str(person["ref"])
    resources: list[dict[str, Any]] = []

    organization = _resource("Organization", ref, "team")
    organization["identifier"] = [{"system": TEAM_SYSTEM, "value": team["code"]}]
    organization["name"] = team["name"]
    if _telecom(team.get("phone"), team.get("email")):
        organization["telecom"] = _telecom(team.get("phone"), team.get("email"))
    team_extra = {k: v for k, v in team.items() if k not in ("code", "name")}
    team_extra.pop("phone", None)
    team_extra.pop("email", None)
    if team_extra:
        organization["extension"] = [_ext(k, v) for k, v in team_extra.items()]
    resources.append(organization)

    patient = _resource("Patient", ref, "person")
    identifiers = [{"system": REF_SYSTEM, "value": ref}]
    if person.get("nhs_number"):
        identifiers.insert(
            0, {"system": NHS_NUMBER_SYSTEM, "value": str(person["nhs_number"])}
        )
    patient["identifier"] = identifiers
    names: list[dict[str, Any]] = [
        {
            "use": "official",
            "family": person["family_name"],
            "given": [person["given_name"]],
        }
    ]
    if person.get("preferred_name"):
        names.append({"use": "usual", "given": [person["preferred_name"]]})
    names.extend({"use": "nickname", "text": alias} for alias in person["aliases"])
    patient["name"] = names
    if "sex" in person:
        patient["gender"] = person["sex"]
    if "date_of_birth" in person:
        patient["birthDate"] = person["date_of_birth"]
    person_extra = {
        k: v
        for k, v in person.items()
        if k not in (*_PERSON_PLAIN, "nhs_number", "sex", "date_of_birth", "address")
    }
    if "preferred_name" in person and not person["preferred_name"]:
        person_extra["preferred_name"] = person["preferred_name"]
    if person_extra:
        patient["extension"] = [_ext(k, v) for k, v in person_extra.items()]
    resources.append(patient)
    if person.get("address"):
        home = _location(ref, "home", 0, person["address"])
        resources.append(home)
        patient["address"] = [
            {
                "use": "home",
                **(
                    {"text": person["address"]["address"]}
                    if "address" in person["address"]
                    else {}
                ),
                **(
                    {"postalCode": person["address"]["postcode"]}
                    if "postcode" in person["address"]
                    else {}
                ),
            }
        ]

    gp = plan.get("gp_practice")
    gp_org = None
    if gp is not None:
        gp_org = _resource("Organization", ref, "gp")
        if gp.get("ods_code"):
            gp_org["identifier"] = [{"system": ODS_SYSTEM, "value": gp["ods_code"]}]
        if "name" in gp:
            gp_org["name"] = gp["name"]
        if gp.get("phone"):
            gp_org["telecom"] = _telecom(gp["phone"])
        gp_org["extension"] = [_ext("gp_practice", dict(gp))]
        patient["generalPractitioner"] = [_reference(gp_org)]
        resources.append(gp_org)

    care_plan = _resource("CarePlan", ref, "plan")
    care_plan_extensions = [_ext("version", plan["version"])]

    members = []
    for index, mentor in enumerate(plan.get("mentors") or ()):
        practitioner = _resource("Practitioner", ref, "mentor", index)
        practitioner["name"] = [{"text": mentor["name"]}]
        if mentor.get("phone"):
            practitioner["telecom"] = _telecom(mentor["phone"])
        practitioner["extension"] = [_ext("mentor", dict(mentor))]
        resources.append(practitioner)
        member: dict[str, Any] = {"member": _reference(practitioner)}
        if mentor.get("role"):
            member["role"] = [{"text": mentor["role"]}]
        members.append(member)
    if "mentors" in plan:
        care_team = _resource("CareTeam", ref, "mentors")
        care_team["status"] = "active"
        care_team["name"] = "Mentors"
        care_team["subject"] = _reference(patient)
        care_team["managingOrganization"] = [_reference(organization)]
        if members:
            care_team["participant"] = members
        resources.append(care_team)
        care_plan["careTeam"] = [_reference(care_team)]

    for index, nominated in enumerate(plan.get("nominated_people") or ()):
        related = _resource("RelatedPerson", ref, "nominated", index)
        related["patient"] = _reference(patient)
        related["name"] = [{"text": nominated["name"]}]
        if nominated.get("relationship"):
            related["relationship"] = [{"text": nominated["relationship"]}]
        if nominated.get("phone"):
            related["telecom"] = _telecom(nominated["phone"])
        related["extension"] = [_ext("nominated_person", dict(nominated))]
        resources.append(related)
        if "consent_recorded" in nominated:
            consent = _resource("Consent", ref, "nominated", index)
            consent["status"] = (
                "active" if nominated["consent_recorded"] else "rejected"
            )
            consent.update(_consent_frame(patient))
            consent["provision"] = {
                "type": "permit",
                "actor": [
                    {
                        "role": {"text": "nominated person"},
                        "reference": _reference(related),
                    }
                ],
            }
            resources.append(consent)

    if "nominated_people" in plan and not plan["nominated_people"]:
        care_plan_extensions.append(_ext("nominated_people", []))

    supporting = []
    if "diagnosis" in plan:
        condition = _resource("Condition", ref, "diagnosis")
        condition["subject"] = _reference(patient)
        diagnosis = plan["diagnosis"]
        if diagnosis.get("name"):
            condition["code"] = {"text": diagnosis["name"]}
        if diagnosis.get("plain_explanation"):
            condition["note"] = [{"text": diagnosis["plain_explanation"]}]
        condition["extension"] = [_ext("diagnosis", dict(diagnosis))]
        resources.append(condition)
        care_plan["addresses"] = [_reference(condition)]
    if "capacity" in plan:
        capacity = plan["capacity"]
        observation = _resource("Observation", ref, "capacity")
        observation["status"] = "final"
        observation["code"] = {"text": "Mental capacity as last assessed (C-U-R-E)"}
        observation["subject"] = _reference(patient)
        if capacity.get("assessed_on"):
            observation["effectiveDateTime"] = capacity["assessed_on"]
        components = [
            {"code": {"text": key}, "valueBoolean": capacity[key]}
            for key in ("communicate", "understand", "retain", "employ")
            if isinstance(capacity.get(key), bool)
        ]
        if components:
            observation["component"] = components
        if capacity.get("notes"):
            observation["note"] = [{"text": capacity["notes"]}]
        observation["extension"] = [_ext("capacity", dict(capacity))]
        resources.append(observation)
        supporting.append(_reference(observation))
    for kind in ("crisis_locations", "places_of_safety"):
        if kind not in plan:
            continue
        for index, place in enumerate(plan[kind]):
            location = _location(ref, kind, index, place)
            resources.append(location)
            supporting.append(_reference(location))
        if not plan[kind]:
            care_plan_extensions.append(_ext(kind, []))
    if supporting:
        care_plan["supportingInfo"] = supporting

    if "coproduction" in plan or "sharing_basis" in plan:
        consent = _resource("Consent", ref, "sharing")
        consent["status"] = "active"
        consent.update(_consent_frame(patient))
        agreed_on = (plan.get("coproduction") or {}).get("agreed_on")
        if agreed_on:
            consent["dateTime"] = agreed_on
        consent["policyRule"] = {
            "text": f"lawful basis: {plan.get('sharing_basis', 'not recorded')}"
        }
        consent["extension"] = [
            _ext(key, plan[key])
            for key in ("coproduction", "sharing_basis")
            if key in plan
        ]
        resources.append(consent)

    care_plan["status"] = _STATUS_TO_FHIR[plan["status"]]
    care_plan["intent"] = "plan"
    care_plan["category"] = [
        {
            "coding": [
                {
                    "system": SNOMED,
                    "code": CRISIS_PLAN_CODE,
                    "display": CRISIS_PLAN_DISPLAY,
                }
            ]
        }
    ]
    care_plan["title"] = CRISIS_PLAN_DISPLAY
    care_plan["description"] = plan["summary"]
    care_plan["subject"] = _reference(patient)
    care_plan["author"] = _reference(organization)
    if "review_by" in plan:
        care_plan["period"] = {"end": plan["review_by"]}
    if "published_at" in plan:
        care_plan["created"] = plan["published_at"]
    activities = [
        _activity("advice_for", kind, {"advice": text}, text)
        for kind, text in (plan.get("advice_for") or {}).items()
    ]
    if "advice_for" in plan and not plan["advice_for"]:
        care_plan_extensions.append(_ext("advice_for", {}))
    for section in ACTIVITY_SECTIONS:
        if section not in plan:
            continue
        if not plan[section]:
            care_plan_extensions.append(_ext(section, []))
        for item in plan[section]:
            activities.append(_activity(section, None, item, _words(item)))
    if activities:
        care_plan["activity"] = activities
    care_plan_extensions.extend(
        _ext(key, value) for key, value in plan.items() if key not in _MAPPED_PLAN_KEYS
    )
    care_plan["extension"] = care_plan_extensions
    resources.append(care_plan)

    if "approved_by" in plan or "approved_on" in plan:
        provenance = _resource("Provenance", ref, "approval")
        provenance["target"] = [_reference(care_plan)]
        if plan.get("approved_on"):
            provenance["occurredDateTime"] = plan["approved_on"]
        provenance["recorded"] = _instant(
            plan.get("published_at") or plan.get("approved_on")
        )
        provenance["agent"] = [
            {
                "type": {"text": "lead clinician who approved the plan"},
                "who": {"display": plan.get("approved_by") or "not recorded"},
            }
        ]
        provenance["extension"] = [
            _ext(key, plan[key])
            for key in ("approved_by", "approved_on")
            if key in plan
        ]
        resources.append(provenance)

    return {
        "resourceType": "Bundle",
        "id": _id(ref, "bundle", plan["version"]),
        "meta": {"security": list(SECURITY)},
        "identifier": {"system": REF_SYSTEM, "value": f"{ref}#{plan['version']}"},
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
            for resource in resources
        ],
    }


def _consent_frame(patient: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": _reference(patient),
    }


def _instant(value: Any) -> str:
    text = str(value or "1970-01-01")
    return text if "T" in text else f"{text}T00:00:00Z"


def _words(item: Any) -> str:
    if isinstance(item, str):
        return item
    for key in ("description", "boundary", "who", "decision", "name"):
        if isinstance(item, Mapping) and item.get(key):
            return str(item[key])
    return ""


def _activity(section: str, kind: str | None, item: Any, text: str) -> dict[str, Any]:
    code = section if kind is None else f"{section}.{kind}"
    codings = [{"system": SECTION_SYSTEM, "code": code}]
    # A behaviour's SNOMED CT concept, beside our section code, so another
    # system can match it without our extensions; the words stay the source.
    concept = item.get("code") if isinstance(item, Mapping) else None
    if section == "behaviours" and snomed.display(concept):
        codings.append(snomed.coding(str(concept)))
    return {
        "detail": {
            "code": {"coding": codings},
            "status": "unknown",
            "description": text or section,
            "extension": [_ext("item", item)],
        }
    }


# --- validation --------------------------------------------------------------------


def validate_bundle(bundle: Mapping[str, Any]) -> None:
    """Raise BundleError unless the bundle is valid FHIR (fhir.resources models)."""
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    try:
        Bundle.model_validate(dict(bundle))
    except ValidationError as error:
        first = error.errors()[0]
        where = "/" + "/".join(str(part) for part in first.get("loc", ()))
        raise BundleError(where, f"not valid FHIR R4: {first.get('msg')}") from None


# --- import ------------------------------------------------------------------------


def is_bundle(value: object) -> bool:
    """Say whether a parsed JSON value is a FHIR Bundle (rather than a document)."""
    return isinstance(value, Mapping) and value.get("resourceType") == "Bundle"


def _resources(bundle: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for index, entry in enumerate(bundle.get("entry") or ()):
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if not isinstance(resource, dict):
            raise BundleError(f"/entry/{index}", "an entry without a resource")
        yield resource


def _with_snomed_code(item: Any, detail: Mapping[str, Any]) -> Any:
    """Return the behaviour with the SNOMED CT code its activity carries, if any."""
    if not isinstance(item, dict) or "code" in item:
        return item
    for coding in (detail.get("code") or {}).get("coding") or ():
        if coding.get("system") == SNOMED and snomed.display(coding.get("code")):
            return {**item, "code": str(coding["code"])}
    return item


def _place_of(location: Mapping[str, Any]) -> dict[str, Any]:
    place: dict[str, Any] = {"name": location["name"]}
    address = location.get("address") or {}
    if "text" in address:
        place["address"] = address["text"]
    if "postalCode" in address:
        place["postcode"] = address["postalCode"]
    position = location.get("position")
    if position:
        place["lat"] = float(position["latitude"])
        place["lon"] = float(position["longitude"])
    if "description" in location:
        place["notes"] = location["description"]
    place.update(_own_extensions(location))
    # Keep the document's key order: name, address, postcode, lat, lon, notes.
    order = ["name", "address", "postcode", "lat", "lon", "notes"]
    return {
        key: place[key]
        for key in sorted(
            place, key=lambda k: order.index(k) if k in order else len(order)
        )
    }


def _kind_of(location: Mapping[str, Any]) -> str:
    for concept in location.get("type") or ():
        for coding in concept.get("coding") or ():
            if coding.get("system") == PLACE_SYSTEM:
                return str(coding.get("code"))
    return ""


def document_from_bundle(bundle: Mapping[str, Any]) -> dict[str, Any]:
    """Return the response-plan/2 document one of our bundles carries.

    Raises BundleError, with a JSON pointer into the bundle, when the bundle is
    not a collection holding one Patient and one crisis-plan CarePlan.
    """
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "collection":
        raise BundleError("/type", "a plan comes as a FHIR Bundle of type collection")
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for resource in _resources(bundle):
        by_kind.setdefault(str(resource.get("resourceType")), []).append(resource)
    patients = by_kind.get("Patient", [])
    care_plans = [
        plan
        for plan in by_kind.get("CarePlan", [])
        if any(
            coding.get("code") == CRISIS_PLAN_CODE
            for concept in plan.get("category") or ()
            for coding in concept.get("coding") or ()
        )
    ]
    if len(patients) != 1:
        raise BundleError("/entry", "the bundle must hold exactly one Patient")
    if len(care_plans) != 1:
        raise BundleError(
            "/entry", "the bundle must hold exactly one CarePlan of category 736253002"
        )
    patient, care_plan = patients[0], care_plans[0]
    urls = {
        f"urn:uuid:{resource.get('id')}": resource
        for resources in by_kind.values()
        for resource in resources
    }

    person: dict[str, Any] = {}
    identifiers = {
        identifier.get("system"): identifier.get("value")
        for identifier in patient.get("identifier") or ()
    }
    if REF_SYSTEM not in identifiers:
        raise BundleError("/entry", "the Patient has no person ref identifier")
    person["ref"] = identifiers[REF_SYSTEM]
    official = next(
        (n for n in patient.get("name") or () if n.get("use") == "official"), None
    )
    if official is None:
        raise BundleError("/entry", "the Patient has no official name")
    person["given_name"] = official["given"][0]
    person["family_name"] = official["family"]
    if NHS_NUMBER_SYSTEM in identifiers:
        person["nhs_number"] = nhs_numbers.digits_of(
            str(identifiers[NHS_NUMBER_SYSTEM])
        ) or str(identifiers[NHS_NUMBER_SYSTEM])
    names = patient.get("name") or ()
    usual = next((n for n in names if n.get("use") == "usual"), None)
    if usual is not None:
        person["preferred_name"] = usual["given"][0]
    person["aliases"] = [
        n["text"] for n in patient.get("name") or () if n.get("use") == "nickname"
    ]
    if "birthDate" in patient:
        person["date_of_birth"] = patient["birthDate"]
    if "gender" in patient:
        person["sex"] = patient["gender"]
    person.update(_own_extensions(patient))
    locations = by_kind.get("Location", [])
    homes = [loc for loc in locations if _kind_of(loc) == "home"]
    if homes:
        person["address"] = _place_of(homes[0])

    organizations = by_kind.get("Organization", [])
    team_org = next(
        (
            org
            for org in organizations
            if any(i.get("system") == TEAM_SYSTEM for i in org.get("identifier") or ())
        ),
        None,
    )
    if team_org is None:
        raise BundleError("/entry", "the bundle has no Organization for the team")
    team: dict[str, Any] = {
        "code": next(
            i["value"] for i in team_org["identifier"] if i.get("system") == TEAM_SYSTEM
        ),
        "name": team_org["name"],
    }
    for telecom in team_org.get("telecom") or ():
        team[{"phone": "phone", "email": "email"}[telecom["system"]]] = telecom["value"]
    team.update(_own_extensions(team_org))

    extensions = _own_extensions(care_plan)
    status = _STATUS_FROM_FHIR.get(str(care_plan.get("status")))
    if status is None:
        raise BundleError(
            "/entry", "the CarePlan status is not draft, active or revoked"
        )
    plan: dict[str, Any] = {
        "version": extensions.pop("version"),
        "status": status,
        "summary": care_plan.get("description", ""),
    }
    if "period" in care_plan and "end" in care_plan["period"]:
        plan["review_by"] = care_plan["period"]["end"]
    if "created" in care_plan:
        plan["published_at"] = care_plan["created"]
    for activity in care_plan.get("activity") or ():
        detail = activity.get("detail") or {}
        code = next(
            (
                c.get("code")
                for c in (detail.get("code") or {}).get("coding") or ()
                if c.get("system") == SECTION_SYSTEM
            ),
            None,
        )
        item = _own_extensions(detail).get("item")
        if not code or item is None:
            raise BundleError("/entry", "a CarePlan activity is not one of ours")
        if code.startswith("advice_for."):
            plan.setdefault("advice_for", {})[code.split(".", 1)[1]] = item["advice"]
        else:
            if code == "behaviours":
                item = _with_snomed_code(item, detail)
            plan.setdefault(code, []).append(item)
    for resource in by_kind.get("Condition", []):
        plan["diagnosis"] = _own_extensions(resource)["diagnosis"]
    for resource in by_kind.get("Observation", []):
        own = _own_extensions(resource)
        if "capacity" in own:
            plan["capacity"] = own["capacity"]
    for kind in ("crisis_locations", "places_of_safety"):
        places = [_place_of(loc) for loc in locations if _kind_of(loc) == kind]
        if places:
            plan[kind] = places
    nominated = [
        _own_extensions(related)["nominated_person"]
        for related in by_kind.get("RelatedPerson", [])
    ]
    if nominated:
        plan["nominated_people"] = nominated
    for practitioner_ref in (
        member["member"]["reference"]
        for team_resource in by_kind.get("CareTeam", [])
        for member in team_resource.get("participant") or ()
    ):
        practitioner = urls.get(practitioner_ref)
        if practitioner is None:
            raise BundleError("/entry", f"{practitioner_ref} is not in the bundle")
        plan.setdefault("mentors", []).append(_own_extensions(practitioner)["mentor"])
    if by_kind.get("CareTeam") and "mentors" not in plan:
        plan["mentors"] = []
    for resource in by_kind.get("Consent", []):
        plan.update(_own_extensions(resource))
    for resource in by_kind.get("Provenance", []):
        plan.update(_own_extensions(resource))
    for resource in organizations:
        own = _own_extensions(resource)
        if "gp_practice" in own:
            plan["gp_practice"] = own["gp_practice"]
    plan.update(extensions)
    return {
        "format": FORMAT,
        "team": team,
        "person": person,
        "plan": plan,
    }
