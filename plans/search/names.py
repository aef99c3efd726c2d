"""Name matching: exact, nickname, spelling variant, phonetic, typo and prefix."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import jellyfish
from rapidfuzz.distance import OSA, Indel

from plans.search.text import words

# How much one typed name word is worth when it matches one name word, by kind.
EXACT = 1.0
VARIANT = 0.95
NICKNAME = 0.93
FULL_NAME = 0.9
PHONETIC = 0.86
WEAK_PHONETIC = 0.8
SHARED_NICKNAME = 0.8


@dataclass(frozen=True)
class TokenMatch:
    """How one typed word matches one name word, and why in words."""

    quality: float
    kind: str
    reason: str


NO_MATCH = TokenMatch(0.0, "none", "")


def _read_table(name: str) -> list[list[str]]:
    source = resources.files("plans").joinpath(f"data/{name}")
    rows: list[list[str]] = []
    for line in source.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            rows.append(words(line.replace(":", " ")))
    return rows


def _load_variants() -> dict[str, frozenset[int]]:
    groups: dict[str, set[int]] = {}
    for number, row in enumerate(_read_table("name_variants.txt")):
        for name in row:
            groups.setdefault(name, set()).add(number)
    return {name: frozenset(numbers) for name, numbers in groups.items()}


def _load_nicknames() -> dict[str, frozenset[str]]:
    full_names: dict[str, set[str]] = {}
    for row in _read_table("nicknames.txt"):
        full, *nicknames = row
        for nickname in nicknames:
            full_names.setdefault(nickname, set()).add(full)
    return {nickname: frozenset(fulls) for nickname, fulls in full_names.items()}


def _load_towns() -> frozenset[str]:
    return frozenset(word for row in _read_table("uk_towns.txt") for word in row)


_VARIANT_GROUPS = _load_variants()
TOWN_WORDS = _load_towns()
_FULL_NAMES_OF = _load_nicknames()


def is_known_name(word: str) -> bool:
    """Say whether a word is in the curated nickname or variant tables."""
    return word in _VARIANT_GROUPS or word in _FULL_NAMES_OF


def variant_groups(word: str) -> frozenset[int]:
    """Return the spelling-variant groups a folded name belongs to."""
    return _VARIANT_GROUPS.get(word, frozenset())


def _same_name(a: str, b: str) -> bool:
    return a == b or bool(variant_groups(a) & variant_groups(b))


def full_names_of(nickname: str) -> frozenset[str]:
    """Return the full names a folded nickname is short for."""
    return _FULL_NAMES_OF.get(nickname, frozenset())


@lru_cache(maxsize=65536)
def phonetic_keys(word: str) -> tuple[str, str]:
    """Return the metaphone and NYSIIS codes of a folded name."""
    if not word.isalpha():
        return ("", "")
    return (jellyfish.metaphone(word), jellyfish.nysiis(word))


def _is_nickname_of(nickname: str, full: str) -> bool:
    return any(_same_name(candidate, full) for candidate in full_names_of(nickname))


def _typo_quality(typed: str, name: str) -> float:
    longest = max(len(typed), len(name))
    if min(len(typed), len(name)) < 3:
        return 0.0
    distance = OSA.distance(typed, name, score_cutoff=2)
    if distance == 1:
        return PHONETIC if longest >= 5 else 0.72
    if distance == 2 and min(len(typed), len(name)) >= 5:
        return 0.74 if longest >= 7 else 0.66
    return 0.0


@lru_cache(maxsize=262144)
def match_token(typed: str, name: str, display: str) -> TokenMatch:
    """Return how well one typed folded word matches one folded name word."""
    if typed == name:
        return TokenMatch(EXACT, "exact", "")
    best = NO_MATCH
    if variant_groups(typed) & variant_groups(name):
        return TokenMatch(VARIANT, "variant", f"spelling variant of {display}")
    if _is_nickname_of(typed, name):
        return TokenMatch(NICKNAME, "nickname", f"nickname of {display}")
    if _is_nickname_of(name, typed):
        best = TokenMatch(FULL_NAME, "full", f"{display} is a short form of it")
    elif full_names_of(typed) and full_names_of(typed) & full_names_of(name):
        best = TokenMatch(SHARED_NICKNAME, "nickname", f"nickname like {display}")
    if best.quality >= PHONETIC:
        return best
    # A word typed so far is a prefix, not a slip: "Stev" is the start of "Steve".
    typo = 0.0 if name.startswith(typed) else _typo_quality(typed, name)
    if typo >= PHONETIC:
        return TokenMatch(typo, "typo", f"typo-tolerant match for {display}")
    shorter, longer = sorted((len(typed), len(name)))
    if shorter >= 4 and shorter / longer >= 0.75:
        typed_keys, name_keys = phonetic_keys(typed), phonetic_keys(name)
        agreeing = sum(
            1 for a, b in zip(typed_keys, name_keys, strict=True) if a and a == b
        )
        if agreeing and Indel.normalized_similarity(typed, name) >= 0.6:
            # Both codes agreeing is much surer than one ("John" and "Jones").
            quality = PHONETIC if agreeing == 2 and shorter >= 5 else WEAK_PHONETIC
            if quality > best.quality:
                best = TokenMatch(quality, "phonetic", f"sounds like {display}")
            if quality == PHONETIC:
                return best
    if typo > best.quality:
        best = TokenMatch(typo, "typo", f"typo-tolerant match for {display}")
    if len(typed) >= 2 and name.startswith(typed):
        prefix = 0.72 + 0.2 * len(typed) / len(name)
        if prefix > best.quality:
            best = TokenMatch(prefix, "prefix", f"start of {display}")
    elif len(typed) == 1 and name.startswith(typed) and best.quality < 0.45:
        best = TokenMatch(0.45, "initial", f"initial of {display}")
    elif len(typed) >= 4 and len(name) > len(typed) and typed[0] == name[0]:
        # The last word typed so far may carry a slip: "Smiht" for "Smith...".
        head = name[: len(typed)]
        if OSA.distance(typed, head, score_cutoff=1) <= 1:
            slipped = 0.62 + 0.15 * len(typed) / len(name)
            if slipped > best.quality:
                best = TokenMatch(slipped, "prefix", f"start of {display}")
    return best
