"""Rank candidates against a parsed query: a pure function with reasons in words."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from plans.search.candidate import GENERIC_STREET_STEMS, Candidate, NameForm, Place
from plans.search.geo import describe_distance, haversine_m
from plans.search.names import NO_MATCH, TOWN_WORDS, TokenMatch, match_token
from plans.search.query import ParsedQuery
from plans.search.text import SETTING_CONCEPTS, TextFeatures

# Weights. A typed word that matches a name word exactly is worth 1; the tiers of
# name matching are in plans.search.names. Other clues are scaled against it.
ALIAS_WEIGHT = 0.99
FULL_NAME_BONUS = 0.25  # two or more words of one name matched together
PHRASE_AS_NAME = 0.5  # "car park" read as the names "Carl Parker" counts for half
VOCABULARY_AS_NAME = 0.4
ACTION_CONCEPT = 1.0
SETTING_CONCEPT = 0.25
OTHER_BEHAVIOUR = 0.6  # a clue found in another behaviour than the best one
SYNONYM_ONLY = 0.85  # matched through a synonym, not the word typed
DESCRIPTION_CONCEPT = 1.0
PLACE_CONCEPT = 0.6
BEHAVIOUR_WORD = 0.5
BEHAVIOUR_PAIR = 0.8
DESCRIPTION_WORD = 0.6
PLACE_WORD = 0.4
DOB_FULL = 2.0
DOB_SWAPPED = 1.5
DOB_NEAR = 1.0
DOB_YEAR_MONTH = 1.2
DOB_YEAR = 0.8
DOB_YEAR_ONLY_OF_FULL = 0.3
AGE_MATCH = 0.3
AGE_CLOSE = 0.12
AGE_MISMATCH = -0.2
SEX_MATCH = 0.3
SEX_MISMATCH = -0.4
GEO_WEIGHT_NAMES = 0.1
GEO_WEIGHT_SOFT = 0.6
GEO_SCALE_M = 1000.0
TOWN_WORD = 0.5  # the town, however many words its name has
TOWN_AS_NAME = 0.5
PLACE_FULL = 0.6  # every word of a crisis location's name typed
STREET_WORD = 0.2  # below a setting word: "station" is rarely Station Road
ADDRESS_FULL = 1.6  # house number and street together
POSTCODE_FULL = 2.0
POSTCODE_AREA = 0.5
AREA_WEIGHT = 0.3  # the responder's team area, when there is no position
AREA_SCALE_M = 5_000.0
AREA_RADIUS_M = 15_000.0

# Match strength (see _strength).
STRONG_NAME_QUALITY = 0.8
SURE_NAME_QUALITY = 0.9
STRONG_NEAR_M = 1_000.0
POSSIBLE_NEAR_M = 3_000.0
STRONG_MARGIN = 1.0


@dataclass(frozen=True)
class Scored:
    """A candidate with its score, the reasons for it and its distance."""

    candidate: Candidate
    score: float
    reasons: tuple[str, ...]
    distance_m: float | None = None
    # "strong", "possible" or "weak": how surely the clues pick this person.
    match: str = "weak"
    evidence: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class _Unit:
    """A piece of the query scored as one: a synonym phrase or a single word."""

    positions: tuple[int, ...]
    stems: tuple[str, ...]
    concepts: frozenset[str]
    # Stem pairs this unit forms with the words typed next to it.
    pairs: frozenset[tuple[str, str]]


def _units(query: ParsedQuery) -> list[_Unit]:
    spans = [(span.start, span.end, span.concepts) for span in query.concept_spans]
    covered = {i for start, end, _ in spans for i in range(start, end)}
    spans += [
        (i, i + 1, frozenset()) for i in range(len(query.stems)) if i not in covered
    ]
    units: list[_Unit] = []
    for start, end, concepts in sorted(spans, key=lambda span: span[0]):
        stems = query.stems[start:end]
        neighbours = query.stems[max(0, start - 1) : start] + query.stems[end : end + 1]
        pairs = frozenset(
            (a, b) if a <= b else (b, a) for a in stems for b in neighbours if a != b
        )
        units.append(_Unit(tuple(range(start, end)), stems, concepts, pairs))
    return units


@dataclass
class _Context:
    """What every candidate of one query is scored against, worked out once.

    Name forms repeat across candidates (a common surname, a given name), so how
    the typed words pair with a form's words is worked out once per distinct form
    per query (`forms`), not once per candidate.
    """

    units: list[_Unit]
    terms: frozenset[str]  # every stem and concept of the units
    stems: frozenset[str]  # every stem of the units
    forms: dict[tuple[str, str], _FormScores] = field(default_factory=dict)
    # Each unit's score against one kind of plan text, by the text's stems in
    # order (which decide its concepts and pairs): plans share many texts.
    texts: dict[tuple[str, tuple[str, ...]], tuple[float, ...]] = field(
        default_factory=dict
    )


@dataclass(frozen=True)
class _FormScores:
    """How the typed words score against one name form, whoever bears it."""

    matches: list[tuple[TokenMatch, int]]
    # Per unit: its name score, and whether it is a single typed word.
    unit_scores: tuple[float, ...]
    single: tuple[bool, ...]
    any_score: bool


def _context(query: ParsedQuery) -> _Context:
    units = _units(query)
    return _Context(
        units, _terms(units), frozenset(s for unit in units for s in unit.stems)
    )


def _form_scores(query: ParsedQuery, context: _Context, form: NameForm) -> _FormScores:
    key = (form.kind, form.display)
    found = context.forms.get(key)
    if found is not None:
        return found
    weight = ALIAS_WEIGHT if form.kind == "alias" else 1.0
    matches = _assign(query.words, form)
    unit_scores = tuple(
        weight
        * sum(_name_quality(query, unit, i, matches[i][0]) for i in unit.positions)
        for unit in context.units
    )
    found = _FormScores(
        matches,
        unit_scores,
        tuple(len(unit.positions) == 1 for unit in context.units),
        any(score > 0 for score in unit_scores),
    )
    context.forms[key] = found
    return found


def _concept_weight(concepts: frozenset[str]) -> float:
    if not concepts:
        return 0.0
    return SETTING_CONCEPT if concepts <= SETTING_CONCEPTS else ACTION_CONCEPT


def _unit_against(
    unit: _Unit, features: TextFeatures, word_weight: float, pair_weight: float
) -> float:
    if features.stems.isdisjoint(unit.stems) and features.concepts.isdisjoint(
        unit.concepts
    ):
        return 0.0  # most units against most texts: nothing in common
    hits = sum(1 for word_stem in unit.stems if word_stem in features.stems)
    concept = _concept_weight(unit.concepts & features.concepts)
    if not hits:
        # "denim jacket" is a jacket, but "puffer jacket" is what was typed.
        concept *= SYNONYM_ONLY
    word = word_weight * hits / len(unit.stems)
    if unit.concepts:
        # A setting word counts as a setting however it is found.
        return max(concept, min(word, _concept_weight(unit.concepts)))
    if hits and unit.pairs & features.pairs:
        # Typed together and written together ("green rucksack"): one clue.
        word = max(word, pair_weight)
    return word


def _text_scores(
    context: _Context, kind: str, features: TextFeatures
) -> tuple[float, ...]:
    """Return each unit's score against one behaviour, description or place."""
    key = (kind, features.sequence)
    found = context.texts.get(key)
    if found is None:
        if kind == "behaviour":
            found = tuple(
                _unit_against(unit, features, BEHAVIOUR_WORD, BEHAVIOUR_PAIR)
                for unit in context.units
            )
        elif kind == "description":
            found = tuple(_description_score(unit, features) for unit in context.units)
        else:
            found = tuple(_place_score(unit, features) for unit in context.units)
        context.texts[key] = found
    return found


def _description_score(unit: _Unit, description: TextFeatures) -> float:
    # A description has no settings: "medium height" is not a height to jump.
    shared = (unit.concepts & description.concepts) - SETTING_CONCEPTS
    if shared:
        score = DESCRIPTION_CONCEPT
        if not any(word_stem in description.stems for word_stem in unit.stems):
            score *= SYNONYM_ONLY
        return score
    return _unit_against(unit, description, DESCRIPTION_WORD, DESCRIPTION_CONCEPT)


def _place_score(unit: _Unit, features: TextFeatures) -> float:
    score = PLACE_CONCEPT * _concept_weight(unit.concepts & features.concepts)
    return score or _unit_against(unit, features, PLACE_WORD, PLACE_WORD)


def _text_units(
    context: _Context, candidate: Candidate, mentioned: bool
) -> list[tuple[float, str]]:
    """Score each query unit against the candidate's behaviours, looks and places.

    Each unit's score comes with the kind of plan text it matched ("behaviour",
    "description", "place", "street", "town"), never the text itself: results
    are shown before any access basis is given (security finding 7).
    `mentioned` says whether the plan text shares any stem or concept with the
    query (`Candidate.text_mentions`); when it does not, only the home's town
    and street can score, and the text features are never built.
    """
    units = context.units
    scores: list[tuple[float, str]] = [(0.0, "")] * len(units)
    behaviours = candidate.behaviour_features if mentioned else ()
    if behaviours:
        table = [
            _text_scores(context, "behaviour", features)
            for _behaviour, features in behaviours
        ]
        # The behaviour that explains most of the query is the one meant; clues
        # scattered over other behaviours count for less.
        best = max(range(len(behaviours)), key=lambda b: sum(table[b]))
        for u in range(len(units)):
            if table[best][u] > 0:
                scores[u] = (table[best][u], "behaviour")
            else:
                other = max(range(len(behaviours)), key=lambda b: table[b][u])
                if table[other][u] > 0:
                    scores[u] = (OTHER_BEHAVIOUR * table[other][u], "behaviour")
    home = candidate.address_features
    if mentioned:
        _description_and_places(context, candidate, scores)
    typed_stems = context.stems
    if typed_stems.isdisjoint(home.town) and typed_stems.isdisjoint(home.street):
        return scores  # most candidates: no typed word in the home's town or street
    # "Newcastle upon Tyne" is one town: its words share one town score.
    town_units = max(
        1, sum(1 for unit in units if any(stem in home.town for stem in unit.stems))
    )
    for u, unit in enumerate(units):
        hits = sum(1 for word_stem in unit.stems if word_stem in home.town)
        share = TOWN_WORD * hits / len(unit.stems) / town_units
        if hits and scores[u][0] < share:
            scores[u] = (share, "town")
        hits = sum(1 for word_stem in unit.stems if word_stem in home.street)
        if hits and scores[u][0] < STREET_WORD:
            scores[u] = (STREET_WORD * hits / len(unit.stems), "street")
    return scores


def _description_and_places(
    context: _Context, candidate: Candidate, scores: list[tuple[float, str]]
) -> None:
    """Raise each unit's score where the description or a crisis location beats it."""
    description = _text_scores(context, "description", candidate.description_features)
    places = [
        _text_scores(context, "place", features)
        for _name, features in candidate.place_features
    ]
    for u in range(len(context.units)):
        score = description[u]
        if score > scores[u][0]:
            scores[u] = (score, "description")
        for place in places:
            score = place[u]
            if score > scores[u][0]:
                scores[u] = (score, "place")


def _assign(
    query_words: tuple[str, ...], form: NameForm
) -> list[tuple[TokenMatch, int]]:
    """Pair typed words with name words, best pairs first, each used once."""
    pairs: list[tuple[float, int, int, TokenMatch]] = []
    for i, typed in enumerate(query_words):
        for j, name in enumerate(form.tokens):
            match = match_token(typed, name, form.displays[j])
            if match.quality > 0:
                pairs.append((match.quality, i, j, match))
    pairs.sort(key=lambda pair: (-pair[0], pair[1], pair[2]))
    result: list[tuple[TokenMatch, int]] = [(NO_MATCH, -1)] * len(query_words)
    used: set[int] = set()
    for _quality, i, j, match in pairs:
        if result[i][1] == -1 and j not in used:
            result[i] = (match, j)
            used.add(j)
    return result


def _name_reasons(
    form: NameForm, query: ParsedQuery, matches: list[tuple[TokenMatch, int]]
) -> list[str]:
    matched = [(i, match, j) for i, (match, j) in enumerate(matches) if j >= 0]
    if not matched:
        return []
    # Aliases and preferred names are plan text: say which kind of name the
    # typed words matched, in the typed words, not the recorded name.
    label = {"name": "name", "preferred": "preferred name", "alias": "an alias"}[
        form.kind
    ]
    typed = " ".join(query.words[i] for i, _match, _j in matched)
    reasons = [f"{label} (you typed “{typed}”)"]
    if form.kind == "name":
        for i, match, _j in matched:
            if match.kind != "exact":
                reasons.append(f"{query.words[i].capitalize()}: {match.reason}")
    return reasons


def _name_quality(query: ParsedQuery, unit: _Unit, i: int, match: TokenMatch) -> float:
    quality = match.quality * query.name_like[i]
    if match.kind != "exact" and query.words[i] in TOWN_WORDS:
        # "missing hull" means the town, not someone called Hill.
        quality *= TOWN_AS_NAME
    if unit.concepts and match.kind != "exact" and len(query.words) > 1:
        # Among other behaviour words, a word we know as one ("park", "caller")
        # is a loose match for a name only by accident.
        quality *= VOCABULARY_AS_NAME
    if len(unit.positions) > 1:
        quality *= PHRASE_AS_NAME
    return quality


@dataclass
class _Evidence:
    """What singled a candidate out, for the match strength."""

    name_qualities: tuple[float, ...] = ()
    name_kind: str = ""
    text_kinds: frozenset[str] = frozenset()
    dob: float = 0.0
    dob_contradicts: bool = False
    address_full: bool = False
    place_full: bool = False
    unexplained_words: int = 0  # typed words matching nothing of this person
    postcode: str = ""  # "full", "area", "wrong" or ""
    near_m: float | None = None
    area_m: float | None = None
    age_contradicts: bool = False
    sex_contradicts: bool = False


_TEXT_REASONS = {
    "behaviour": "a crisis behaviour",
    "description": "the description",
    "place": "a crisis location",
    "street": "the home street",
    "town": "the town",
}


def _words_score(
    query: ParsedQuery,
    context: _Context,
    candidate: Candidate,
    evidence: _Evidence,
    mentioned: bool,
) -> tuple[float, float, list[str]]:
    """Return the score of the typed words, the part of it not from names, reasons."""
    units = context.units
    text = _text_units(context, candidate, mentioned)
    best_total = sum(score for score, _ in text)
    best_text = best_total
    best_won = [False] * len(units)
    best_form: NameForm | None = None
    best_matches: list[tuple[TokenMatch, int]] = []
    for form in candidate.name_forms:
        scores = _form_scores(query, context, form)
        if not scores.any_score:
            continue  # the text alone, which is where the best total starts
        total = text_total = 0.0
        won = [False] * len(units)
        whole_name_words = 0
        for u, name_score in enumerate(scores.unit_scores):
            text_score = text[u][0]
            if name_score >= text_score and name_score > 0:
                total += name_score
                won[u] = True
                if scores.single[u]:
                    whole_name_words += 1
            else:
                total += text_score
                text_total += text_score
        if whole_name_words >= 2:
            total += FULL_NAME_BONUS
        if total > best_total:
            best_total, best_text, best_won = total, text_total, won
            best_form, best_matches = form, scores.matches
    reasons: list[str] = []
    if best_form is not None:
        name_positions = {
            i for u, unit in enumerate(units) if best_won[u] for i in unit.positions
        }
        kept = [
            (match, j) if i in name_positions else (NO_MATCH, -1)
            for i, (match, j) in enumerate(best_matches)
        ]
        reasons = _name_reasons(best_form, query, kept)
        evidence.name_qualities = tuple(
            match.quality * query.name_like[i]
            for i, (match, j) in enumerate(kept)
            if j >= 0
        )
        evidence.name_kind = best_form.kind
    typed_by_kind: dict[str, list[str]] = {}
    for u, (unit, (score, kind)) in enumerate(zip(units, text, strict=True)):
        if score > 0 and not best_won[u]:
            typed_by_kind.setdefault(kind, []).extend(
                query.words[i] for i in unit.positions
            )
    evidence.text_kinds = frozenset(typed_by_kind)
    number = candidate.address_features.number
    evidence.unexplained_words = sum(
        1
        for u, (unit, (score, _kind)) in enumerate(zip(units, text, strict=True))
        if score <= 0 and not best_won[u]
        for i in unit.positions
        if query.words[i] != number
    )
    for kind, typed in typed_by_kind.items():
        reasons.append(f"{_TEXT_REASONS[kind]} (you typed “{' '.join(typed)}”)")
    return best_total, best_text, reasons


def _date_of_birth_score(query: ParsedQuery, candidate: Candidate) -> tuple[float, str]:
    """Score the typed date of birth; reasons say how it matched, not the date."""
    wanted, born = query.date_of_birth, candidate.date_of_birth
    if wanted is None or born is None:
        return 0.0, ""
    if wanted.day and wanted.month and wanted.year:
        if (wanted.year, wanted.month, wanted.day) == (born.year, born.month, born.day):
            return DOB_FULL, "the date of birth typed"
        if wanted.swappable and (wanted.year, wanted.day, wanted.month) == (
            born.year,
            born.month,
            born.day,
        ):
            return DOB_SWAPPED, "the date of birth typed, day and month swapped"
        if (wanted.month, wanted.day) == (born.month, born.day) and abs(
            wanted.year - born.year
        ) in (1, 10):
            return DOB_NEAR, "the day and month of birth typed (not the year)"
        if wanted.year == born.year:
            return DOB_YEAR_ONLY_OF_FULL, "the year of birth typed (not the day)"
        return 0.0, ""
    if wanted.year and wanted.year != born.year:
        return 0.0, ""
    if wanted.month and wanted.month != born.month:
        return 0.0, ""
    if wanted.month:
        return DOB_YEAR_MONTH, "the month and year of birth typed"
    return DOB_YEAR, "the year of birth typed"


def _age_score(query: ParsedQuery, candidate: Candidate, today: dt.date) -> float:
    if query.age is None:
        return 0.0
    age = candidate.age_on(today)
    if age is None:
        return 0.0
    if query.age.low <= age <= query.age.high:
        return AGE_MATCH
    if query.age.low - 2 <= age <= query.age.high + 2:
        return AGE_CLOSE
    return AGE_MISMATCH


def _sex_score(query: ParsedQuery, candidate: Candidate) -> float:
    if query.sex is None or candidate.sex not in ("male", "female"):
        return 0.0
    return SEX_MATCH if candidate.sex == query.sex else SEX_MISMATCH


def nearest_place(
    candidate: Candidate, lat: float, lon: float
) -> tuple[Place, float] | None:
    """Return the candidate's place nearest a point and its distance in metres."""
    best: tuple[Place, float] | None = None
    for place in candidate.places:
        metres = haversine_m(lat, lon, place.lat, place.lon)
        if best is None or metres < best[1]:
            best = (place, metres)
    return best


def _place_reason(place: Place, metres: float) -> str:
    # Where a person lives or goes in crisis is plan text: say how far, not what.
    distance = describe_distance(metres)
    if place.kind == "home":
        return f"a place in the plan {distance} away"
    return f"a crisis location {distance} away"


def score_candidate(
    query: ParsedQuery, candidate: Candidate, *, today: dt.date
) -> Scored | None:
    """Score one candidate; None when it matches none of the clues given."""
    return _score(query, _context(query), candidate, today)


def _terms(units: list[_Unit]) -> frozenset[str]:
    """Return every stem and concept of the query's units."""
    return frozenset(term for unit in units for term in (*unit.stems, *unit.concepts))


def _address_score(
    query: ParsedQuery, candidate: Candidate, evidence: _Evidence, mentioned: bool
) -> tuple[float, str]:
    """Score a typed house number with its street, and a typed postcode."""
    score, reasons = 0.0, []
    home = candidate.address_features
    if home.number and home.number in query.words:
        specific = (home.street - GENERIC_STREET_STEMS) or home.street
        typed = set(query.stems)
        if specific <= typed:
            evidence.address_full = True
            score += ADDRESS_FULL
            reasons.append("the home address typed")
    typed_stems = set(query.stems)
    # A crisis location typed whole shares its words with the query: with no
    # word in common (not `mentioned`), none was.
    for _name, features in candidate.place_features if mentioned else ():
        own_words = features.stems - home.town
        # Two words at least: "Sheffield station" less its town is any station.
        if len(own_words) >= 2 and own_words <= typed_stems:
            # "Union Square car park" typed whole: an exact place, not fuzzy words.
            evidence.place_full = True
            score += PLACE_FULL
            break
    if query.postcode:
        own = candidate.postcode
        if own is None:
            pass
        elif own == query.postcode:
            evidence.postcode = "full"
            score += POSTCODE_FULL
            reasons.append("the postcode typed")
        elif len(query.postcode) <= 4 and own[:-3] == query.postcode:
            evidence.postcode = "area"
            score += POSTCODE_AREA
            reasons.append("the postcode area typed")
        elif own[:-3] == query.postcode[:-3]:
            evidence.postcode = "area"
            score += POSTCODE_AREA
            reasons.append("the postcode area typed (not the full postcode)")
        else:
            evidence.postcode = "wrong"
    return score, "; ".join(reasons)


def _score(
    query: ParsedQuery, context: _Context, candidate: Candidate, today: dt.date
) -> Scored | None:
    reasons: list[str] = []
    evidence = _Evidence()
    words_total = soft_total = 0.0
    terms = context.terms
    mentioned = bool(terms) and candidate.text_mentions(terms)
    if query.words:
        words_total, soft_total, word_reasons = _words_score(
            query, context, candidate, evidence, mentioned
        )
        reasons.extend(word_reasons)
    dob, dob_reason = _date_of_birth_score(query, candidate)
    evidence.dob = dob
    evidence.dob_contradicts = (
        query.date_of_birth is not None
        and candidate.date_of_birth is not None
        and dob <= DOB_YEAR_ONLY_OF_FULL
    )
    if dob_reason:
        reasons.append(dob_reason)
    address, address_reason = _address_score(query, candidate, evidence, mentioned)
    if address_reason:
        reasons.append(address_reason)
    age = _age_score(query, candidate, today)
    evidence.age_contradicts = age < 0
    if age > 0 and query.age is not None:
        reasons.append(f"age {candidate.age_on(today)} ({query.age.label})")
    sex = _sex_score(query, candidate)
    evidence.sex_contradicts = sex < 0

    if query.words or query.date_of_birth or query.postcode:
        if words_total <= 0 and dob <= 0 and address <= 0:
            return None
    elif query.age or query.sex:
        if age < 0 or sex < 0 or age + sex <= 0:
            return None
    elif not query.has_location:
        return None

    score = words_total + dob + age + sex + address
    distance: float | None = None
    if query.lat is not None and query.lon is not None:
        nearest = nearest_place(candidate, query.lat, query.lon)
        if nearest is not None:
            place, distance = nearest
            # Names identify; behaviours and looks only narrow down, so the
            # softer the evidence, the more being near counts.
            hard = words_total - soft_total + dob + address
            soft = 1.0 if score <= 0 else min(1.0, max(0.0, 1.0 - hard / score))
            if query.words:
                # A single loose word ("brown" in "brown hair") is weak evidence;
                # nearness should not lift it over a name.
                soft *= min(1.0, soft_total / ACTION_CONCEPT)
            weight = GEO_WEIGHT_NAMES + (GEO_WEIGHT_SOFT - GEO_WEIGHT_NAMES) * soft
            score += weight / (1.0 + distance / GEO_SCALE_M)
            evidence.near_m = distance
            reasons.append(_place_reason(place, distance))
    elif query.area_lat is not None and query.area_lon is not None:
        nearest = nearest_place(candidate, query.area_lat, query.area_lon)
        if nearest is not None:
            evidence.area_m = nearest[1]
            # The team's area is a prior, not a sighting: it orders otherwise
            # equal people and never outweighs a clue typed.
            score += AREA_WEIGHT / (1.0 + nearest[1] / AREA_SCALE_M)
            if nearest[1] <= AREA_RADIUS_M:
                reasons.append("in your team's area")
    match = _strength(evidence)
    return Scored(
        candidate, score, tuple(dict.fromkeys(reasons)), distance, match, evidence
    )


def _strength(evidence: _Evidence) -> str:
    """Say how surely the evidence picks this person: strong, possible or weak."""
    contradicted = (
        evidence.age_contradicts
        or evidence.sex_contradicts
        or evidence.dob_contradicts
        or evidence.postcode == "wrong"
    )
    qualities = evidence.name_qualities
    full_name = len(qualities) >= 2 and min(qualities) >= STRONG_NAME_QUALITY
    one_name = bool(qualities) and max(qualities) >= SURE_NAME_QUALITY
    place = (
        evidence.address_full
        or evidence.postcode in ("full", "area")
        or bool(evidence.text_kinds & {"town", "street", "place"})
        or (evidence.near_m is not None and evidence.near_m <= STRONG_NEAR_M)
    )
    dob_full = evidence.dob >= DOB_NEAR
    dob_part = evidence.dob >= DOB_YEAR
    clue = bool(evidence.text_kinds & {"behaviour", "description"})
    if not contradicted and not evidence.unexplained_words:
        # "Jonathan Smithers 3/4/87" is not Jonathan Smith born that day: a
        # typed word nothing explains is a doubt, never strong.
        if full_name and dob_part:
            return "strong"
        if full_name and place and min(qualities) >= SURE_NAME_QUALITY:
            return "strong"
        if one_name and dob_full and len(qualities) == 1:
            return "strong"
    near = (evidence.near_m is not None and evidence.near_m <= POSSIBLE_NEAR_M) or (
        evidence.area_m is not None and evidence.area_m <= AREA_RADIUS_M
    )
    if (
        full_name
        or (one_name and (dob_part or place or near))
        or evidence.address_full
        or evidence.postcode == "full"
        or dob_full
        or (clue and (place or near))
    ):
        return "possible"
    return "weak"


def rank(
    query: ParsedQuery,
    candidates: Sequence[Candidate],
    *,
    today: dt.date,
    limit: int | None = None,
) -> list[Scored]:
    """Rank candidates for a query, best first, dropping those matching no clue."""
    context = _context(query)
    scored = [
        result
        for candidate in candidates
        if (result := _score(query, context, candidate, today)) is not None
    ]
    scored.sort(
        key=lambda item: (
            -round(item.score, 9),
            item.distance_m if item.distance_m is not None else float("inf"),
            item.candidate.name,
            item.candidate.ref,
        )
    )
    return label_matches(scored) if limit is None else label_matches(scored)[:limit]


def label_matches(ranked: list[Scored]) -> list[Scored]:
    """Keep `strong` only where one person is singled out, first and clearly.

    Two people who both look strong (two Jon Smiths born in 1987) are each only
    possible: the responder must tell them apart, not the search.
    """
    strong = [i for i, item in enumerate(ranked) if item.match == "strong"]
    keep = strong[:1] == [0] and (
        len(strong) == 1 or ranked[0].score - ranked[strong[1]].score >= STRONG_MARGIN
    )
    return [
        replace(item, match="possible")
        if item.match == "strong" and not (keep and i == 0)
        else item
        for i, item in enumerate(ranked)
    ]
