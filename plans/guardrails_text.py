"""Normalise plan text before the guardrails read it, keeping every offset.

Wording meant to slip past a reviewer (or typed on an odd keyboard) should read
as what a person sees: "Dо nоt соnvеy" with Cyrillic letters, "do\u200bnot" with a
zero-width space, "n0t", full-width "ＤＯ ＮＯＴ", "d.o n.o.t" and "c o n v e y"
all become "do not convey". Each normalised character remembers where it came
from, so a finding still quotes the words exactly as written.

Steps, in order:
1. Compatibility decomposition (NFKD, a superset of NFKC's folding) with
   combining marks dropped, so full-width, ligature and accented letters fold to
   plain ones; format characters (zero-width, joiners, bidi marks, soft hyphens)
   and control characters are removed; Cyrillic and Greek look-alikes become
   Latin; everything is lower case; curly quotes and dashes become plain ones.
2. Digits and symbols used as letters ("n0t", "c0nvey", "1eave", "@ttend") are
   read as letters when, and only when, that spells a word the guardrails know:
   "s136", "999" and "2024" stay as they are.
3. Letters spaced or dotted apart ("d.o n.o.t", "c o n v e y") are joined when
   they spell known words.
4. Contractions are expanded ("don't", "dont" -> "do not"; "won't" -> "will not").

Pure: no IO.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache

# Cyrillic "у" looks like "y" but is typed for "u" as often: read as either,
# whichever spells a known word.
_Y_OR_U = "\ue000"

# Where an invisible character stood: "do\u200bnot" may be "do not" or "donot".
_HIDDEN = "\ue001"
_HIDDEN_IN_WORD = re.compile("[^ \n]*\ue001[^ \n]*")

# Letters from other scripts that look like Latin ones. Upper case is folded to
# lower case first, so only lower-case forms are listed.
_CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "г": "r", "д": "d", "е": "e", "ё": "e", "з": "3",
    "и": "u", "й": "u", "к": "k", "л": "n", "м": "m", "н": "h", "о": "o",
    "п": "n", "р": "p", "с": "c", "т": "t", "у": _Y_OR_U, "х": "x", "ь": "b",
    "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "һ": "h", "ӏ": "l", "ө": "o", "ү": "y", "ҫ": "c",
    # Greek
    "α": "a", "β": "b", "γ": "y", "δ": "d", "ε": "e", "ζ": "z", "η": "n",
    "ι": "i", "κ": "k", "μ": "u", "ν": "v", "ο": "o", "ρ": "p", "σ": "o",
    "ς": "c", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    # Latin oddities
    "ı": "i", "ȷ": "j", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŀ": "l",
    "ß": "ss", "æ": "ae", "œ": "oe", "ſ": "s",
    # punctuation that stands for an apostrophe or a hyphen
    "\u2018": "'", "\u2019": "'", "\u201b": "'", "\u02bc": "'", "\u2032": "'",
    "`": "'", "\u00b4": "'",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-",
}  # fmt: skip

# Characters read as letters inside a word that mixes them with letters.
_AS_LETTERS: dict[str, tuple[str, ...]] = {
    "0": ("o",),
    "1": ("l", "i"),
    "3": ("e",),
    "4": ("a",),
    "@": ("a",),
    "5": ("s",),
    "$": ("s",),
    "7": ("t",),
    "8": ("b",),
    "9": ("g",),
    _Y_OR_U: ("y", "u"),
}
_MIXED_WORD = re.compile("[a-z0-9@$\ue000]*[a-z][a-z0-9@$\ue000]*")
# A run of single letters spaced or dotted apart; a digit or symbol may stand
# for a letter in it ("N 0 T  F 0 R  E D"), but the run starts with a letter.
_SPACED_LETTERS = re.compile(
    r"(?<![a-z0-9'])[a-z](?:[ .\-_*\u00b7]{1,3}[a-z0-9@$](?![a-z0-9])){1,}"
)
_CONTRACTION = re.compile(
    r"\b(?:do|does|did|is|are|was|were|should|must|could|would|need|have|has|had"
    r"|ca|wo|sha|ai|may|might)n'?t\b"
)
_CANNOT = re.compile(r"\bcannot\b")
_CONTRACTED_VERB = {"ca": "can", "wo": "will", "sha": "shall", "ai": "is"}
_SPACES = re.compile(r"[ \t\r\f\v]+")
_KEEP_CONTROLS = frozenset("\n\t")


@dataclass(frozen=True)
class Normalised:
    """Normalised text and, for each of its characters, the original offset."""

    text: str
    origin: tuple[int, ...]  # one more than `text`: the original length at the end

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Return the original span of the normalised span [start, end)."""
        if end <= start:
            return self.origin[start], self.origin[start]
        return self.origin[start], self.origin[end - 1] + 1


@lru_cache(maxsize=4096)
def _fold(char: str) -> str:
    category = unicodedata.category(char)
    if char in _KEEP_CONTROLS:
        return "\n" if char == "\n" else " "
    if category == "Cf":
        return _HIDDEN
    if category in ("Cc", "Cs", "Co", "Cn"):
        return ""
    if category.startswith("Z"):
        return " "
    out = []
    for part in unicodedata.normalize("NFKD", char):
        if unicodedata.category(part) == "Mn":
            continue
        part = part.lower()
        out.append(_CONFUSABLES.get(part, part))
    return "".join(out)


class _Builder:
    """Characters with their original offsets, rewritten step by step."""

    def __init__(self, chars: list[str], origin: list[int], length: int) -> None:
        self.chars = chars
        self.origin = origin
        self.length = length

    @property
    def text(self) -> str:
        return "".join(self.chars)

    def rewrite(
        self, pattern: re.Pattern[str], replace: Callable[[str], str | None]
    ) -> None:
        """Replace each match by `replace(match)`; None keeps it as it was."""
        text = self.text
        chars: list[str] = []
        origin: list[int] = []
        last = 0
        changed = False
        for match in pattern.finditer(text):
            new = replace(match.group())
            if new is None or new == match.group():
                continue
            changed = True
            chars.extend(self.chars[last : match.start()])
            origin.extend(self.origin[last : match.start()])
            old_origin = self.origin[match.start() : match.end()]
            old = match.group()
            last = match.end()
            if len(new) == len(old):
                chars.extend(new)
                origin.extend(old_origin)
                continue
            # Letters kept from the old text keep their offsets; anything added
            # takes the offset of the next kept letter.
            cursor = 0
            for char in new:
                while cursor < len(old) and old[cursor] != char and char != " ":
                    cursor += 1
                origin.append(old_origin[min(cursor, len(old) - 1)])
                chars.append(char)
                if char != " " and cursor < len(old):
                    cursor += 1
        if changed:
            chars.extend(self.chars[last:])
            origin.extend(self.origin[last:])
            self.chars, self.origin = chars, origin

    def result(self) -> Normalised:
        return Normalised(self.text, (*self.origin, self.length))


def _segment(letters: str, vocabulary: Collection[str]) -> list[str] | None:
    """Split run-together letters into known words, fewest words first."""
    best: list[list[str] | None] = [None] * (len(letters) + 1)
    best[0] = []
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - 20), end):
            head = best[start]
            word = letters[start:end]
            if head is None or word not in vocabulary:
                continue
            if len(word) == 1 and word not in ("a", "i"):
                continue
            candidate = [*head, word]
            current = best[end]
            if current is None or len(candidate) < len(current):
                best[end] = candidate
    return best[-1]


def normalise(text: str, vocabulary: Collection[str]) -> Normalised:
    """Return `text` folded for reading, with offsets back into the original.

    `vocabulary` holds the words the guardrails know: obfuscated spellings are
    only rewritten when they spell one of them.
    """
    if text.isascii() and text.isprintable():
        builder = _Builder(list(text.lower()), list(range(len(text))), len(text))
    else:
        chars: list[str] = []
        origin: list[int] = []
        for index, char in enumerate(text):
            for folded in _fold(char):
                chars.append(folded)
                origin.append(index)
        builder = _Builder(chars, origin, len(text))
    current = builder.text
    if _HIDDEN in current:

        def unhidden(word: str) -> str:
            joined = word.replace(_HIDDEN, "")
            parts = [part for part in word.split(_HIDDEN) if part]
            bare = [part.strip(".,;:!?") for part in parts]
            if joined.strip(".,;:!?") in vocabulary or not all(
                part in vocabulary for part in bare
            ):
                return joined
            return " ".join(parts)

        builder.rewrite(_HIDDEN_IN_WORD, unhidden)
        current = builder.text
    if any(char in current for char in "0123456789@$\ue000"):

        def as_letters(word: str) -> str | None:
            if word in vocabulary or not any(c in _AS_LETTERS for c in word):
                return None
            for choice in range(2):
                spelled = "".join(
                    _AS_LETTERS[c][min(choice, len(_AS_LETTERS[c]) - 1)]
                    if c in _AS_LETTERS
                    else c
                    for c in word
                )
                if spelled in vocabulary:
                    return spelled
            return None

        builder.rewrite(_MIXED_WORD, as_letters)
        builder.rewrite(re.compile(_Y_OR_U), lambda _: "y")

    def joined(run: str) -> str | None:
        for choice in range(2):
            letters = "".join(
                _AS_LETTERS[c][min(choice, len(_AS_LETTERS[c]) - 1)]
                if c in _AS_LETTERS
                else c
                for c in run
                if c.isalpha() or c in _AS_LETTERS
            )
            words = _segment(letters, vocabulary)
            if words and not all(len(word) == 1 for word in words):
                return " ".join(words)
            if letters == run.replace(" ", ""):
                break
        return None

    builder.rewrite(_SPACED_LETTERS, joined)

    def expanded(contraction: str) -> str:
        head = contraction[:-3] if contraction.endswith("n't") else contraction[:-2]
        return f"{_CONTRACTED_VERB.get(head, head)} not"

    builder.rewrite(_CONTRACTION, expanded)
    builder.rewrite(_CANNOT, lambda _: "can not")
    builder.rewrite(_SPACES, lambda run: None if run == " " else " ")
    return builder.result()
