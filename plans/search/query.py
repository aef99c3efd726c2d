"""Parse what a responder typed into names, dates of birth, age, sex and words."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from plans import clock
from plans.search.text import (
    STOP_WORDS,
    ConceptSpan,
    find_concepts,
    fold,
    stem,
    words,
)

# Typed queries longer than this are cut: nobody types more at a scene, and the
# cost of ranking grows with the number of words.
MAX_QUERY_CHARS = 200
MAX_WORDS = 12

MONTHS: dict[str, int] = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3,
    "april": 4, "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7,
    "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9, "october": 10,
    "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
MONTH_NAMES = (
    "January February March April May June July August September October "
    "November December"
).split()

MALE_WORDS = frozenset(
    "man male lad boy gent gentleman bloke fella fellow mr he him his "
    "father dad son brother husband boyfriend".split()
)
FEMALE_WORDS = frozenset(
    "woman female lady girl lass mrs ms miss she her hers mother mum "
    "daughter sister wife girlfriend fem".split()
)

# What responders thumb into a phone, and the words the plans use for it.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "stn": ("station",), "rd": ("road",), "ctr": ("centre",), "cntr": ("centre",),
    "hosp": ("hospital",), "prom": ("promenade",), "ave": ("avenue",),
    "brdg": ("bridge",), "cp": ("car", "park"),
    "mscp": ("multi", "storey", "car", "park"),
    "sq": ("square",), "ln": ("lane",), "cres": ("crescent",), "terr": ("terrace",),
    "rly": ("railway",), "rlwy": ("railway",), "xing": ("crossing",),
    "aggro": ("aggressive",), "intox": ("intoxicated",), "misper": ("missing",),
    "lig": ("ligature",), "shd": ("self", "harm"), "ped": ("pedestrian",),
}  # fmt: skip
# "St" is a street after a word ("Church St"), a saint before one ("St Mary's").
STREET_AFTER_WORD = {"st": "street"}
SEX_LETTERS = {"f": "female", "m": "male", "fem": "female"}

_BEFORE_THINGS = frozenset(
    "the a an on in at from into onto off near by to of with under over "
    "behind outside inside".split()
)
_DECADE_WORDS = {
    "teens": 10, "twenties": 20, "thirties": 30, "forties": 40, "fifties": 50,
    "sixties": 60, "seventies": 70, "eighties": 80, "nineties": 90,
}  # fmt: skip
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_ORDINAL = r"(?:st|nd|rd|th)?"

_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})\b")
_DAY_MONTH_YEAR = re.compile(
    rf"\b(\d{{1,2}}){_ORDINAL}(?:\s+of)?[\s\-/.]+({_MONTH_RE})\.?,?(?:[\s\-/.]+(\d{{4}}|\d{{2}}))?\b"
)
_MONTH_DAY_YEAR = re.compile(
    rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}}){_ORDINAL},?\s+(\d{{4}})\b"
)
_MONTH_YEAR = re.compile(rf"\b({_MONTH_RE})\.?,?\s+(\d{{4}})\b")
_BORN_YEAR = re.compile(
    r"\b(?:born(?:\s+in)?|b\.?|dob|d\.o\.b\.?|yob)\s*(\d{4}|\d{2})\b"
)
# "dob 030487": six or eight digits after a date-of-birth word.
_COMPACT_DATE = re.compile(
    r"\b(?:born|b\.?|dob|d\.o\.b\.?)\s*(\d{2})(\d{2})(\d{4}|\d{2})\b"
)
_DOB_WORDS = re.compile(r"(?<![\w.])(?:d\.o\.b\.?|dob|yob|d\.?o\.?b)(?![\w])")
# A UK postcode, whole ("AB10 1AA") or its outward code alone ("AB10").
_POSTCODE = re.compile(r"\b([a-z]{1,2}\d[a-z\d]?)\s*(\d[abd-hjlnp-uw-z]{2})\b")
_OUTWARD = re.compile(r"\b([a-z]{1,2}\d{1,2}[a-z]?)\b")
_BARE_YEAR = re.compile(r"\b(19\d{2}|20\d{2})\b")

_RANGE_WORD = r"(early|mid|late)?[\s\-]*"
_DECADE = re.compile(rf"\b(?:in\s+(?:his|her|their)\s+)?{_RANGE_WORD}(\d)0\s*'?s\b")
_DECADE_WORD = re.compile(
    rf"\b(?:in\s+(?:his|her|their)\s+)?{_RANGE_WORD}({'|'.join(_DECADE_WORDS)})\b"
)
_ABOUT_AGE = re.compile(
    r"\b(?:about|around|approx(?:imately)?|aged?|roughly|maybe|circa|c\.)\s*(\d{1,2})\b"
    r"(?:\s*(?:years?|yrs?)(?:\s*old)?)?"
)
_AGE_SUFFIX = re.compile(
    r"\b(\d{1,2})\s*(?:ish|yo|y/o|years?\s*old|yrs?\s*old|year-old|years?)\b"
)
_AGE_WORDS: tuple[tuple[re.Pattern[str], tuple[int, int], str], ...] = (
    (re.compile(r"\bteen(?:age|ager|agers)?\b"), (13, 19), "teenager"),
    (re.compile(r"\bmiddle[\s\-]?aged\b"), (40, 60), "middle-aged"),
    (re.compile(r"\b(?:elderly|pensioner|oap)\b"), (65, 110), "elderly"),
    (re.compile(r"\b(?:young|youth|youngster)\b"), (16, 29), "young"),
    (re.compile(r"\bold(?:er)?\s+(?:man|woman|lady|gent|bloke)\b"), (60, 110), "older"),
)


@dataclass(frozen=True)
class DateOfBirthQuery:
    """A date of birth as typed; missing parts are None."""

    year: int | None
    month: int | None
    day: int | None
    # A numeric date whose day and month could be swapped (04/12 vs 12/04).
    swappable: bool = False

    def describe(self) -> str:
        """Return the typed date in words."""
        parts: list[str] = []
        if self.day:
            parts.append(str(self.day))
        if self.month:
            parts.append(MONTH_NAMES[self.month - 1])
        if self.year:
            parts.append(str(self.year))
        return " ".join(parts)


@dataclass(frozen=True)
class AgeQuery:
    """An age range taken from words such as "in her 40s" or "about 35"."""

    low: int
    high: int
    label: str


@dataclass(frozen=True)
class ParsedQuery:
    """What a responder typed, split into the clues search can use."""

    text: str
    words: tuple[str, ...]
    name_like: tuple[float, ...]
    stems: tuple[str, ...]
    concept_spans: tuple[ConceptSpan, ...]
    sex: str | None = None
    age: AgeQuery | None = None
    date_of_birth: DateOfBirthQuery | None = None
    lat: float | None = None
    lon: float | None = None
    # A postcode typed, folded without spaces ("ab101aa"), or its outward code.
    postcode: str | None = None
    # The responder's own area (their team's), used when there is no position.
    area_lat: float | None = None
    area_lon: float | None = None

    @property
    def has_location(self) -> bool:
        """Say whether the responder's position is known."""
        return self.lat is not None and self.lon is not None

    @property
    def is_empty(self) -> bool:
        """Say whether there are no clues but (perhaps) a position."""
        return not (
            self.words or self.sex or self.age or self.date_of_birth or self.postcode
        )

    @property
    def has_area(self) -> bool:
        """Say whether the responder's own area is known (and no position is)."""
        return (
            not self.has_location
            and self.area_lat is not None
            and self.area_lon is not None
        )


def _full_year(text: str, today: dt.date) -> int:
    year = int(text)
    if len(text) == 4:
        return year
    century = 2000 if year <= today.year % 100 else 1900
    return century + year


def _valid(year: int | None, month: int | None, day: int | None) -> bool:
    try:
        dt.date(year or 2000, month or 1, day or 1)
    except ValueError:
        return False
    return True


def _take_date_of_birth(
    text: str, today: dt.date
) -> tuple[DateOfBirthQuery | None, str]:
    year: int | None
    match = _COMPACT_DATE.search(text)
    if match:
        day, month = int(match.group(1)), int(match.group(2))
        year = _full_year(match.group(3), today)
        if _valid(year, month, day):
            return DateOfBirthQuery(year, month, day), _cut(text, match)
    match = _ISO_DATE.search(text)
    if match:
        year, month, day = (int(group) for group in match.groups())
        if _valid(year, month, day):
            return DateOfBirthQuery(year, month, day), _cut(text, match)
    match = _NUMERIC_DATE.search(text)
    if match:
        first, second = int(match.group(1)), int(match.group(2))
        year = _full_year(match.group(3), today)
        if _valid(year, second, first):
            swappable = first <= 12 and second <= 12 and first != second
            return DateOfBirthQuery(year, second, first, swappable), _cut(text, match)
        if _valid(year, first, second):  # written month first
            return DateOfBirthQuery(year, first, second), _cut(text, match)
    match = _DAY_MONTH_YEAR.search(text)
    if match:
        day, month = int(match.group(1)), MONTHS[match.group(2)]
        year = _full_year(match.group(3), today) if match.group(3) else None
        if _valid(year, month, day):
            return DateOfBirthQuery(year, month, day), _cut(text, match)
    match = _MONTH_DAY_YEAR.search(text)
    if match:
        month, day = MONTHS[match.group(1)], int(match.group(2))
        year = int(match.group(3))
        if _valid(year, month, day):
            return DateOfBirthQuery(year, month, day), _cut(text, match)
    match = _MONTH_YEAR.search(text)
    if match:
        year, month = int(match.group(2)), MONTHS[match.group(1)]
        return DateOfBirthQuery(year, month, None), _cut(text, match)
    match = _BORN_YEAR.search(text)
    if match:
        return DateOfBirthQuery(_full_year(match.group(1), today), None, None), _cut(
            text, match
        )
    match = _BARE_YEAR.search(text)
    if match and 1900 <= int(match.group(1)) <= today.year:
        return DateOfBirthQuery(int(match.group(1)), None, None), _cut(text, match)
    return None, text


def _cut(text: str, match: re.Match[str]) -> str:
    return text[: match.start()] + " " + text[match.end() :]


def _decade_range(qualifier: str | None, decade: int) -> tuple[int, int, str]:
    if qualifier == "early":
        return decade, decade + 3, f"early {decade}s"
    if qualifier == "mid":
        return decade + 3, decade + 6, f"mid {decade}s"
    if qualifier == "late":
        return decade + 6, decade + 9, f"late {decade}s"
    return decade, decade + 9, f"in their {decade}s"


def _take_age(text: str) -> tuple[AgeQuery | None, str]:
    match = _DECADE.search(text)
    if match:
        decade = int(match.group(2)) * 10
        if decade >= 10:
            low, high, label = _decade_range(match.group(1), decade)
            return AgeQuery(low, high, label), _cut(text, match)
    match = _DECADE_WORD.search(text)
    if match:
        low, high, label = _decade_range(match.group(1), _DECADE_WORDS[match.group(2)])
        if match.group(2) == "teens":
            low, high, label = 13, 19, "teenager"
        return AgeQuery(low, high, label), _cut(text, match)
    for pattern in (_ABOUT_AGE, _AGE_SUFFIX):
        match = pattern.search(text)
        if match:
            age = int(match.group(1))
            return AgeQuery(age - 3, age + 3, f"about {age}"), _cut(text, match)
    for pattern, (low, high), label in _AGE_WORDS:
        match = pattern.search(text)
        if match:
            # "old man" keeps its sex word for the sex clue.
            kept = match.group(0).split()[-1] if label == "older" else ""
            rest = f"{text[: match.start()]} {kept} {text[match.end() :]}"
            return AgeQuery(low, high, label), rest
    return None, text


def _take_postcode(text: str) -> tuple[str | None, str]:
    match = _POSTCODE.search(text)
    if match:
        return match.group(1) + match.group(2), _cut(text, match)
    for match in _OUTWARD.finditer(text):
        # "m1" or "b12" alone could be a road or a typo; a postcode area is one or
        # two letters then one or two digits, which names and words never are.
        return match.group(1), _cut(text, match)
    return None, text


def _initial(position: int, typed: list[str]) -> bool:
    """Say whether a lone letter first of two words is an initial ("M Smith")."""
    if position != 0 or len(typed) != 2:
        return False
    other = typed[1]
    # "m headbanging", "f od": the other word is a thing, not a name.
    return not (
        other.isdigit() or other in ABBREVIATIONS or find_concepts((stem(other),))
    )


def _expand(typed: list[str]) -> list[tuple[str, bool]]:
    """Expand clipped words; return (word, is_expansion) pairs."""
    expanded: list[tuple[str, bool]] = []
    for index, word in enumerate(typed):
        if word in STREET_AFTER_WORD and index > 0:
            expanded.append((STREET_AFTER_WORD[word], True))
        elif word in ABBREVIATIONS:
            expanded.extend((part, True) for part in ABBREVIATIONS[word])
        else:
            expanded.append((word, False))
    return expanded


def parse_query(
    text: str,
    *,
    lat: float | None = None,
    lon: float | None = None,
    today: dt.date | None = None,
    area: tuple[float, float] | None = None,
) -> ParsedQuery:
    """Split a typed query into names, date of birth, age, sex and other words."""
    today = today or clock.today()
    folded = fold(text[:MAX_QUERY_CHARS])
    postcode, rest = _take_postcode(folded)
    date_of_birth, rest = _take_date_of_birth(rest, today)
    age, rest = _take_age(rest)
    rest = _DOB_WORDS.sub(" ", rest)
    sex_votes: set[str] = set()
    kept: list[str] = []
    name_like: list[float] = []
    previous = ""
    typed = words(rest)
    for position, (word, expansion) in enumerate(_expand(typed)):
        if word in MALE_WORDS:
            sex_votes.add("male")
        elif word in FEMALE_WORDS:
            sex_votes.add("female")
        elif word in SEX_LETTERS and not _initial(position, typed):
            # "f od bus stn", "Cardiff m 70s": a lone f or m is the sex; only
            # "M Smith" reads as an initial.
            sex_votes.add(SEX_LETTERS[word])
        elif word not in STOP_WORDS:
            kept.append(word)
            # "from the ward", "on the bridge": a word after a preposition or an
            # article is a place or a thing more often than a name; so are
            # numbers and expanded abbreviations.
            thing = previous in _BEFORE_THINGS or expansion or word.isdigit()
            name_like.append(0.5 if thing else 1.0)
        previous = word
    kept = kept[:MAX_WORDS]
    stems = tuple(stem(word) for word in kept)
    return ParsedQuery(
        text=text[:MAX_QUERY_CHARS],
        words=tuple(kept),
        name_like=tuple(name_like[:MAX_WORDS]),
        stems=stems,
        concept_spans=tuple(find_concepts(stems)),
        sex=sex_votes.pop() if len(sex_votes) == 1 else None,
        age=age,
        date_of_birth=date_of_birth,
        lat=lat,
        lon=lon,
        postcode=postcode,
        area_lat=area[0] if area else None,
        area_lon=area[1] if area else None,
    )
