"""Index keys: the tokens that let a plain full-text index find fuzzy name matches.

Each name word is stored with its phonetic codes, the full names it is short for,
its spelling-variant groups and its single-letter deletions (SymSpell), so one
indexed OR query finds exact, phonetic, nickname, variant and one-typo matches.
Keys are lower-case letters and digits only: they never need escaping in FTS5 or
tsquery syntax. The digit prefix keeps each kind apart from plain words.
"""

from __future__ import annotations

from collections.abc import Iterable

from plans.search.names import full_names_of, phonetic_keys, variant_groups
from plans.search.query import ParsedQuery
from plans.search.text import TextFeatures

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
        keys.update("6" + concept for concept in feature.concepts)
    return " ".join(sorted(key for key in keys if key.isalnum() and key.isascii()))


def query_terms(query: ParsedQuery) -> tuple[list[str], list[str], list[str]]:
    """Return the name keys, name prefixes and text keys to look a query up by."""
    name_terms: set[str] = set()
    prefixes: list[str] = []
    for word in query.words:
        name_terms |= name_keys(word)
        if 2 <= len(word) <= MAX_DELETE_LENGTH and word.isalnum():
            prefixes.append(word)
    text_terms = {stem for stem in query.stems if stem.isalnum()}
    for span in query.concept_spans:
        text_terms.update("6" + concept for concept in span.concepts)
    return (
        sorted(key for key in name_terms if key.isascii()),
        prefixes,
        sorted(key for key in text_terms if key.isascii()),
    )
