"""Rank candidates against a parsed query: a pure function with reasons in words."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from plans.search.candidate import Candidate, NameForm, Place
from plans.search.geo import describe_distance, haversine_m
from plans.search.names import NO_MATCH, TokenMatch, match_token
from plans.search.query import MONTH_NAMES, ParsedQuery
from plans.search.text import SETTING_CONCEPTS, TextFeatures, concept_label

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
TOWN_WORD = 0.4
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


@dataclass(frozen=True)
class Scored:
    """A candidate with its score, the reasons for it and its distance."""

    candidate: Candidate
    score: float
    reasons: tuple[str, ...]
    distance_m: float | None = None


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


def _concept_weight(concepts: frozenset[str]) -> float:
    if not concepts:
        return 0.0
    return SETTING_CONCEPT if concepts <= SETTING_CONCEPTS else ACTION_CONCEPT


def _unit_against(
    unit: _Unit, features: TextFeatures, word_weight: float, pair_weight: float
) -> float:
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


def _text_units(
    units: list[_Unit], query_words: tuple[str, ...], candidate: Candidate
) -> list[tuple[float, str]]:
    """Score each query unit against the candidate's behaviours, looks and places."""
    scores: list[tuple[float, str]] = [(0.0, "")] * len(units)
    behaviours = candidate.behaviour_features
    if behaviours:
        table = [
            [
                _unit_against(unit, features, BEHAVIOUR_WORD, BEHAVIOUR_PAIR)
                for unit in units
            ]
            for _behaviour, features in behaviours
        ]
        # The behaviour that explains most of the query is the one meant; clues
        # scattered over other behaviours count for less.
        best = max(range(len(behaviours)), key=lambda b: sum(table[b]))
        for u in range(len(units)):
            if table[best][u] > 0:
                scores[u] = (table[best][u], behaviours[best][0])
            else:
                other = max(range(len(behaviours)), key=lambda b: table[b][u])
                if table[other][u] > 0:
                    scores[u] = (
                        OTHER_BEHAVIOUR * table[other][u],
                        behaviours[other][0],
                    )
        scores = [
            (score, f"matches behaviour: {text}" if score else "")
            for score, text in scores
        ]
    description = candidate.description_features
    for u, unit in enumerate(units):
        # A description has no settings: "medium height" is not a height to jump.
        shared = (unit.concepts & description.concepts) - SETTING_CONCEPTS
        if shared:
            score = DESCRIPTION_CONCEPT
            if not any(word_stem in description.stems for word_stem in unit.stems):
                score *= SYNONYM_ONLY
            reason = f"matches description: {concept_label(min(shared))}"
        else:
            score = _unit_against(
                unit, description, DESCRIPTION_WORD, DESCRIPTION_CONCEPT
            )
            reason = "matches description: " + " ".join(
                query_words[i] for i in unit.positions
            )
        if score > scores[u][0]:
            scores[u] = (score, reason)
        for name, features in candidate.place_features:
            score = PLACE_CONCEPT * _concept_weight(unit.concepts & features.concepts)
            score = score or _unit_against(unit, features, PLACE_WORD, PLACE_WORD)
            if score > scores[u][0]:
                scores[u] = (score, f"crisis location: {name}")
        if candidate.town and len(unit.stems) == 1:
            if unit.stems[0] == candidate.town.casefold() and scores[u][0] < TOWN_WORD:
                scores[u] = (TOWN_WORD, f"lives in {candidate.town}")
    return scores


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
    reasons: list[str] = []
    exact = [form.displays[j] for _i, match, j in matched if match.kind == "exact"]
    label = {"name": "name", "preferred": "preferred name", "alias": "alias"}[form.kind]
    if form.kind != "name" or exact:
        reasons.append(f"{label}: {form.display}")
    for i, match, _j in matched:
        if match.kind != "exact":
            reasons.append(f"{query.words[i].capitalize()}: {match.reason}")
    return reasons


def _name_quality(query: ParsedQuery, unit: _Unit, i: int, match: TokenMatch) -> float:
    quality = match.quality * query.name_like[i]
    if unit.concepts and match.kind != "exact" and len(query.concept_spans) > 1:
        # Among other behaviour words, a word we know as one ("park", "caller")
        # is a loose match for a name only by accident.
        quality *= VOCABULARY_AS_NAME
    if len(unit.positions) > 1:
        quality *= PHRASE_AS_NAME
    return quality


def _words_score(
    query: ParsedQuery, units: list[_Unit], candidate: Candidate
) -> tuple[float, float, list[str]]:
    """Return the score of the typed words, the part of it not from names, reasons."""
    text = _text_units(units, query.words, candidate)
    best_total = sum(score for score, _ in text)
    best_text = best_total
    best_reasons = [reason for score, reason in text if score > 0]
    for form in candidate.name_forms:
        weight = ALIAS_WEIGHT if form.kind == "alias" else 1.0
        matches = _assign(query.words, form)
        total = text_total = 0.0
        name_won: list[bool] = [False] * len(query.words)
        text_reasons: list[str] = []
        whole_name_words = 0
        for unit, (text_score, reason) in zip(units, text, strict=True):
            name_score = weight * sum(
                _name_quality(query, unit, i, matches[i][0]) for i in unit.positions
            )
            if name_score >= text_score and name_score > 0:
                total += name_score
                for i in unit.positions:
                    name_won[i] = True
                if len(unit.positions) == 1:
                    whole_name_words += 1
            else:
                total += text_score
                text_total += text_score
                if text_score > 0:
                    text_reasons.append(reason)
        if whole_name_words >= 2:
            total += FULL_NAME_BONUS
        if total > best_total:
            best_total = total
            best_text = text_total
            kept = [
                (match, j) if name_won[i] else (NO_MATCH, -1)
                for i, (match, j) in enumerate(matches)
            ]
            best_reasons = _name_reasons(form, query, kept) + text_reasons
    return best_total, best_text, best_reasons


def _date_of_birth_score(query: ParsedQuery, candidate: Candidate) -> tuple[float, str]:
    wanted, born = query.date_of_birth, candidate.date_of_birth
    if wanted is None or born is None:
        return 0.0, ""
    said = f"born {born.day} {MONTH_NAMES[born.month - 1]} {born.year}"
    if wanted.day and wanted.month and wanted.year:
        if (wanted.year, wanted.month, wanted.day) == (born.year, born.month, born.day):
            return DOB_FULL, said
        if wanted.swappable and (wanted.year, wanted.day, wanted.month) == (
            born.year,
            born.month,
            born.day,
        ):
            return DOB_SWAPPED, f"{said} (day and month swapped)"
        if (wanted.month, wanted.day) == (born.month, born.day) and abs(
            wanted.year - born.year
        ) in (1, 10):
            return DOB_NEAR, f"{said} (year differs)"
        if wanted.year == born.year:
            return DOB_YEAR_ONLY_OF_FULL, f"born in {born.year}"
        return 0.0, ""
    if wanted.year and wanted.year != born.year:
        return 0.0, ""
    if wanted.month and wanted.month != born.month:
        return 0.0, ""
    if wanted.month:
        return DOB_YEAR_MONTH, f"born {MONTH_NAMES[born.month - 1]} {born.year}"
    return DOB_YEAR, f"born in {born.year}"


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
    distance = describe_distance(metres)
    if place.kind == "home":
        return f"{distance} from home"
    return f"{distance} from {place.name}, a crisis location"


def score_candidate(
    query: ParsedQuery, candidate: Candidate, *, today: dt.date
) -> Scored | None:
    """Score one candidate; None when it matches none of the clues given."""
    return _score(query, _units(query), candidate, today)


def _score(
    query: ParsedQuery, units: list[_Unit], candidate: Candidate, today: dt.date
) -> Scored | None:
    reasons: list[str] = []
    words_total = soft_total = 0.0
    if query.words:
        words_total, soft_total, word_reasons = _words_score(query, units, candidate)
        reasons.extend(word_reasons)
    dob, dob_reason = _date_of_birth_score(query, candidate)
    if dob_reason:
        reasons.append(dob_reason)
    age = _age_score(query, candidate, today)
    if age > 0 and query.age is not None:
        reasons.append(f"age {candidate.age_on(today)} ({query.age.label})")
    sex = _sex_score(query, candidate)

    if query.words or query.date_of_birth:
        if words_total <= 0 and dob <= 0:
            return None
    elif query.age or query.sex:
        if age < 0 or sex < 0 or age + sex <= 0:
            return None
    elif not query.has_location:
        return None

    score = words_total + dob + age + sex
    distance: float | None = None
    if query.lat is not None and query.lon is not None:
        nearest = nearest_place(candidate, query.lat, query.lon)
        if nearest is not None:
            place, distance = nearest
            # Names identify; behaviours and looks only narrow down, so the
            # softer the evidence, the more being near counts.
            hard = words_total - soft_total + dob
            soft = 1.0 if score <= 0 else min(1.0, max(0.0, 1.0 - hard / score))
            if query.words:
                # A single loose word ("brown" in "brown hair") is weak evidence;
                # nearness should not lift it over a name.
                soft *= min(1.0, soft_total / ACTION_CONCEPT)
            weight = GEO_WEIGHT_NAMES + (GEO_WEIGHT_SOFT - GEO_WEIGHT_NAMES) * soft
            score += weight / (1.0 + distance / GEO_SCALE_M)
            reasons.append(_place_reason(place, distance))
    return Scored(candidate, score, tuple(dict.fromkeys(reasons)), distance)


def rank(
    query: ParsedQuery,
    candidates: Sequence[Candidate],
    *,
    today: dt.date,
    limit: int | None = None,
) -> list[Scored]:
    """Rank candidates for a query, best first, dropping those matching no clue."""
    units = _units(query)
    scored = [
        result
        for candidate in candidates
        if (result := _score(query, units, candidate, today)) is not None
    ]
    scored.sort(
        key=lambda item: (
            -round(item.score, 9),
            item.distance_m if item.distance_m is not None else float("inf"),
            item.candidate.name,
            item.candidate.ref,
        )
    )
    return scored if limit is None else scored[:limit]
