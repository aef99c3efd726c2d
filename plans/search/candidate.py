"""Candidates: the compact, searchable view of one person with a live plan."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from plans import document as plan_document
from plans.clock import iso_date
from plans.search.text import STOP_WORDS, TextFeatures, stem, text_features, words


@dataclass(frozen=True)
class Place:
    """A point a person is known at: home or a crisis location."""

    name: str
    lat: float
    lon: float
    kind: str  # "home" or "crisis"


@dataclass(frozen=True)
class NameForm:
    """One way the person is named: their name, preferred name or an alias."""

    kind: str  # "name", "preferred" or "alias"
    display: str
    tokens: tuple[str, ...]
    displays: tuple[str, ...]


# Street words that say nothing about which street ("57 Church Street").
GENERIC_STREET_STEMS = frozenset(
    "street road lane avenue close crescent drive terrace place way court gardens "
    "grove square hill park walk row view green".split()
)


@dataclass(frozen=True)
class AddressFeatures:
    """What search needs from a home address: number, street and town stems."""

    number: str | None
    street: frozenset[str]
    town: frozenset[str]


@dataclass(frozen=True)
class Candidate:
    """A person with a live plan, as the ranker sees them."""

    ref: str
    given_name: str
    family_name: str
    team_name: str
    preferred_name: str | None = None
    aliases: tuple[str, ...] = ()
    date_of_birth: dt.date | None = None
    sex: str | None = None
    description: str = ""
    behaviours: tuple[str, ...] = ()
    triggers: tuple[str, ...] = ()
    places: tuple[Place, ...] = ()
    town: str | None = None
    team_code: str = ""
    # The home address as written ("57 Church Street, Leeds") and its postcode
    # folded without spaces ("ls11ab"): searchable, never shown in results.
    address: str = ""
    postcode: str | None = None
    review_by: dt.date | None = None
    person_id: int | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        """Return the person's full name as recorded."""
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: dt.date) -> int | None:
        """Return the person's age in whole years on `day`."""
        if self.date_of_birth is None:
            return None
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    def review_overdue(self, today: dt.date) -> bool:
        """Say whether the plan is past its review date."""
        return self.review_by is not None and self.review_by < today

    @cached_property
    def name_forms(self) -> tuple[NameForm, ...]:
        """Return every way the person is named, their recorded name first."""
        forms = [_form("name", f"{self.given_name} {self.family_name}")]
        if self.preferred_name:
            forms.append(
                _form("preferred", f"{self.preferred_name} {self.family_name}")
            )
        forms.extend(_form("alias", alias) for alias in self.aliases)
        return tuple(form for form in forms if form.tokens)

    @cached_property
    def description_features(self) -> TextFeatures:
        """Return the stems and concepts of the physical description."""
        stored = self._stored_features()
        if stored is not None:
            return _text_of_row(stored["de"])
        return text_features(self.description)

    @cached_property
    def behaviour_features(self) -> tuple[tuple[str, TextFeatures], ...]:
        """Return each behaviour (with its triggers) and its stems and concepts."""
        stored = self._stored_features()
        if stored is not None:
            return tuple(
                (behaviour, _text_of_row(features))
                for behaviour, features in zip(
                    self.behaviours, stored["b"], strict=True
                )
            )
        triggers = self.triggers + ("",) * (len(self.behaviours) - len(self.triggers))
        return tuple(
            (behaviour, _behaviour_features(behaviour, trigger))
            for behaviour, trigger in zip(self.behaviours, triggers, strict=False)
        )

    @cached_property
    def place_features(self) -> tuple[tuple[str, TextFeatures], ...]:
        """Return each crisis location's name and its stems and concepts."""
        crisis = [place.name for place in self.places if place.kind == "crisis"]
        stored = self._stored_features()
        if stored is not None:
            return tuple(
                (name, _text_of_row(features))
                for name, features in zip(crisis, stored["pl"], strict=True)
            )
        return tuple((name, text_features(name)) for name in crisis)

    def _stored_features(self) -> dict[str, Any] | None:
        """Return the features read from the search row, if it had them."""
        stored: dict[str, Any] | None = self.__dict__.get("_stored")
        return stored

    def text_mentions(self, terms: frozenset[str]) -> bool:
        """Say whether the description, a behaviour or a crisis location has any
        of these stems or concepts.

        Most candidates of a name search share no word with it: answered from
        the stored lists, their text features are never built.
        """
        stored = self._stored_features()
        if stored is not None:
            texts: list[list[Any]] = [stored["de"], *stored["b"], *stored["pl"]]
            return any(
                not terms.isdisjoint(sequence) or not terms.isdisjoint(concepts)
                for sequence, concepts in texts
            )
        every = [
            self.description_features,
            *(features for _, features in self.behaviour_features),
            *(features for _, features in self.place_features),
        ]
        return any(
            not terms.isdisjoint(features.stems)
            or not terms.isdisjoint(features.concepts)
            for features in every
        )

    @cached_property
    def address_features(self) -> AddressFeatures:
        """Return the house number, street stems and town stems of the home."""
        street = self.address.split(",", 1)[0]
        parts = words(street)
        number = parts[0] if parts and parts[0].isdigit() else None
        street_stems = frozenset(
            stem(word)
            for word in parts
            if not word.isdigit() and word not in STOP_WORDS
        )
        town_stems = frozenset(
            stem(word) for word in words(self.town or "") if word not in STOP_WORDS
        )
        return AddressFeatures(number, street_stems, town_stems)

    def to_row(self) -> dict[str, Any]:
        """Return the candidate as a compact JSON-ready dict (the search row)."""
        row: dict[str, Any] = {
            "r": self.ref,
            "g": self.given_name,
            "f": self.family_name,
            "t": self.team_name,
            "tc": self.team_code,
        }
        optional = {
            "p": self.preferred_name,
            "a": list(self.aliases),
            "d": self.date_of_birth.isoformat() if self.date_of_birth else None,
            "s": self.sex,
            "de": self.description,
            "b": list(self.behaviours),
            "tr": list(self.triggers),
            "pl": [[p.name, p.lat, p.lon, p.kind] for p in self.places],
            "to": self.town,
            "rv": self.review_by.isoformat() if self.review_by else None,
            "ad": self.address,
            "pc": self.postcode,
        }
        row.update({key: value for key, value in optional.items() if value})
        row["x"] = self._features_row()
        return row

    def _features_row(self) -> dict[str, Any]:
        """Return the text features worked out once, at index time, for the row.

        Folding, stemming and finding synonym phrases in every candidate's plan
        text was most of a query's ranking cost; stored beside the text, a query
        only reads them back.
        """
        home = self.address_features
        return {
            "de": _text_row(self.description_features),
            "b": [_text_row(features) for _, features in self.behaviour_features],
            "pl": [_text_row(features) for _, features in self.place_features],
            "ad": [home.number, sorted(home.street), sorted(home.town)],
        }

    def _read_features(self, row: dict[str, Any]) -> None:
        """Keep a row's stored features (see _features_row) to read when asked.

        Text features are built from the stored lists only when the ranker asks
        for them; `text_mentions` answers from the lists directly.
        """
        stored = row.get("x")
        if not stored:
            return
        crisis = sum(1 for place in self.places if place.kind == "crisis")
        if len(stored["b"]) != len(self.behaviours) or len(stored["pl"]) != crisis:
            return  # a row from another version of the code: work them out again
        cache = self.__dict__
        cache["_stored"] = stored
        number, street, town = stored["ad"]
        cache["address_features"] = AddressFeatures(
            number, frozenset(street), frozenset(town)
        )

    @classmethod
    def from_row(cls, row: dict[str, Any], person_id: int | None = None) -> Candidate:
        """Rebuild a candidate from its compact dict, with its stored features."""
        candidate = cls(
            ref=row["r"],
            given_name=row["g"],
            family_name=row["f"],
            team_name=row["t"],
            team_code=row.get("tc", ""),
            preferred_name=row.get("p"),
            aliases=tuple(row.get("a", ())),
            date_of_birth=iso_date(row.get("d")),
            sex=row.get("s"),
            description=row.get("de", ""),
            behaviours=tuple(row.get("b", ())),
            triggers=tuple(row.get("tr", ())),
            places=tuple(
                Place(name, float(lat), float(lon), kind)
                for name, lat, lon, kind in row.get("pl", ())
            ),
            town=row.get("to"),
            review_by=iso_date(row.get("rv")),
            address=row.get("ad", ""),
            postcode=row.get("pc"),
            person_id=person_id,
        )
        candidate._read_features(row)
        return candidate


def _text_row(features: TextFeatures) -> list[Any]:
    return [list(features.sequence), sorted(features.concepts)]


def _text_of_row(row: list[Any]) -> TextFeatures:
    sequence, concepts = row
    return TextFeatures(frozenset(sequence), frozenset(concepts), tuple(sequence))


@lru_cache(maxsize=65536)
def _behaviour_features(behaviour: str, trigger: str) -> TextFeatures:
    return text_features(f"{behaviour}. {trigger}")


@lru_cache(maxsize=65536)
def _form(kind: str, display: str) -> NameForm:
    displays = tuple(part for part in display.replace("-", " ").split() if words(part))
    tokens = tuple("".join(words(part)) for part in displays)
    return NameForm(kind, display, tokens, displays)


def town_of(address: str | None) -> str | None:
    """Return the town of an address, as far as its text says."""
    text = address or ""
    if "," not in text:
        return None
    return text.rsplit(",", 1)[1].strip() or None


def _place(place: plan_document.Place, kind: str) -> Place:
    name = place.name or ("home" if kind == "home" else "crisis location")
    return Place(name, float(place.lat or 0.0), float(place.lon or 0.0), kind)


def candidate_from_document(
    document: Mapping[str, Any], *, person_id: int | None = None
) -> Candidate:
    """Build a candidate from a response-plan document (person, plan and team)."""
    person = plan_document.person_of(document)
    team = plan_document.team_of(document)
    # Search ranks by home and crisis locations; places of safety are not the
    # person's, so a place of safety must not make a stranger's plan "near".
    places = [
        _place(place, "home" if kind == "home" else "crisis")
        for kind, place in plan_document.places(document)
        if kind != "places_of_safety"
    ]
    behaviours = plan_document.behaviours(document)
    address = person.address or plan_document.Place()
    return Candidate(
        ref=person.ref,
        given_name=person.given_name,
        family_name=person.family_name,
        team_name=team.name or team.code,
        team_code=team.code,
        preferred_name=person.preferred_name or None,
        aliases=person.aliases,
        date_of_birth=person.date_of_birth,
        sex=person.sex,
        description=person.description or "",
        behaviours=tuple(item.description for item in behaviours),
        triggers=tuple(item.triggers or "" for item in behaviours),
        places=tuple(places),
        town=town_of(address.address),
        review_by=plan_document.review_by(document),
        address=address.address or "",
        postcode=postcode_of(address.postcode, address.address),
        person_id=person_id,
    )


_POSTCODE = re.compile(r"^([a-z]{1,2}\d[a-z\d]?)(\d[a-z]{2})?$")


def postcode_of(postcode: str | None, address: str | None) -> str | None:
    """Return an address's postcode folded without spaces, from its field or text."""
    for value in (postcode, (address or "").rsplit(",", 1)[-1]):
        if value:
            compact = "".join(words(str(value)))
            if _POSTCODE.match(compact):
                return compact
    return None
