"""Text normalisation for search: folding, words, light stemming and concepts."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

_WORD = re.compile(r"[a-z0-9]+")
_APOSTROPHES = str.maketrans({"'": "", "\u2019": "", "\u2018": "", "`": ""})
# Letters that Unicode does not decompose into a base letter and a mark.
_UNDECOMPOSED = str.maketrans(
    {
        "ł": "l", "đ": "d", "ø": "o", "ß": "ss", "æ": "ae", "œ": "oe",
        "þ": "th", "ð": "d", "ı": "i", "ħ": "h", "ŧ": "t", "ŋ": "n",
    }
)  # fmt: skip

# Words that carry no meaning for search. Names that are also English words (Will,
# May, Mark, Pat, Rose, Guy...) are deliberately absent.
STOP_WORDS: frozenset[str] = frozenset(
    """
    a an the and or of to in on at by for from into onto off with without near
    nearby is was are were be been being who which that this these those it its
    as up out over under around about there here again very has have had he she
    him his her hers they them their i me my we us our you your not no than then
    when while where what whilst just also still seen saw sighted spotted found
    person someone somebody some any
    """.split()
)

_IRREGULAR_STEMS: dict[str, str] = {
    "lying": "lie",
    "laying": "lie",
    "lies": "lie",
    "lay": "lie",
    "laid": "lie",
    "tied": "tie",
    "ties": "tie",
    "tying": "tie",
    "teeth": "tooth",
    "men": "man",
    "women": "woman",
    "went": "go",
    "gone": "go",
    "going": "go",
    "ran": "run",
    "running": "run",
    "sat": "sit",
    "sitting": "sit",
    "stood": "stand",
    "took": "take",
    "taken": "take",
    "taking": "take",
    "threw": "throw",
    "thrown": "throw",
    "burnt": "burn",
    "cuts": "cut",
    "cutting": "cut",
    "ods": "od",
    "oded": "od",
}

_NO_UNDOUBLE = "lsz"


def fold(text: str) -> str:
    """Return text lower-cased with accents and apostrophes removed."""
    if text.isascii():
        # Most plan text: nothing to decompose, and casefold is lower for ASCII.
        return text.lower().translate(_APOSTROPHES)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold().translate(_APOSTROPHES).translate(_UNDECOMPOSED)


def words(text: str) -> list[str]:
    """Split text into folded alphanumeric words ("O'Brien" becomes "obrien")."""
    return _WORD.findall(fold(text))


def _undouble(word: str) -> str:
    last = word[-1:]
    if len(word) > 2 and last == word[-2] and last not in _NO_UNDOUBLE + "aeiou":
        return word[:-1]
    return word


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Reduce a folded word to a light stem ("pierced" and "piercing" to "pierc")."""
    irregular = _IRREGULAR_STEMS.get(word)
    if irregular is not None:
        return irregular
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 5:
        word = _undouble(word[:-3])
    elif word.endswith("ied") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ed") and len(word) > 4:
        word = _undouble(word[:-2])
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def content_stems(text: str) -> tuple[str, ...]:
    """Return the stems of the words of text that are not stop words."""
    return tuple(stem(word) for word in words(text) if word not in STOP_WORDS)


@dataclass(frozen=True)
class Phrase:
    """A sequence of stems that names one or more concepts."""

    stems: tuple[str, ...]
    concepts: frozenset[str]


def _load_synonyms() -> tuple[dict[str, list[Phrase]], frozenset[str]]:
    source = resources.files("plans").joinpath("data/search_synonyms.txt")
    by_phrase: dict[tuple[str, ...], set[str]] = {}
    settings: set[str] = set()
    for line in source.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        concept, _, phrases = line.partition(":")
        concept = concept.strip()
        if concept.startswith("~"):
            concept = concept[1:]
            settings.add(concept)
        for phrase in phrases.split("|"):
            stems = content_stems(phrase)
            if stems:
                by_phrase.setdefault(stems, set()).add(concept)
    index: dict[str, list[Phrase]] = {}
    for stems, concepts in by_phrase.items():
        index.setdefault(stems[0], []).append(Phrase(stems, frozenset(concepts)))
    for phrases_list in index.values():
        phrases_list.sort(key=lambda phrase: -len(phrase.stems))
    return index, frozenset(settings)


_PHRASES_BY_FIRST_STEM, SETTING_CONCEPTS = _load_synonyms()

CONCEPT_LABELS: dict[str, str] = {
    "call_999": "calls 999",
    "self_harm": "self-harm",
    "car_park": "car park",
    "lie_down": "lying down",
    "emergency_department": "Emergency Department",
    "police_station": "police station",
    "leisure_centre": "leisure centre",
    "job_centre": "job centre",
    "dark_hair": "dark hair",
    "grey_hair": "grey hair",
    "gold_tooth": "gold tooth",
}


def concept_label(concept: str) -> str:
    """Return a concept's name as a responder would say it."""
    return CONCEPT_LABELS.get(concept, concept.replace("_", " "))


@dataclass(frozen=True)
class ConceptSpan:
    """Concepts found at stem positions start..end (exclusive) of a text."""

    start: int
    end: int
    concepts: frozenset[str]


def find_concepts(stems: tuple[str, ...]) -> list[ConceptSpan]:
    """Find synonym phrases in a stem sequence, longest first, without overlap."""
    spans: list[ConceptSpan] = []
    position = 0
    while position < len(stems):
        for phrase in _PHRASES_BY_FIRST_STEM.get(stems[position], ()):
            end = position + len(phrase.stems)
            if stems[position:end] == phrase.stems:
                spans.append(ConceptSpan(position, end, phrase.concepts))
                position = end
                break
        else:
            position += 1
    return spans


def all_concepts(stems: tuple[str, ...]) -> frozenset[str]:
    """Return every concept named anywhere in a stem sequence, overlaps included."""
    found: set[str] = set()
    for position, first in enumerate(stems):
        for phrase in _PHRASES_BY_FIRST_STEM.get(first, ()):
            if stems[position : position + len(phrase.stems)] == phrase.stems:
                found.update(phrase.concepts)
    return frozenset(found)


@dataclass(frozen=True)
class TextFeatures:
    """What search needs from a piece of plan text: stems, neighbours, concepts."""

    stems: frozenset[str]
    concepts: frozenset[str]
    # The stems in the order written, for the pairs below.
    sequence: tuple[str, ...] = ()

    @cached_property
    def pairs(self) -> frozenset[tuple[str, str]]:
        """Return pairs of stems at most two words apart, worked out when asked.

        "tattoo of a rose on the left forearm" pairs tattoo with rose, left and
        forearm; stop words do not count. The ranker asks only when a typed word
        is in the text, so most candidates never pay for them.
        """
        return stem_pairs(self.sequence)


def stem_pairs(stems: tuple[str, ...], window: int = 3) -> frozenset[tuple[str, str]]:
    """Return the unordered pairs of stems that stand within `window` of each other."""
    pairs: set[tuple[str, str]] = set()
    for i, first in enumerate(stems):
        for second in stems[i + 1 : i + 1 + window]:
            pairs.add((first, second) if first <= second else (second, first))
    return frozenset(pairs)


@lru_cache(maxsize=32768)
def text_features(text: str) -> TextFeatures:
    """Return the stems, stem pairs and concepts of a piece of plan text (cached)."""
    stems = content_stems(text)
    return TextFeatures(frozenset(stems), all_concepts(stems), stems)
