"""Index keys: the tokens that let a plain full-text index find fuzzy name matches.

Each name word is stored with its phonetic codes, the full names it is short for,
its spelling-variant groups and its single-letter deletions (SymSpell), so one
indexed OR query finds exact, phonetic, nickname, variant and one-typo matches.
Keys are lower-case letters and digits only: they never need escaping in FTS5 or
tsquery syntax. The digit prefix keeps each kind apart from plain words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from plans.search.names import full_names_of, phonetic_keys, variant_groups
from plans.search.query import ParsedQuery
from plans.search.text import STOP_WORDS, TextFeatures, stem, words

MAX_DELETE_LENGTH = 16


def name_keys(word: str) -> set[str]:
    """Return the index keys of one folded name word."""
    if not word:
        return set()
    keys = {word}
    metaphone, nysiis = phonetic_keys(word)
    if metaphone:
        keys.add("1" + metaphone.lower())
    if nysiis:
        keys.add("2" + nysiis.lower())
    fulls = set(full_names_of(word)) | {word}
    for full in fulls:
        keys.add("3" + full)
        keys.update(f"4g{group}" for group in variant_groups(full))
    if 3 <= len(word) <= MAX_DELETE_LENGTH:
        keys.add("5" + word)
        keys.update("5" + word[:i] + word[i + 1 :] for i in range(len(word)))
    return {key for key in keys if key.isalnum() and key.isascii()}


def names_keys(words: Iterable[str]) -> str:
    """Return the space-separated index keys of several name words."""
    keys: set[str] = set()
    for word in words:
        keys |= name_keys(word)
    return " ".join(sorted(keys))


def text_keys(features: Iterable[TextFeatures]) -> str:
    """Return the space-separated stems and concept keys of plan text."""
    keys: set[str] = set()
    for feature in features:
        keys.update(feature.stems)
        keys.update(concept_key(concept) for concept in feature.concepts)
    return " ".join(sorted(key for key in keys if key.isalnum() and key.isascii()))


def address_keys(candidate_address: str, town: str | None, postcode: str | None) -> str:
    """Return the keys of a home address: "7" + street, number and town words,
    "8" + the postcode and its outward code."""
    keys = {
        "7" + stem(word) for word in words(candidate_address) if word not in STOP_WORDS
    }
    keys |= {"7" + stem(word) for word in words(town or "") if word not in STOP_WORDS}
    if postcode:
        keys |= {"8" + postcode, "8" + postcode[:-3]}
    return " ".join(sorted(key for key in keys if key.isalnum() and key.isascii()))


def concept_key(concept: str) -> str:
    """Return the index key of a synonym concept ("car_park" becomes "6carpark")."""
    return "6" + concept.replace("_", "")


@dataclass(frozen=True)
class TermGroup:
    """The keys one typed word (or synonym phrase) may match: any one will do."""

    name_keys: frozenset[str]
    prefixes: frozenset[str]
    text_keys: frozenset[str]
    # The word as typed: a row holding it as a name is a stronger match.
    exact: frozenset[str] = frozenset()


def query_groups(query: ParsedQuery) -> list[TermGroup]:
    """Return one group of keys per word or synonym phrase of the query."""
    spans = {span.start: span for span in query.concept_spans}
    groups: list[TermGroup] = []
    position = 0
    while position < len(query.words):
        span = spans.get(position)
        end = span.end if span else position + 1
        typed = query.words[position:end]
        stems = query.stems[position:end]
        name_terms: set[str] = set()
        prefixes: set[str] = set()
        if len(typed) == 1:
            name_terms = name_keys(typed[0])
            if 2 <= len(typed[0]) <= MAX_DELETE_LENGTH:
                prefixes.add(typed[0])
        text_terms = set(stems) | {"7" + word_stem for word_stem in stems}
        if span:
            text_terms.update(concept_key(concept) for concept in span.concepts)
        groups.append(
            TermGroup(
                frozenset(_clean(name_terms)),
                frozenset(_clean(prefixes)),
                frozenset(_clean(text_terms)),
                frozenset(_clean(typed)),
            )
        )
        position = end
    if query.postcode:
        key = frozenset({"8" + query.postcode})
        groups.append(TermGroup(frozenset(), frozenset(), key, frozenset()))
    return groups


def _clean(keys: Iterable[str]) -> list[str]:
    return [key for key in keys if key.isalnum() and key.isascii()]


def group_strength(
    group: TermGroup,
    name_key_set: set[str],
    names: Sequence[str],
    text_key_set: set[str],
) -> int:
    """Rate how a search row matches a group: 2 exact, 1 fuzzy, 0 not (prefilter)."""
    if group.exact & name_key_set or group.text_keys & text_key_set:
        return 2
    if group.name_keys & name_key_set:
        return 1
    if any(name.startswith(prefix) for prefix in group.prefixes for name in names):
        return 1
    return 0


@lru_cache(maxsize=65536)
def word_name_keys(word: str) -> frozenset[str]:
    """Return the index keys of one folded name word, worked out once per word."""
    return frozenset(name_keys(word))


class RowRater:
    """Rate search rows against a query's groups as `group_strength` does.

    A row's name keys are those of its name words (`names_keys`), so a name word
    rates the same in every row it appears in: each distinct word is rated once
    per query, and a row costs a split of its few name words and a look at its
    text keys. Neither the long name-key column (every single-letter deletion of
    every name) nor sets of it are read per row.
    """

    def __init__(self, groups: Sequence[TermGroup]) -> None:
        self.groups = tuple(groups)
        # A group's text keys padded with spaces, looked for in a row's string.
        self.text_probes = tuple(
            tuple(f" {key} " for key in sorted(group.text_keys)) for group in groups
        )
        self.by_word: dict[str, tuple[int, ...]] = {}
        # Most name words in a row match no group: one look says so.
        self.nothing = (0,) * len(self.groups)
        self.any_name_key = frozenset(
            key for group in groups for key in group.name_keys | group.exact
        )
        self.any_prefix = tuple(
            sorted({prefix for group in groups for prefix in group.prefixes})
        )

    def _word(self, word: str) -> tuple[int, ...]:
        keys = word_name_keys(word)
        if self.any_name_key.isdisjoint(keys) and not (
            self.any_prefix and word.startswith(self.any_prefix)
        ):
            rated = self.nothing
        else:
            rated = tuple(
                2
                if not group.exact.isdisjoint(keys)
                else 1
                if not group.name_keys.isdisjoint(keys)
                or (group.prefixes and word.startswith(tuple(group.prefixes)))
                else 0
                for group in self.groups
            )
        self.by_word[word] = rated
        return rated

    def rate(self, names: str, text_keys: str) -> int:
        """Sum the groups' strengths for one row's names and text keys."""
        nothing = self.nothing
        best = nothing
        by_word = self.by_word
        for word in names.split():
            rated = by_word.get(word)
            if rated is None:
                rated = self._word(word)
            if rated is not nothing:
                best = rated if best is nothing else tuple(map(max, best, rated))
        padded = ""
        total = 0
        for strength, probes in zip(best, self.text_probes, strict=True):
            if strength < 2:
                if not padded:
                    padded = f" {text_keys} "
                for key in probes:
                    if key in padded:
                        strength = 2
                        break
            total += strength
        return total
