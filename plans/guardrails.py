"""Plan guardrails: plans advise, they never withhold care or mandate a response.

`check_plan` reads every free-text field of a response-plan document and returns
findings. A "block" finding is a directive that withholds care or mandates a
response ("do not convey", "not to be admitted", "no police attendance"):
publishing refuses it until the words change. An "acknowledge" finding is
sanction or stigmatising wording ("arrest", "frequent flyer", "ASBO"): the lead
clinician may still publish, but only after acknowledging each one with a reason.

The rules are deliberately plain regular expressions with named exceptions, so a
clinician can read why a phrase was (or was not) caught. Supportive phrasings
such as "always assess and treat", "do not hesitate to convey if injured" and
"never refuse care" must pass; the tests keep tables of both kinds.

Pure: no session, no IO.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from plans import guardrails_lexicon as lexicon
from plans import guardrails_model
from plans.guardrails_text import normalise

BLOCK = "block"
ACKNOWLEDGE = "acknowledge"
SEVERITIES: tuple[str, ...] = (BLOCK, ACKNOWLEDGE)


@dataclass(frozen=True)
class Finding:
    """One guarded phrase in one field of a plan."""

    code: str
    severity: str  # "block" | "acknowledge"
    pointer: str  # JSON pointer of the field, e.g. /plan/advice_for/ambulance
    phrase: str  # the words matched, as written
    message: str  # plain English: why, and what to write instead

    @property
    def key(self) -> str:
        """Return the identity an acknowledgement refers to."""
        return finding_key(self.code, self.pointer, self.phrase)

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as the dict stored on a plan version."""
        return asdict(self)


def finding_key(code: str, pointer: str, phrase: str) -> str:
    """Return the stable identity of a finding: code, field and phrase."""
    return f"{code}|{pointer}|{' '.join(phrase.lower().split())}"


# --- which fields are free text ------------------------------------------------

# Keys whose strings are identifiers, names, numbers or enumerations, never advice.
# A surname such as "Fine" or a street called "Warner Road" must not be flagged.
_NOT_FREE_TEXT = frozenset(
    {
        "format",
        "code",
        "ref",
        "given_name",
        "family_name",
        "preferred_name",
        "nhs_number",
        "aliases",
        "date_of_birth",
        "sex",
        "phone",
        "email",
        "hours",
        "postcode",
        "address",
        "status",
        "version",
        "published_at",
        "review_by",
        "approved_by",
        "approved_on",
        "assessed_on",
        "agreed_on",
        # The capacity acknowledgement's approver and date; its review is text.
        "by",
        "on",
        "sharing_basis",
        "relationship",
        "role",
        "level",
        "name",
        # response-plan/2: codes, enumerations and the names of who is responsible
        "ods_code",
        "kind",
        "outcome",
        "assessor",
        "responsible",
        "recorded_on",
    }
)
# Exceptions to the list above: the diagnosis's name is clinical text.
_FREE_TEXT_POINTERS = frozenset({"/plan/diagnosis/name"})
# Objects that hold no advice at all: who owns the plan and who to call.
_SKIPPED_POINTERS = frozenset(
    {
        "/team",
        "/plan/nominated_people",
        "/plan/mentors",
        "/plan/supported_by",
        "/plan/gp_practice",
    }
)


def _escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def free_text_fields(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Yield (JSON pointer, text) for every free-text field of a document."""

    def walk(value: Any, pointer: str, key: str | None) -> Iterator[tuple[str, str]]:
        if pointer in _SKIPPED_POINTERS:
            return
        if isinstance(value, dict):
            for child_key, child in value.items():
                yield from walk(child, f"{pointer}/{_escape(child_key)}", child_key)
        elif isinstance(value, list):
            for index, child in enumerate(value):
                # Items of a list take the list's key for the free-text decision.
                yield from walk(child, f"{pointer}/{index}", key)
        elif isinstance(value, str) and value.strip():
            if pointer in _FREE_TEXT_POINTERS or key not in _NOT_FREE_TEXT:
                yield pointer, value

    if not isinstance(document, dict):
        return
    for top in ("person", "plan"):
        if top in document:
            yield from walk(document[top], f"/{top}", top)


# --- the rules -----------------------------------------------------------------

_FLAGS = re.IGNORECASE


@dataclass(frozen=True)
class _Rule:
    code: str
    severity: str
    pattern: re.Pattern[str]
    message: str
    # The rule is skipped when the text just before the match ends like this
    # (same sentence): double negatives, preferences, descriptions.
    unless_before: re.Pattern[str] | None = None
    # Or when the text just after the match starts like this.
    unless_after: re.Pattern[str] | None = None


def _rule(
    code: str,
    severity: str,
    pattern: str,
    message: str,
    *,
    unless_before: str | None = None,
    unless_after: str | None = None,
) -> _Rule:
    return _Rule(
        code,
        severity,
        re.compile(pattern, _FLAGS),
        message,
        re.compile(rf"(?:{unless_before})\s*$", _FLAGS) if unless_before else None,
        re.compile(rf"^\s*(?:{unless_after})", _FLAGS) if unless_after else None,
    )


_WITHHOLD_HINT = (
    " Plans advise and never withhold care or tell a service not to respond: "
    "responders must always be free to assess and treat."
)


# --- reading the words -----------------------------------------------------------

_LEX = lexicon
_CARE_CODES_BY_NOUN = {
    **dict.fromkeys(
        ("conveyance", "conveying", "transport", "hospital", "a&e", "ed"),
        "no_conveyance",
    ),
    **dict.fromkeys(("admission", "admissions", "bed", "beds", "ward"), "no_admission"),
    **dict.fromkeys(
        (
            "attendance", "attendances", "response", "responses", "ambulance",
            "ambulances", "dispatch", "deployment", "unit", "units", "crew", "crews",
            "paramedic", "paramedics", "call", "calls", "999", "resources", "action",
            "priority", "callback", "visit", "visits", "requests", "request",
            "number", "phone", "line", "police", "officers",
        ),
        "no_attendance",
    ),
}  # fmt: skip
_LIGHT_CODES = {
    **dict.fromkeys(("take", "bring", "drive", "carry", "move"), "no_conveyance"),
    **dict.fromkeys(("accept", "let", "allow", "permit", "book"), "no_admission"),
    **dict.fromkeys(
        ("send", "call", "phone", "ring", "contact", "summon", "request", "answer",
         "pick", "return", "look", "search", "check", "report", "go", "come", "put"),
        "no_attendance",
    ),
}  # fmt: skip
_MODALS = frozenset({"should", "must", "shall", "will", "ought"})
_GIVERS = frozenset({"give", "offer", "provide", "administer", "find", "arrange"})
_TO_MODALS = frozenset(
    {"is", "are", "am", "has", "have", "need", "needs", "ought", "required",
     "expected", "instructed", "told", "advised", "asked", "be", "requested",
     "encouraged", "urged", "reminded", "directed", "obliged", "supposed", "orders",
     "instruction", "instructions", "bound", "duty"}
)  # fmt: skip
_STRONG_MODALS = frozenset({"must", "shall", "required", "has", "have", "obliged"})
_ARTICLES = frozenset({"the", "a", "an", "his", "their", "any", "all", "this", "that"})
_CLINICIANS = frozenset(
    {"doctor", "doctors", "psychiatrist", "clinician", "nurse", "gp", "team",
     "liaison", "consultant", "registrar", "medic", "paramedic", "crisis", "duty"}
)  # fmt: skip


@dataclass(frozen=True)
class _Token:
    word: str
    start: int
    end: int


_TOKEN = re.compile(r"[a-z0-9]+(?:[&-][a-z0-9]+)*|&|,")
_CLAUSE_BREAK = re.compile(r"[.!?;:]+(?=\s|$)|\n|\s[-/]\s|[()\[\]\"]")


def _clauses(text: str) -> Iterator[list[_Token]]:
    start = 0
    for brk in [*_CLAUSE_BREAK.finditer(text), None]:
        end = brk.start() if brk else len(text)
        tokens = [
            _Token(match.group(), match.start(), match.end())
            for match in _TOKEN.finditer(text, start, end)
        ]
        merged: list[_Token] = []
        for token in tokens:
            # "A & E" and "A and E" are one place.
            if (
                token.word == "e"
                and len(merged) >= 2
                and merged[-1].word in ("&", "and")
                and merged[-2].word == "a"
            ):
                merged[-2:] = [_Token("a&e", merged[-2].start, token.end)]
                continue
            merged.append(token)
        if merged:
            yield merged
        if brk:
            start = brk.end()


@dataclass(frozen=True)
class _Hit:
    code: str
    first: int  # token indexes, inclusive
    last: int


class _Clause:
    """One clause's words, with the questions the rules ask of them."""

    def __init__(self, tokens: list[_Token], text: str) -> None:
        self.tokens = tokens
        self.words = [token.word for token in tokens]
        self.text = text  # the whole normalised field

    @property
    def sentence_after(self) -> str:
        """Return the rest of the sentence after this clause, normalised."""
        end = self.tokens[-1].end
        stop = _FULL_STOP.search(self.text, end)
        return self.text[end : stop.end() if stop else None]

    def __len__(self) -> int:
        return len(self.words)

    def at(self, index: int) -> str:
        return self.words[index] if 0 <= index < len(self.words) else ""

    def lemma(self, index: int) -> str:
        word = self.at(index)
        lemma = _LEX.FORMS.get(word, "")
        if not lemma and word.startswith("re-"):
            # "re-admit", "re-assess": the same care again.
            lemma = _LEX.FORMS.get(word[3:], "")
        return lemma

    def is_base(self, index: int) -> bool:
        return self.at(index) == self.lemma(index)

    def is_participle(self, index: int) -> bool:
        word = self.at(index)
        return (
            bool(self.lemma(index))
            and word != self.lemma(index)
            and (not word.endswith(("ing", "s")) or word in ("seen", "given", "taken"))
        )

    def window(self, index: int, size: int = 8) -> list[str]:
        """Return the words after `index`, up to a comma or `size` words."""
        out = []
        for word in self.words[index + 1 : index + 1 + size]:
            if word == ",":
                break
            out.append(word)
        return out

    def content_after(self, index: int, size: int = 6) -> list[str]:
        """Return the words after `index` with articles and pronouns left out."""
        return [
            word
            for word in self.window(index, size)
            if word not in _LEX.DETERMINERS and word not in _LEX.PERSON_OBJECTS
        ]

    def opener_start(self, index: int) -> int:
        """Return where the run of openers and adverbs before `index` begins."""
        k = index
        while k > 0 and (
            self.at(k - 1) in _LEX.OPENERS
            or (self.at(k - 1).endswith("ly") and self.at(k - 1) not in ("only",))
        ):
            k -= 1
        return k

    def starts_clause(self, index: int) -> bool:
        k = self.opener_start(index)
        return k == 0 or self.at(k - 1) == ","

    def modal_before(self, index: int) -> str:
        """Return the directive modal governing the verb at `index`, or ""."""
        k = self.opener_start(index) - 1
        word = self.at(k)
        if word in _MODALS:
            return word
        if word == "to" and self.at(k - 1) in _TO_MODALS:
            return "required" if self.at(k - 1) == "required" else self.at(k - 1)
        if (
            word == "to"
            and self.at(k - 1) in _LEX.SERVICE_SUBJECTS
            and all(w in _ARTICLES or w in _LEX.OPENERS for w in self.words[: k - 1])
        ):
            # A plan's shorthand: "Crews to leave him at home."
            return "required"
        if (
            word == "to"
            and self.at(k - 1) in ("be", "able")
            and self.at(k - 2)
            in (
                "required",
                "needs",
                "need",
            )
        ):
            return "required"
        return ""

    def directive_clause(self, upto: int) -> bool:
        """Say whether the clause reads as an instruction before `upto`."""
        if self.lemma(0) and self.is_base(0):
            return True
        return any(word in _MODALS or word == "to" for word in self.words[:upto])

    def is_directive(self, index: int) -> str:
        """Return how the verb at `index` is a directive: "active", "passive" or ""."""
        if self.is_base(index):
            if self.starts_clause(index) or self.modal_before(index):
                return "active"
            k = self.opener_start(index) - 1
            if self.at(k) in ("and", "or", "then") and self.directive_clause(k):
                return "active"
            # "Call security and hold him": the "and" was read as an opener.
            k += 1
            if k > 0 and self.at(k) in ("and", "or", "then"):
                if self.directive_clause(k):
                    return "active"
            return ""
        if self.is_participle(index):
            k = self.opener_start(index) - 1
            if self.at(k) == "be":
                if self.modal_before(k) or self.at(k - 1) == "to":
                    return "passive"
                if self.at(k - 1) in ("always", "never") and self.modal_before(k - 1):
                    return "passive"
            if self.at(k) == "and" and self.directive_clause(k):
                return "passive"
        return ""

    def subject(self, index: int) -> list[str]:
        """Return the words before `index` back to the clause's start or a comma."""
        start = index
        while start > 0 and self.at(start - 1) != ",":
            start -= 1
        return self.words[start:index]

    def in_subordinate(self, index: int) -> bool:
        """Say whether `index` sits in an opening "if ..., " clause."""
        first = self.subject(index)
        return bool(first) and first[0] in _LEX.SUBORDINATORS

    def negated_before(self, index: int) -> bool:
        before = self.subject(index)
        return any(
            word in ("not", "never", "avoid", "without", "no", "refrain", "minimise")
            for word in before
        ) or _negative_subject(before)


def _negative_subject(words: list[str]) -> bool:
    """Say whether the words name nobody: "no one", "nobody", "none of the crews"."""
    return any(
        w in ("nobody", "noone", "none", "neither", "nothing") for w in words
    ) or any(w == "no" and words[i + 1 : i + 2] == ["one"] for i, w in enumerate(words))


_SAYING = frozenset(
    {"say", "says", "said", "claim", "claims", "claimed", "insist", "insists",
     "feel", "feels", "felt", "think", "thinks", "believe", "believes", "tell",
     "tells", "reports", "report", "state", "states"}
)  # fmt: skip


def _reported(subject: list[str]) -> bool:
    """Say whether the words before a negation report what the person says:
    "he might say he doesn't need help" is his view, not an instruction."""
    return any(
        word in _SAYING
        and any(w in ("he", "she", "they", "i", "that") for w in subject[i + 1 :])
        for i, word in enumerate(subject)
    )


def _is_preference(subject: list[str]) -> bool:
    """Say whether the words before "not to" state a wish rather than an order.

    "She asked not to be taken to A&E" is hers; "crews are asked not to convey"
    is a request put to a service in the passive, which is an instruction.
    """
    for position, word in enumerate(subject):
        if (
            word in _LEX.REQUEST_PASSIVES
            and subject[position - 1 : position]
            and subject[position - 1]
            in ("is", "are", "am", "was", "were", "be", "been")
            and any(w in _LEX.SERVICE_SUBJECTS for w in subject[:position])
            and not any(w in _LEX.PERSON_SUBJECTS for w in subject[:position])
        ):
            return False
    return any(w in _LEX.PREFERENCE for w in subject)


# --- care actions ------------------------------------------------------------------


def _manner_follows(clause: _Clause, index: int) -> bool:
    if any(w in _LEX.MANNER_NOUNS for w in clause.window(index, 5)):
        # "Do not send officers in uniform", "a lone crew member", "on a
        # stretcher": how care is given, not whether.
        return True
    words = clause.window(index, 4)
    if words and (words[0] in _LEX.PERSON_OBJECTS or words[0] == "anyone"):
        words = words[1:]
    if not words:
        return False
    if words[0] == "in" and len(words) > 1 and words[1] in ("any", "all"):
        return False
    if words[0] == "more" or words[:2] == ["any", "more"]:
        return True
    return words[0] in _LEX.MANNER


def _drug_reason(clause: _Clause) -> bool:
    """Say whether the sentence gives a clinical reason for a medicine's refusal:
    "not given haloperidol because of a heart condition"."""
    words = clause.words + _TOKEN.findall(clause.sentence_after)
    return any(word in _LEX.CLINICAL_REASONS for word in words)


def _goods_code(clause: _Clause, index: int) -> str | None:
    """Return a code when the words after `index` name care given to the person."""
    content = [
        w for w in clause.content_after(index, 8) if w not in _LEX.CARE_MODIFIERS
    ]
    if not content:
        return None
    # "food, drink or pain relief": a short list names care by any of its items.
    listed = content[:1]
    for word in content[1:4]:
        if word in _LIST_STOPS:
            break
        listed.append(word)
    for position, head in enumerate(listed):
        if position and not _is_list(clause, index):
            break
        if head in _LEX.DRUGS and not _drug_reason(clause):
            return "no_treatment"
        if head in ("anything", "nothing") or head in _LEX.CARE_NOUNS:
            return _CARE_CODES_BY_NOUN.get(head, "no_treatment")
    return None


_LIST_STOPS = frozenset(
    {"to", "for", "if", "when", "unless", "because", "as", "at", "with", "from",
     "while", "until", "before", "after", "since"}
)  # fmt: skip


def _is_list(clause: _Clause, index: int) -> bool:
    window = clause.words[index + 1 : index + 8]
    return "or" in window or "and" in window or "," in window


_CAPACITY = "capacity"
# Words that may stand before a care place without naming a particular one.
_PLAIN_PLACE_WORDS = frozenset(
    {"the", "a", "an", "any", "local", "nearest", "general", "district", "acute",
     "emergency", "mental", "health", "psychiatric", "main", "hospital"}
)  # fmt: skip


_RELATIVE = frozenset({"she", "he", "they", "that", "which", "where", "who"})


def _destination(clause: _Clause, index: int) -> bool | None:
    """Say whether the verb at `index` goes to care (True), elsewhere (False).

    "to hospital" and "to the nearest ED" are care; "to a cell" is custody and
    "to a mixed-sex ward" picks a particular place, so neither refuses care.
    None when no destination is named.
    """
    after = clause.window(index, 8)
    for position, word in enumerate(after):
        if word not in ("to", "into", "onto"):
            continue
        place = after[position + 1 : position + 5]
        if any(w in _LEX.CUSTODY_PLACES for w in place):
            return False
        for offset, w in enumerate(place):
            if w in _LEX.CARE_PLACES:
                # "to the ward she was on last year" picks one place.
                follows = after[position + 2 + offset : position + 3 + offset]
                return not (follows and follows[0] in _RELATIVE)
            if w in _LEX.ADDRESSES:
                return None
            if w not in _PLAIN_PLACE_WORDS and w not in _LEX.PERSON_OBJECTS:
                return False
        return None
    return None


def _care_action(clause: _Clause, index: int, depth: int = 0) -> str | None:
    """Return the code of the care action the verb at `index` names, or None."""
    lemma = clause.lemma(index)
    if not lemma:
        return None
    if lemma in _LEX.CARE_VERBS:
        if _manner_follows(clause, index):
            return None
        after = clause.window(index, 4)
        if _CAPACITY in after[:2]:
            # "Do not assess capacity while she is intoxicated" times an
            # assessment; it does not refuse one.
            return None
        if lemma in ("convey", "transport", "transfer", "admit") and (
            _destination(clause, index) is False
        ):
            return None
        if lemma == "respond":
            if after and after[0] in ("well", "badly", "quickly", "better", "best"):
                return None
            if after and after[0] == "to":
                target = [w for w in after[1:] if w not in _LEX.DETERMINERS]
                if target and target[0] not in _LEX.CALLS | _LEX.PERSON_OBJECTS | {
                    "anything",
                    "incidents",
                    "reports",
                }:
                    return None
        if lemma in ("refer", "treat") and "as" in after[:5]:
            # "Never treat her calls as routine" and "do not refer to him as a
            # time waster" are about regard; they neither give nor refuse care.
            return None
        if lemma == "review" and after and after[0] not in _LEX.PERSON_OBJECTS:
            return None
        if lemma == "monitor" and after and after[0] not in _LEX.PERSON_OBJECTS:
            return None
        return _LEX.CARE_VERBS[lemma]
    if lemma not in _LEX.LIGHT_VERBS:
        return None
    code = _LIGHT_CODES.get(lemma, "no_treatment")
    after = clause.window(index, 8)
    if lemma in ("carry", "do") and after[:1] == ["out"]:
        return _goods_code(clause, index + 1)
    if (
        lemma == "take"
        and "on" in after[:2]
        and ("patient" in after or "caseload" in after or "books" in after)
    ):
        return "no_admission"
    if lemma in ("take", "bring", "drive", "carry", "move", "go", "come", "get"):
        if _destination(clause, index) is False:
            return None
        for position, word in enumerate(after):
            if word in ("to", "into", "in", "towards"):
                place = [w for w in after[position + 1 : position + 4]]
                if any(w in _LEX.CUSTODY_PLACES for w in place):
                    return None
                if any(w in _LEX.CARE_PLACES for w in place):
                    return "no_conveyance"
                if (
                    lemma in ("go", "come")
                    and place
                    and (
                        place[0] in _LEX.ADDRESSES
                        or any(w in _LEX.ADDRESSES for w in place[1:2])
                    )
                ):
                    return "no_attendance"
        if lemma in ("go", "come") and after[:1] == ["out"]:
            return "no_attendance"
        if lemma == "get" and _goods_code(clause, index):
            return "no_treatment"
        if lemma == "take" and any(w in _LEX.OBSERVATIONS for w in after[:5]):
            # "Paramedics need not take a full set of obs."
            return "no_treatment"
        return None
    if lemma == "act":
        # "Her threats are not to be acted on."
        return code if after[:1] in (["on"], ["upon"]) else None
    if lemma == "send":
        if _manner_follows(clause, index):
            return None
        if clause.at(index - 1) == "be" and (
            _noun_code(clause.subject(index))
            or any(w in _LEX.SERVICES for w in clause.subject(index))
        ):
            return code
        first = [w for w in after if w not in _ARTICLES]
        if first and first[0] in _LEX.PERSON_OBJECTS:
            return None
        if "alone" in first[:4]:
            return None
        if any(w in _LEX.SERVICES for w in first[:3]):
            return code
        return None
    if lemma in ("call", "phone", "ring", "contact", "summon", "request"):
        first = [w for w in after if w not in _ARTICLES and w != "for"]
        if first and first[0] in _LEX.PERSON_OBJECTS:
            return None
        if "alone" in first[:4]:
            return None
        if any(w in _LEX.SERVICES for w in first[:3]):
            return code
        return None
    if lemma in _GIVERS or lemma == "receive":
        if _manner_follows(clause, index):
            return None
        if clause.at(index - 1) == "be" and lemma != "receive":
            # "Medication should not be given": what is given is the subject.
            return _noun_code(clause.subject(index)) or _goods_code(clause, index)
        if _destination(clause, index) is True:
            # "Do not offer her a lift to hospital."
            return "no_conveyance"
        return _goods_code(clause, index)
    if lemma == "see":
        if clause.at(index - 1) == "be":
            return "no_treatment"
        first = [w for w in after if w not in _ARTICLES]
        if first and (first[0] in _LEX.PERSON_OBJECTS or first[0] in _CLINICIANS):
            if len(first) > 1 and first[1] in ("as", "like"):
                return None
            return "no_treatment"
        return None
    if lemma in ("answer", "pick", "return", "put"):
        if any(w in _LEX.CALLS for w in after[:4]):
            if lemma == "put" and "through" not in after:
                return None
            return code
        if lemma in ("answer", "pick") and (
            not after or after[0] in ("up", "her", "him")
        ):
            return code
        return None
    if lemma in ("look", "search"):
        # "Do not search for her" refuses a search for a missing person; "do
        # not search her bag" is about her belongings.
        return code if after[:1] == ["for"] else None
    if lemma == "check":
        return code if after[:1] == ["on"] else None
    if lemma == "report":
        return code if "missing" in after[:3] else None
    if lemma == "accept":
        content = [w for w in after if w not in _ARTICLES]
        if content and content[0] in (
            "handover", "referral", "referrals", "transfer", "him", "her", "them",
            "patient", "admission",
        ):  # fmt: skip
            return code
        return None
    if lemma in ("make", "arrange", "complete", "book", "carry", "do"):
        if lemma == "book" and "in" in after[:2]:
            return "no_admission"
        return _goods_code(clause, index + (1 if clause.at(index + 1) == "out" else 0))
    if lemma in ("let", "allow", "permit"):
        k = index + 1
        while clause.at(k) in _LEX.PERSON_OBJECTS or clause.at(k) in _ARTICLES:
            k += 1
        if clause.at(k) in ("in", "into", "onto", "through", "back"):
            return "no_admission"
        if clause.at(k) in ("be", "to"):
            k += 1
        if depth < 2 and clause.lemma(k):
            return _care_action(clause, k, depth + 1)
        return None
    if lemma == "waste":
        return "no_treatment" if "on" in after else None
    return None


# --- withholding ------------------------------------------------------------------

# The words that turn a directive into an instruction not to act, and whether they
# are directives whatever the subject ("should not") or only when the subject is
# a service or absent ("do not", "will not", "never").
_MODAL_NEGATORS = frozenset({"should", "must", "shall", "ought", "need", "needs"})
_PLAIN_NEGATORS = frozenset({"do", "will", "can", "may", "does", "would", "could"})


_NEGATIVE_IDIOMS = frozenset(
    {"circumstances", "account", "point", "time", "stage", "occasion"}
)


def _negation_at(clause: _Clause, index: int) -> tuple[int, int, bool] | None:
    """Return (first, after, modal) for a negator at `index`, or None."""
    word = clause.at(index)
    before = clause.at(index - 1)
    if word == "not":
        if before in _MODAL_NEGATORS:
            return index - 1, index + 1, True
        if before in ("is", "are", "am") and clause.at(index + 1) == "to":
            return index - 1, index + 1, True
        if before in _PLAIN_NEGATORS:
            return index - 1, index + 1, False
        if before == "did" or before in ("is", "are", "was", "were", "am", "has"):
            return None
        if clause.at(index + 1) == "to" and not _is_preference(clause.subject(index)):
            return index, index + 1, True
        if clause.starts_clause(index):
            return index, index + 1, True
        if before in ("and", "or", "but") and clause.directive_clause(index):
            return index, index + 1, True
        return None
    if word == "never":
        if before in _MODAL_NEGATORS or before in ("is", "are"):
            return index - 1, index + 1, True
        if before in _PLAIN_NEGATORS:
            return index - 1, index + 1, False
        if clause.starts_clause(index):
            return index, index + 1, True
        return index, index + 1, False
    if (
        word == "no"
        and clause.at(index - 1) in ("under", "in", "on", "at")
        and clause.at(index + 1) in _NEGATIVE_IDIOMS
    ):
        # "Under no circumstances", "on no account", "at no point": the verb
        # comes after the inverted modal.
        return index - 1, index + 2, True
    if word == "neither":
        if before in _MODAL_NEGATORS:
            return index - 1, index + 1, True
        if before in _PLAIN_NEGATORS:
            return index - 1, index + 1, False
        return index, index + 1, clause.starts_clause(index)
    if word == "nor":
        # "Neither attend nor convey": "nor" carries the directive of "neither".
        for earlier in range(index - 1, -1, -1):
            if clause.at(earlier) in ("neither", "not", "never"):
                negation = _negation_at(clause, earlier)
                if negation is None:
                    return None
                return index, index + 1, negation[2]
        return None
    if word == "no" and clause.at(index + 1) == "longer":
        return index, index + 2, False
    return None


def _passive_decision(clause: _Clause, first: int, after: int) -> bool:
    """Say whether "will not be admitted" states a decision to withhold care.

    A passive future names what will not be done to the person, whoever the
    subject is: "treatment will not be offered", "she won't be admitted".
    """
    return (
        clause.at(first) in ("will", "shall")
        and clause.at(after) == "be"
        and clause.is_participle(after + 1)
    )


_MANDATIVE = frozenset(
    {"ask", "asked", "request", "requested", "recommend", "recommended", "advise",
     "advised", "suggest", "suggested", "agreed", "ensure", "insist", "require",
     "required", "expect", "expected"}
)  # fmt: skip


def _plain_negation_is_directive(clause: _Clause, first: int) -> bool:
    subject = clause.subject(first)
    if clause.at(first) == "does":
        # "We would ask that the ambulance service does not attend": a request
        # put to a service after "ask that" is an instruction.
        return any(w in _MANDATIVE for w in subject) and any(
            w in _LEX.SERVICE_SUBJECTS for w in subject
        )
    if not subject or all(w in _LEX.OPENERS for w in subject):
        return True
    if any(w in _LEX.SERVICE_SUBJECTS for w in subject):
        return not any(w in ("he", "she", "i", "they") for w in subject)
    return False


_NEEDS = frozenset({"need", "needs", "require", "requires"})


def _negated_care(clause: _Clause) -> Iterator[_Hit]:
    for index, word in enumerate(clause.words):
        if word in ("nobody", "none", "noone") or (
            word == "no" and clause.at(index + 1) == "one"
        ):
            yield from _nobody_may(clause, index)
            continue
        if word not in ("not", "never", "no", "neither", "nor"):
            continue
        negation = _negation_at(clause, index)
        if negation is None:
            continue
        first, after, modal = negation
        if clause.in_subordinate(first) or _reported(clause.subject(first)):
            continue
        if (
            not modal
            and clause.at(after) not in _NEEDS
            and not _plain_negation_is_directive(clause, first)
            and not _passive_decision(clause, first, after)
        ):
            continue
        if _is_preference(clause.subject(first)) and clause.at(after) == "to":
            continue
        k = after
        needs = False
        while k < len(clause) and k - after < 6:
            current = clause.at(k)
            if current == "," and k == after:
                # "Do not, under any circumstances, convey him": read past an
                # aside between the negation and its verb.
                closing = next(
                    (i for i in range(k + 1, min(len(clause), k + 8))
                     if clause.at(i) == ","),
                    None,
                )  # fmt: skip
                if closing is None:
                    break
                k = closing + 1
                after = k
                continue
            if current in _LEX.HEDGES:
                k = -1
                break
            if current in _NEEDS:
                needs = True
                if current not in _LEX.SKIP_AFTER_NEGATION:
                    k += 1
                    continue
            if current in _LEX.SKIP_AFTER_NEGATION or (
                current.endswith("ly") and current != "only"
            ):
                k += 1
                continue
            break
        if k < 0 or k >= len(clause):
            continue
        if clause.at(first + 2) in _NEGATIVE_IDIOMS:
            # "Under no circumstances should crews attend": the verb comes later.
            k = next(
                (
                    i
                    for i in range(after, min(len(clause), after + 6))
                    if clause.lemma(i)
                ),
                k,
            )
        code = _care_action(clause, k)
        if code is None and clause.at(k + 1) in ("or", "and") and clause.lemma(k + 2):
            code = _care_action(clause, k + 2)
        if code is None and needs and not clause.lemma(k):
            code = _noun_code(
                [w for w in clause.window(k - 1, 3) if w not in _ARTICLES]
            )
        if code is None and clause.at(k) == "for" and clause.at(first) == "not":
            content = clause.content_after(k, 3)
            if content and (
                content[0] in _LEX.CARE_NOUNS or content[0] in _LEX.CARE_PLACES
            ):
                code = _CARE_CODES_BY_NOUN.get(content[0], "no_admission")
        if code:
            yield _Hit(code, first, k)


def _nobody_may(clause: _Clause, index: int) -> Iterator[_Hit]:
    """ "No one should attend her calls", "none of the crews are to assess her"."""
    if clause.in_subordinate(index):
        return
    j = index + (2 if clause.at(index) == "no" else 1)
    limit = j + 5
    while j < min(len(clause), limit):
        word = clause.at(j)
        if word in _MODAL_NEGATORS or word in ("will", "can", "may"):
            k = j + 1
            break
        if word in ("is", "are") and clause.at(j + 1) == "to":
            k = j + 2
            break
        j += 1
    else:
        return
    while clause.at(k) in _LEX.SKIP_AFTER_NEGATION and k < len(clause):
        k += 1
    code = _care_action(clause, k)
    if code:
        yield _Hit(code, index, k)


def _noun_code(words: list[str]) -> str | None:
    for word in words:
        if word in _LEX.COERCIVE_NOUNS:
            return None
        if word in _LEX.CARE_NOUNS:
            return _CARE_CODES_BY_NOUN.get(word, "no_treatment")
        lemma = _LEX.FORMS.get(word, "")
        if lemma in _LEX.CARE_VERBS and word.endswith("ing"):
            return _LEX.CARE_VERBS[lemma]
    return None


def _nominal_denial(clause: _Clause) -> Iterator[_Hit]:
    words = clause.words
    for index, word in enumerate(words):
        if word == "no" and clause.at(index + 1) not in ("longer", "one", "doubt"):
            subject = clause.subject(index)
            opening = (
                not subject
                or subject[-1:] == ["take"]
                or all(
                    w in _LEX.OPENERS
                    or w in ("there", "is", "are", "be", "should", "and")
                    for w in subject
                )
            )
            if not opening:
                # "Give her no analgesia", "Offer him no treatment".
                k = index - 1
                while clause.at(k) in _LEX.PERSON_OBJECTS:
                    k -= 1
                if clause.lemma(k) in _GIVERS and clause.is_directive(k) == "active":
                    code = _noun_code(clause.window(index, 3))
                    if code:
                        yield _Hit(code, k, index + 1)
                continue
            following = clause.window(index, 4)
            if following[:1] and following[0] in (
                "need", "point", "requirement", "reason", "call",
            ):  # fmt: skip
                rest = following[1:]
                while rest and rest[0] in ("to", "for", "in", "any", "further"):
                    rest = rest[1:]
                offset = len(following) - len(rest) + 1
                code = None
                if rest:
                    code = _care_action(clause, index + offset) or _noun_code(rest[:2])
                if code:
                    yield _Hit(code, index, index + offset)
                continue
            candidates = []
            for w in clause.window(index, 6):
                if w in ("is", "are", "to", "be", "should", "must", "will", "for"):
                    break
                if w not in ("further", "more", "routine", "mental", "health"):
                    candidates.append(w)
            candidates = candidates[:3]
            if candidates and candidates[0] in _LEX.LIMITS:
                # "There is no cap on attendances" denies a limit, not care.
                continue
            if (
                candidates
                and candidates[0] in ("police", "ambulance")
                and (len(candidates) == 1 or candidates[1] in _LEX.CARE_NOUNS)
            ):
                yield _Hit("no_attendance", index, index + 1 + (len(candidates) > 1))
                continue
            code = _noun_code(candidates)
            if code is None:
                continue
            tail = following[1:4]
            if candidates[0] in ("referral", "referrals") and any(
                w in _LEX.NOT_NEEDED for w in tail
            ):
                # "Walk-in, no referral needed" describes open access.
                continue
            if any(
                w in ("available", "free", "arrives", "arrived", "comes", "came", "yet")
                for w in tail
            ):
                continue
            span = next(
                i for i in range(index + 1, len(words)) if words[i] in candidates
            )
            yield _Hit(code, index, span)
        elif word == "not" and clause.at(index - 1) in ("is", "are", "was", "be"):
            # "Conveyance is not required", "An ambulance is not needed".
            rest = [w for w in clause.window(index, 3) if w not in ("really",)]
            if not rest or rest[0] in _LEX.HEDGES or rest[0] not in _LEX.NOT_NEEDED:
                continue
            subject = clause.subject(index - 1)
            if subject and subject[0] in _LEX.SUBORDINATORS:
                continue
            heads = [w for w in subject if w not in _ARTICLES][:2]
            code = _noun_code(heads)
            if code:
                yield _Hit(code, index - 1 - len(subject), index + 1)
            elif subject in (["it"], ["there"]) and clause.at(index + 2) == "to":
                # "It is not necessary to convey her."
                code = _care_action(clause, index + 3)
                if code:
                    yield _Hit(code, index - 2, index + 3)
        elif word in ("banned", "barred", "excluded"):
            rest = clause.window(index, 4)
            if "from" in rest[:2] and any(
                w in _LEX.CARE_PLACES or w in ("site", "premises") for w in rest
            ):
                yield _Hit("no_admission", index, index + 1 + len(rest[:3]))
        elif word == "only":
            yield from _only_when(clause, index)


def _only_when(clause: _Clause, index: int) -> Iterator[_Hit]:
    """ "Only attend if injured", "Convey only when ...": care on a condition."""
    after = clause.words[index + 1 :]
    if any(w in _LEX.CONDITIONS for w in after[:1]):
        # "attend only when": the verb comes before.
        k = index - 1
        while k >= 0 and (
            clause.at(k) in _LEX.PERSON_OBJECTS or clause.at(k) in _ARTICLES
        ):
            k -= 1
        if k >= 0 and clause.is_directive(k) and _care_action(clause, k):
            yield _Hit(_care_action(clause, k) or "no_treatment", k, index + 1)
        return
    k = index + 1
    if (
        clause.lemma(k)
        and clause.is_base(k)
        and (clause.starts_clause(index) or clause.modal_before(index))
    ):
        code = _care_action(clause, k)
        if code and any(w in _LEX.CONDITIONS for w in after[1:]):
            yield _Hit(code, index, k)


_CALL_ENDERS = frozenset(
    {"cancel", "downgrade", "stand", "end", "terminate", "close", "block", "hang",
     "put", "restrict", "limit", "deprioritise", "deprioritize"}
)  # fmt: skip
# Putting a person's calls below everyone else's withholds a response, whatever
# the object: "Downgrade.", "Deprioritise all calls from this caller."
_DEMOTERS = frozenset({"downgrade", "deprioritise", "deprioritize"})
_REFUSERS = frozenset(
    {"refuse", "decline", "deny", "withhold", "avoid", "refrain", "stop", "cease",
     "delay", "postpone", "defer", "prevent", "neglect", "discourage", "dissuade"}
)  # fmt: skip


def _refusal_object(clause: _Clause, index: int, lemma: str) -> str | None:
    """Return the code when the refusal at `index` is aimed at care."""
    after = clause.window(index, 8)
    k = index + 1
    if lemma == "refrain" and clause.at(k) == "from":
        k += 1
    start = k
    while (
        clause.at(k) in _ARTICLES
        or clause.at(k) in _LEX.PERSON_OBJECTS
        or clause.at(k) in ("any", "all", "further", "every")
        or (clause.at(k) == "from" and lemma in ("discourage", "dissuade"))
    ):
        k += 1
    if clause.at(k) in ("contact", "contacts") and any(
        w in _LEX.SERVICES for w in clause.window(k, 4)
    ):
        # "Discourage any further contact with the crisis team."
        return "no_attendance"
    if clause.at(k) == "to":
        return _care_action(clause, k + 1)
    word = clause.at(k)
    form = _LEX.FORMS.get(word, "")
    if form and word.endswith("ing"):
        return _care_action(clause, k)
    if word in ("requests", "request", "calls", "call") and lemma not in ("stop",):
        rest = clause.window(k, 4)
        if rest[:1] == ["for"]:
            return _noun_code(rest[1:4]) or "no_treatment"
        return "no_attendance"
    code = _noun_code([word, clause.at(k + 1)]) if word else None
    if code and word not in ("review", "check", "visit") or word in _LEX.DRUGS:
        return code or "no_treatment"
    if not after or (k > start and (not word or word == ",")):
        if lemma in ("refuse", "deny", "decline") and k > start:
            return "no_treatment"
    return None


_UNSEEN = frozenset(
    {"seen", "seeing", "review", "reviewed", "assessment", "assessed", "assessing",
     "follow-up", "follow", "treatment", "treated", "doctor", "examination",
     "examined", "triage", "triaged", "any", "medical", "further", "clinical"}
)  # fmt: skip


def _discharged_at_once(after: list[str]) -> str | None:
    """ "Discharge immediately", "redirected to his GP without being seen",
    "discharged as soon as he arrives", "with no follow-up"."""
    if any(w in ("immediately", "straight", "now", "soon", "arrival") for w in after):
        return "no_treatment"
    for position, word in enumerate(after):
        if word in ("without", "no") and any(
            w in _UNSEEN or w in _LEX.CARE_NOUNS
            for w in after[position + 1 : position + 5]
        ):
            return "no_treatment"
    return None


def _refusals(clause: _Clause) -> Iterator[_Hit]:
    for index, _word in enumerate(clause.words):
        lemma = clause.lemma(index)
        if lemma not in _LEX.DENIAL_VERBS:
            continue
        mode = clause.is_directive(index)
        if not mode or clause.in_subordinate(index):
            continue
        if _negative_subject(clause.subject(index)) or clause.subject(index)[:1] == [
            "no"
        ]:
            # "No one should leave her alone", "no call from her should be
            # downgraded": a subject that names nothing forbids the refusal.
            continue
        after = clause.window(index, 8)
        code: str | None = None
        if mode == "passive" and clause.negated_before(index):
            # "He must never be discharged without transport home" forbids it.
            continue
        if mode == "passive":
            subject = [w for w in clause.subject(index) if w not in _ARTICLES]
            if lemma in _REFUSERS | _CALL_ENDERS | {
                "ignore", "disregard", "turn", "exclude", "bar",
            }:  # fmt: skip
                code = _noun_code(subject[:3]) or (
                    "no_attendance"
                    if any(w in _LEX.CALLS for w in subject[:3])
                    else None
                )
                if code is None and lemma in ("ignore", "disregard"):
                    if any(w in _LEX.SYMPTOMS for w in subject[:3]):
                        code = "no_treatment"
                if lemma in _DEMOTERS:
                    code = code or "no_attendance"
            elif lemma in ("discharge", "redirect"):
                code = _discharged_at_once(after)
                if code is None and lemma in _REFUSERS:
                    code = _noun_code(after[:3])
        elif lemma in _REFUSERS:
            code = _refusal_object(clause, index, lemma)
        elif lemma in ("ignore", "disregard", "dismiss"):
            first = [w for w in after if w not in _ARTICLES]
            if first and (
                first[0] in _LEX.PERSON_OBJECTS
                or first[0] in _LEX.CALLS
                or first[0] in ("requests", "999", "pleas", "alarms")
                or (first[0] in ("emergency",) and "calls" in first[:2])
            ):
                code = "no_attendance"
            elif any(w in _LEX.SYMPTOMS for w in first[:3]):
                # "Ignore any reported chest pain."
                code = "no_treatment"
        elif lemma in _CALL_ENDERS:
            if lemma in _DEMOTERS:
                code = "no_attendance"
            elif lemma == "hang" and after[:1] == ["up"]:
                code = "no_attendance"
            elif lemma == "stand" and "down" in after[:4]:
                code = "no_attendance"
            elif lemma in ("end", "terminate", "close") and any(
                w in ("once", "after", "when", "politely") for w in after
            ):
                code = None
            elif lemma == "put" and "down" not in after:
                code = None
            elif lemma in ("restrict", "limit") and not any(
                w in _LEX.CALLS or w in _LEX.CARE_NOUNS for w in after[:4]
            ):
                code = None
            else:
                objects = [w for w in after[:4] if w not in _ARTICLES]
                if any(
                    w in _LEX.CALLS
                    or w in ("ambulance", "ambulances", "response", "job", "incident",
                             "crew", "unit", "dispatch", "attendance")
                    for w in objects
                ):  # fmt: skip
                    code = "no_attendance"
        elif lemma in ("turn", "send"):
            first = [w for w in after if w not in _ARTICLES]
            if lemma == "turn" and after[:1] == ["down"]:
                code = _refusal_object(clause, index + 1, "refuse")
            elif "away" in first[:3]:
                code = "no_treatment"
            elif "home" in first[:3] and "without" in first:
                code = "no_treatment"
        elif lemma in ("discharge", "redirect"):
            code = _discharged_at_once(after)
        elif lemma in ("leave", "abandon", "walk"):
            if lemma == "walk":
                code = "no_attendance" if after[:1] == ["away"] else None
            elif lemma == "abandon":
                code = "no_attendance"
            elif "untreated" in after or "unassessed" in after:
                code = "no_treatment"
            elif after[:2] in (["at", "home"], ["at", "scene"]):
                # "Not suitable for the place of safety; leave at home."
                code = "no_attendance"
            elif after and after[0] in _LEX.PERSON_OBJECTS:
                rest = after[1:]
                if not rest or rest[0] in (
                    "where", "there", "at", "on", "in", "be", "outside", "untreated",
                    "to", "alone", "here", "lying", "sitting", "until",
                ):  # fmt: skip
                    code = "no_attendance"
        elif lemma in ("bar", "ban", "exclude", "forbid", "prevent"):
            if "from" in after[:3] and any(
                w in _LEX.CARE_PLACES or w in ("site", "premises") for w in after
            ):
                code = "no_admission"
        if code:
            yield _Hit(code, index, index + min(len(after), 3))


def _advised_against(clause: _Clause) -> Iterator[_Hit]:
    """ "Advise against conveying", "we recommend against admission"."""
    if "against" not in clause.words:
        return
    for index, word in enumerate(clause.words):
        if word != "against" or clause.at(index - 1) not in _LEX.ADVISE_AGAINST:
            continue
        if clause.in_subordinate(index) or clause.negated_before(index - 1):
            continue
        code = _refusal_object(clause, index, "avoid")
        if code:
            yield _Hit(code, index - 1, index + 1)


def _unsuitable(clause: _Clause) -> Iterator[_Hit]:
    """ "Not suitable for admission", "does not merit a response": care denied
    by judging the person unworthy of it."""
    if "not" not in clause.words and "never" not in clause.words:
        return
    for index, word in enumerate(clause.words):
        if word not in ("not", "never") or clause.in_subordinate(index):
            continue
        k = index + 1
        while clause.at(k) in ("really", "deemed", "considered", "currently") or (
            clause.at(k).endswith("ly") and clause.at(k) not in _LEX.HEDGES
        ):
            k += 1
        if clause.at(k) in _LEX.HEDGES:
            continue
        if clause.at(k) in _LEX.SUITABILITY and clause.at(k + 1) == "for":
            content = clause.content_after(k + 1, 4)
            if content and (
                content[0] in _LEX.CARE_NOUNS or content[0] in _LEX.CARE_PLACES
            ):
                code = _CARE_CODES_BY_NOUN.get(content[0], "no_treatment")
                yield _Hit(code, index, k + 2)
        elif clause.at(k) in _LEX.ENTITLEMENT:
            objects = [
                w
                for w in clause.window(k, 5)
                if w not in _ARTICLES and w not in _LEX.PERSON_OBJECTS
            ]
            entitled = _noun_code(objects[:3])
            if entitled:
                yield _Hit(entitled, index, k + 1)


_PERMISSION = frozenset({"permitted", "allowed", "authorised", "authorized"})
_PROHIBITED = frozenset({"prohibited", "forbidden", "discouraged", "disallowed"})
_FORBIDDING_WORDS = _PERMISSION | _PROHIBITED


def _forbidden(clause: _Clause) -> Iterator[_Hit]:
    """Care put out of bounds: "crews are not permitted to convey her",
    "staff are prohibited from admitting him", "conveyance is forbidden"."""
    if _FORBIDDING_WORDS.isdisjoint(clause.words):
        return
    for index, word in enumerate(clause.words):
        if clause.in_subordinate(index):
            continue
        code: str | None = None
        if word == "not" and clause.at(index + 1) in _PERMISSION:
            if clause.at(index + 2) == "to":
                code = _care_action(clause, index + 3)
            elif clause.at(index - 1) in ("is", "are", "be"):
                heads = [w for w in clause.subject(index - 1) if w not in _ARTICLES]
                code = _noun_code(heads[:3])
        elif word in _PROHIBITED:
            if clause.at(index + 1) == "from":
                code = _refusal_object(clause, index, "refrain")
            elif clause.at(index + 1) == "to":
                code = _care_action(clause, index + 2)
            elif clause.at(index - 1) in ("is", "are", "be"):
                heads = [w for w in clause.subject(index - 1) if w not in _ARTICLES]
                code = _noun_code(heads[:3])
        if code:
            yield _Hit(code, index, index + 3)


def _kept_out(clause: _Clause) -> Iterator[_Hit]:
    """ "Keep him away from A&E", "keep her out of hospital"."""
    if "away" not in clause.words and "out" not in clause.words:
        return
    for index, _word in enumerate(clause.words):
        if clause.lemma(index) != "keep":
            continue
        if not clause.is_directive(index) or clause.in_subordinate(index):
            continue
        if clause.negated_before(index):
            continue
        k = index + 1
        while clause.at(k) in _LEX.PERSON_OBJECTS:
            k += 1
        if (clause.at(k), clause.at(k + 1)) not in (("away", "from"), ("out", "of")):
            continue
        place = clause.window(k + 1, 4)
        found = next((w for w in place if w in _LEX.KEEP_OUT_PLACES), None)
        if found:
            code = (
                "no_admission"
                if found in ("ward", "wards", "department")
                else "no_conveyance"
            )
            yield _Hit(code, index, k + 1)


def _instead_of_care(clause: _Clause) -> Iterator[_Hit]:
    """ "Manage at home rather than convey", "rather than sending a crew, text
    her the number": care named only as the thing not to do. When the sentence
    also names care to give ("call an ambulance rather than driving her
    yourself"), it chooses between two kinds of care and withholds neither."""
    words = clause.words
    if "rather" not in words and "instead" not in words:
        return
    for index in range(len(words) - 2):
        if (words[index], words[index + 1]) not in (
            ("rather", "than"),
            ("instead", "of"),
        ):
            continue
        k = index + 2
        while clause.at(k) in _ARTICLES or clause.at(k) in _LEX.PERSON_OBJECTS:
            k += 1
        code = _care_action(clause, k)
        if code is None or clause.in_subordinate(index):
            continue
        others = [
            i
            for i in range(len(words))
            if not index <= i <= k + 3 and _care_action(clause, i)
        ]
        if not others and not clause.negated_before(index):
            yield _Hit(code, index, k)


def _demoted(clause: _Clause) -> Iterator[_Hit]:
    """A person put below everyone else: "treat all of his calls as non-urgent",
    "triage as non-urgent", "do not categorise as urgent", "place her at the
    back of the queue", "put on the slow list"."""
    words = clause.words
    if _DEMOTING_WORDS.isdisjoint(words):
        return
    for index, _word in enumerate(words):
        lemma = clause.lemma(index) or words[index]
        if lemma not in _GRADERS and lemma not in ("put", "place", "move", "add"):
            continue
        negation = (
            _negation_at(clause, index - 1)
            if clause.at(index - 1) in ("not", "never")
            else None
        )
        negated = clause.negated_before(index)
        if negation is None and not (
            clause.is_directive(index) or clause.starts_clause(index)
        ):
            continue
        if clause.in_subordinate(index):
            continue
        after = clause.window(index, 8)
        if lemma in _GRADERS and "as" in after:
            grade = after[after.index("as") + 1 : after.index("as") + 3]
            low = any(w in _LEX.LOW_PRIORITY for w in grade) or _low_category(grade)
            high = any(w in _LEX.HIGH_PRIORITY for w in grade[:1])
            if (low and not negated) or (high and negated):
                yield _Hit("no_attendance", index, index + after.index("as") + 2)
        elif not negated and any(
            w in _LEX.QUEUE_ENDS
            and any(q in _LEX.QUEUES for q in after[position + 1 : position + 4])
            for position, w in enumerate(after)
        ):
            yield _Hit("no_attendance", index, index + 1)


_GRADERS = _LEX.GRADERS


_DEMOTING_WORDS = frozenset(
    {form for form, lemma in _LEX.FORMS.items() if lemma in _LEX.GRADERS}
    | {form for form, lemma in _LEX.FORMS.items() if lemma in ("put", "move")}
    | _LEX.GRADERS
    | {"place", "placed", "placing", "add", "added", "put", "move", "moved"}
)


def _low_category(words: list[str]) -> bool:
    """ "cat 4", "category 3": an ambulance category that waits."""
    return (
        len(words) > 1
        and words[0] in ("cat", "category")
        and words[1] in ("3", "4", "5", "three", "four", "five")
    )


def _rationed(clause: _Clause) -> Iterator[_Hit]:
    """Care rationed: "no more than one ambulance a week", "a maximum of two
    conveyances per month", "one attendance per fortnight", "the response to
    her calls will be limited to a call back"."""
    words = clause.words
    if _RATIONING_WORDS.isdisjoint(words) and words[0] not in _NUMBERS:
        return
    for index, word in enumerate(words):
        if word in ("limited", "restricted", "capped") and clause.at(index + 1) in (
            "to",
            "at",
        ):
            subject = [w for w in clause.subject(index) if w not in _ARTICLES]
            code = (
                _noun_code(subject[:3])
                if any(w in _RATIONED_CARE or w in _LEX.CALLS for w in subject[:3])
                and not any(w in ("visit", "visits") for w in subject[:3])
                else None
            )
            if code and not clause.negated_before(index):
                yield _Hit(code, index, index + 1)
            continue
        limit = (
            word in ("maximum", "max")
            or (word == "more" and clause.at(index - 1) == "no")
            or (word == "most" and clause.at(index - 1) == "at")
        )
        if not limit and not (word in _NUMBERS and clause.starts_clause(index)):
            continue
        if clause.at(index - 1) in ("no", "not") and word != "more":
            continue
        rest = clause.window(index, 7)
        nouns = [w for w in rest if w in _RATIONED_CARE]
        if not nouns:
            continue
        position = rest.index(nouns[0])
        period = rest[position + 1 : position + 4]
        if any(w in ("a", "per", "each", "every", "in") for w in period) and any(
            w in _LEX.PERIODS for w in period
        ):
            yield _Hit(
                _CARE_CODES_BY_NOUN.get(nouns[0], "no_attendance"),
                index,
                index + position + 1,
            )


_RATIONING_WORDS = frozenset(
    {"limited", "restricted", "capped", "maximum", "max", "more", "most"}
)
_NUMBERS = frozenset(
    {"one", "two", "three", "four", "1", "2", "3", "4", "once", "twice"}
)
_RATIONED_CARE = frozenset(
    {"ambulance", "ambulances", "attendance", "attendances", "conveyance",
     "conveyances", "visit", "visits", "response", "responses", "call-out",
     "callouts", "admission", "admissions", "deployment", "deployments", "crew",
     "crews", "callback", "callbacks", "assessment", "assessments"}
)  # fmt: skip


_NON_CARE = {
    "non-conveyance": "no_conveyance",
    "non-attendance": "no_attendance",
    "non-admission": "no_admission",
    "no-send": "no_attendance",
}
_POLICY = frozenset(
    {"default", "expected", "agreed", "preferred", "plan", "norm", "outcome", "rule"}
)


def _care_refused_as_policy(clause: _Clause) -> Iterator[_Hit]:
    """ "Non-conveyance is the default", "cat 3 at best", "let his calls ring
    out": care refused by naming its absence as the rule, grading the person
    down without a verb, or letting calls go unanswered."""
    words = clause.words
    for index, word in enumerate(words):
        if word in _NON_CARE and clause.at(index + 1) in ("is", "will", "should"):
            rest = clause.window(index, 4)
            denied = clause.negated_before(index) or "not" in rest or "never" in rest
            if any(w in _POLICY for w in rest) and not denied:
                yield _Hit(_NON_CARE[word], index, index + 2)
        elif index == 0 and _low_category(words[:2]):
            # A grade with no verb opens the clause: "Cat 3 at best".
            yield _Hit("no_attendance", index, index + 1)
        elif (
            clause.lemma(index) == "let"
            and clause.is_directive(index)
            and any(w in _LEX.CALLS for w in clause.window(index, 3))
            and any(
                w == "ring" and clause.at(i + 1) == "out"
                for i, w in enumerate(words[index + 1 : index + 6], index + 1)
            )
        ):
            yield _Hit("no_attendance", index, index + 3)


def _withholding(clause: _Clause) -> Iterator[_Hit]:
    yield from _negated_care(clause)
    yield from _care_refused_as_policy(clause)
    yield from _instead_of_care(clause)
    yield from _demoted(clause)
    yield from _rationed(clause)
    yield from _nominal_denial(clause)
    yield from _refusals(clause)
    yield from _advised_against(clause)
    yield from _unsuitable(clause)
    yield from _forbidden(clause)
    yield from _kept_out(clause)


# --- coercion ---------------------------------------------------------------------


_PLAN_ORDER_WORDS = _LEX.OBLIGATION_WORDS | _LEX.DEVIATION_WORDS | _LEX.OVERRIDE_WORDS
_NOT_ALLOWED = frozenset(
    {"permitted", "allowed", "acceptable", "tolerated", "authorised", "authorized"}
)


def _plan_as_order(clause: _Clause) -> Iterator[_Hit]:
    """The plan made binding: "these instructions are mandatory", "no deviation
    from this plan", "this plan overrides your judgement"."""
    words = clause.words
    if _PLAN_ORDER_WORDS.isdisjoint(words):
        return
    targets = any(w in _LEX.DIRECTIVE_TARGETS for w in words)
    for index, word in enumerate(words):
        before = clause.at(index - 1)
        negated = (
            before in ("not", "never")
            or clause.at(index - 2) == "not"
            or any(w in ("nothing", "none", "neither") for w in words[:index])
        )
        if word in _LEX.OBLIGATION_WORDS and targets and not negated:
            if word != "bound" or clause.at(index + 1) == "by":
                yield _Hit("mandate_plan", index, index)
        elif word in _LEX.DEVIATION_WORDS:
            if before in ("no", "without") and (targets or word == "discretion"):
                yield _Hit("mandate_plan", index - 1, index)
            elif targets and any(
                w == "not" and clause.at(i + 1) in _NOT_ALLOWED
                for i, w in enumerate(words[index + 1 : index + 9], index + 1)
            ):
                yield _Hit("mandate_plan", index, index)
            elif (
                targets
                and word in ("deviate", "depart")
                and before in ("not", "never")
                and not clause.in_subordinate(index)
            ):
                yield _Hit("mandate_plan", index - 1, index)
        elif word in _LEX.OVERRIDE_WORDS and not clause.negated_before(index):
            if any(w in _LEX.JUDGEMENT_WORDS for w in clause.window(index, 6)):
                yield _Hit("mandate_plan", index, index)


_DETENTION_SECTIONS = frozenset({"2", "3", "4", "135", "136"})


def _under_section(clause: _Clause) -> Iterator[_Hit]:
    """ "Bring him in under section 136": an order to use a detention power."""
    if "under" not in clause.words:
        return
    for index, word in enumerate(clause.words):
        if word != "under" or clause.at(index + 1) not in ("section", "s"):
            continue
        if clause.at(index + 2) not in _DETENTION_SECTIONS:
            continue
        verb = next((k for k in range(index - 1, -1, -1) if clause.lemma(k)), None)
        if verb is None or clause.in_subordinate(verb) or clause.negated_before(verb):
            continue
        if clause.is_directive(verb) == "active":
            yield _Hit("mandate_coercion", verb, index + 2)


def _ensured(clause: _Clause, index: int) -> bool:
    """ "Please ensure she is sectioned", "make sure he spends the night in a
    cell": a coercive act the plan requires someone to bring about."""
    before = clause.words[:index]
    if "ensure" not in before and not any(
        w == "make" and clause.at(i + 1) == "sure" for i, w in enumerate(before)
    ):
        return False
    start = before.index("ensure") if "ensure" in before else before.index("make")
    return clause.starts_clause(start) or bool(clause.modal_before(start))


def _kept_from_leaving(clause: _Clause, index: int) -> bool:
    """ "Physically prevent her from leaving", "she is to be prevented from
    leaving by any means", "stop him leaving"."""
    after = clause.window(index, 4)
    while after and (after[0] in _LEX.PERSON_OBJECTS or after[0] == "from"):
        after = after[1:]
    return bool(after) and after[0] in ("leaving", "going", "escaping", "absconding")


_DETENTION_WORDS = frozenset(
    {"detention", "detain", "detained", "sectioned", "section", "s136", "s2", "s3",
     "sectioning"}
)  # fmt: skip
_ALWAYS = frozenset({"every", "each", "always", "whenever"})
_PAST = frozenset(
    {"was", "were", "has", "had", "have", "since", "last", "previous", "previously",
     "before", "ago"}
)  # fmt: skip


def _detention_every_time(clause: _Clause) -> Iterator[_Hit]:
    """Detention made routine: "request a section 2 assessment at every contact",
    "every attendance should result in a MHA detention"."""
    words = clause.words
    if _DETENTION_WORDS.isdisjoint(words) or _ALWAYS.isdisjoint(words):
        return
    if not _PAST.isdisjoint(words) or clause.in_subordinate(0):
        return
    for index, word in enumerate(words):
        if word in _DETENTION_WORDS and not clause.negated_before(index):
            if word == "section" and not clause.at(index + 1).isdigit():
                continue
            yield _Hit("mandate_coercion", index, index)
            return


def _coercion(clause: _Clause) -> Iterator[_Hit]:
    yield from _plan_as_order(clause)
    yield from _under_section(clause)
    yield from _detention_every_time(clause)
    words = clause.words
    for index, word in enumerate(words):
        lemma = clause.lemma(index)
        if word == "force" and clause.at(index - 1) in ("by", "use", "using", "of"):
            if not clause.negated_before(index):
                yield _Hit("mandate_coercion", index - 1, index)
            continue
        if (
            word in ("locked", "custody")
            and not clause.negated_before(index)
            and (
                clause.at(index - 1)
                in ("in", "kept", "keep", "him", "her", "them", "a")
                and any(w in ("must", "keep", "kept", "always", "held") for w in words)
            )
        ):
            yield _Hit("mandate_coercion", index, index)
            continue
        if word in ("compliance", "adherence") and any(
            w in ("mandatory", "compulsory", "required", "obligatory", "expected")
            for w in words[index:]
        ):
            yield _Hit("mandate_plan", index, min(len(words) - 1, index + 4))
            continue
        if not lemma:
            continue
        if (
            lemma in ("let", "allow")
            and clause.at(index - 1) in ("not", "never")
            and _negation_at(clause, index - 1) is not None
            and clause.at(index + 1) in _LEX.PERSON_OBJECTS
            and clause.at(index + 2) in ("leave", "go")
            and "alone" not in clause.words
            and not any(
                w in ("home", "with", "without") for w in clause.window(index + 2, 3)
            )
        ):
            # "Do not let her leave": an order to stop the person going.
            yield _Hit("mandate_coercion", index - 1, index + 2)
            continue
        mode = clause.is_directive(index)
        if (
            not mode
            and clause.at(index - 1) == "to"
            and clause.directive_clause(index - 1)
        ):
            # A purpose under an order: "call security to hold him down".
            mode = "active"
        if not mode and _ensured(clause, index):
            mode = "passive"
        if not mode or clause.in_subordinate(index) or clause.negated_before(index):
            continue
        after = clause.window(index, 8)
        subject = clause.subject(index)
        if lemma in _LEX.COERCIVE_VERBS and lemma != "arrest":
            if word == "section" and after and after[0].isdigit():
                continue
            if lemma == "force" and not (after and after[0] in _LEX.PERSON_OBJECTS):
                continue
            yield _Hit("mandate_coercion", index, index)
        elif lemma in ("prevent", "stop") and _kept_from_leaving(clause, index):
            yield _Hit("mandate_coercion", index, index + 3)
        elif (
            lemma == "have"
            and any(
                clause.lemma(k) in _LEX.COERCIVE_VERBS or clause.lemma(k) == "remove"
                for k in range(index + 2, min(len(clause), index + 4))
            )
            and clause.at(index + 1) in _LEX.PERSON_OBJECTS
        ):
            # "Have her removed", "have him sectioned".
            yield _Hit("mandate_coercion", index, index + 2)
        elif lemma == "escort" and any(
            w in ("out", "off", "from", "away") for w in after[:3]
        ):
            yield _Hit("mandate_coercion", index, index + 2)
        elif lemma == "remove" and (
            (after and after[0] in _LEX.PERSON_OBJECTS)
            or (mode == "passive" and any(w in _LEX.PERSON_SUBJECTS for w in subject))
        ):
            yield _Hit("mandate_coercion", index, index + (1 if after else 0))
        elif lemma in ("apply", "use", "invoke") and (
            after[:1] in (["section"], ["s"]) or after[:1] == ["s136"]
        ):
            # "Invoke section 2 on arrival", "use s136 whenever she is found".
            yield _Hit("mandate_coercion", index, index + 2)
        elif lemma in ("take", "convey", "transport", "bring", "place", "put", "keep",
                       "hold", "drive", "move", "book", "lodge", "pin",
                       "walk"):  # fmt: skip
            if lemma in ("hold", "pin") and "down" in after[:3]:
                yield _Hit("mandate_coercion", index, index + after.index("down") + 1)
                continue
            if (
                lemma == "hold"
                and after[:1]
                and after[0] in _LEX.PERSON_OBJECTS
                and after[1:2]
                and after[1] in ("in", "on", "at", "there", "until", "against")
            ):
                # "Hold him in the room", "hold her on the floor".
                yield _Hit("mandate_coercion", index, index + 2)
                continue
            if lemma in (
                "keep",
                "hold",
                "place",
                "put",
                "walk",
                "take",
                "bring",
            ) and any(w in _LEX.COERCIVE_NOUNS or w == "locked" for w in after[:7]):
                yield _Hit("mandate_coercion", index, index + 1)
                continue
            for position, place in enumerate(after):
                if place in ("out", "away"):
                    # "Keep him out of the police van": away from custody.
                    break
                if place in ("custody", "cell", "cells", "nick", "lockup") or (
                    place in ("station", "van")
                    and after[position - 1 : position] == ["police"]
                ):
                    yield _Hit("mandate_coercion", index, index + position + 1)
                    break
        elif lemma in ("use", "apply", "fit") or (lemma == "give" and mode == "active"):
            if mode == "passive":
                objects = [w for w in subject if w not in _ARTICLES]
            else:
                objects = [w for w in after[:4] if w not in _ARTICLES]
            if any(w in _LEX.COERCIVE_NOUNS for w in objects):
                yield _Hit("mandate_coercion", index, index + (mode == "active"))
        elif lemma in _LEX.PLAN_VERBS and lemma != "enforce":
            modal = clause.modal_before(index)
            target = subject if mode == "passive" else after
            if any(w in _LEX.DIRECTIVE_TARGETS for w in target):
                if (
                    mode == "passive"
                    or modal in _STRONG_MODALS
                    or lemma == "obey"
                    or any(w in ("letter", "exception", "question") for w in after)
                ):
                    yield _Hit("mandate_plan", index, index + 1)
        elif lemma == "call" and clause.modal_before(index) in _STRONG_MODALS:
            if "police" in after[:3] and any(
                w in ("whenever", "every", "each", "always") for w in after
            ):
                yield _Hit("mandate_coercion", index, index + 2)


_SANCTION_HINT = (
    " Plans support the person; sanctions belong to separate legal processes. "
    "If it is relevant, state the fact neutrally, and acknowledge why it must stay."
)
_STIGMA_HINT = (
    " Stigmatising labels change how people are treated at scene. Describe the "
    "behaviour and what helps instead."
)

_ACKNOWLEDGE_RULES: tuple[_Rule, ...] = (
    _rule(
        "sanction_arrest",
        ACKNOWLEDGE,
        r"\barrest(?:s|ed|ing|able)?\b",
        "'Arrest' is sanction wording." + _SANCTION_HINT,
        unless_before=r"\b(?:cardiac|cardio-?respiratory|respiratory|heart"
        r"|cardiopulmonary|circulatory)",
    ),
    _rule(
        "sanction_prosecution",
        ACKNOWLEDGE,
        r"\bprosecut(?:e|es|ed|ing|ion|ions)\b|\bcharged\s+with\b|\bsummons(?:ed)?\b",
        "Prosecution is sanction wording." + _SANCTION_HINT,
    ),
    _rule(
        "sanction_consequences",
        ACKNOWLEDGE,
        r"\bconsequences\b",
        "'Consequences' reads as a threat of sanction." + _SANCTION_HINT,
    ),
    _rule(
        "sanction_order",
        ACKNOWLEDGE,
        r"\b(?:section|s\.?)\s*35\b|\bcbos?\b|\basbos?\b|\bcriminal\s+behaviou?r\s+"
        r"orders?\b|\banti-?\s?social\s+behaviou?r\s+(?:orders?|injunctions?)\b"
        r"|\bcommunity\s+protection\s+(?:notices?|warnings?)\b|\binjunctions?\b"
        r"|\bdispersal\s+orders?\b|\bbanning\s+orders?\b",
        "Court orders and dispersal powers are sanction wording." + _SANCTION_HINT,
    ),
    _rule(
        "sanction_warning",
        ACKNOWLEDGE,
        # Only the sanction sense: "warn me before you touch me" is a kindness.
        r"\b(?:final|formal|verbal|written|first|second|last|police|official)\s+"
        r"warnings?\b|\bwarning\s+(?:letters?|notices?|markers?)\b"
        r"|\b(?:been|was|were|be|get|gets|got|is)\s+warned\b"
        r"|\bwarn(?:s|ed)?\s+(?:him|her|them|the\s+person)\s+(?:about|that|of|not)\b"
        r"|\bwarn(?:s|ed)?\s+(?:about|that\s+(?:he|she|they)\s+(?:will|may|could))",
        "Warning the person reads as a sanction."
        + _SANCTION_HINT
        + " Say what helps the person keep to the plan instead.",
    ),
    _rule(
        "sanction_fine",
        ACKNOWLEDGE,
        r"\bfined\b|\bfines\b|\bfixed\s+penalt(?:y|ies)\b|\bpenalty\s+notices?\b"
        r"|\b(?:a|issue|issued|issuing|receive|received|given|face|faces|pay|paid)\s+"
        r"(?:an?\s+)?(?:£?\d+\s+|heavy\s+|large\s+)?fine\b(?!\s+(?:line|balance|day"
        r"|example|art|mess|distinction|detail|motor|tooth|print|dining|judgement"
        r"|young|man|woman|job|sense|point|points|mind))",
        "Fines and penalty notices are sanction wording." + _SANCTION_HINT,
    ),
    _rule(
        "sanction_caution",
        ACKNOWLEDGE,
        r"\bcautioned\b|\b(?:a|formal|police|conditional|simple|previous|adult)\s+"
        r"cautions?\b(?!\s+(?:is|should|about|when))|\bcautions\s+for\b",
        "A police caution is sanction wording." + _SANCTION_HINT,
    ),
    _rule(
        "sanction_punishment",
        ACKNOWLEDGE,
        r"\bpunish(?:ed|es|ing|ment|ments)?\b|\bsanction(?:s|ed)?\b|\bbanned\b"
        r"|\bzero\s+tolerance\b",
        "Punishment and sanction wording." + _SANCTION_HINT,
    ),
    _rule(
        "stigma_frequent_flyer",
        ACKNOWLEDGE,
        r"\bfrequent\s+fl(?:y|i)ers?\b|\bregulars?\s+at\s+a\s*&\s*e\b",
        "'Frequent flyer' is a stigmatising label."
        + _STIGMA_HINT
        + " E.g. 'Calls 999 often when distressed, usually late at night.'",
    ),
    _rule(
        "stigma_attention_seeking",
        ACKNOWLEDGE,
        r"\battention[\s-]*seek(?:ing|er|ers)\b",
        "'Attention seeking' is a stigmatising label."
        + _STIGMA_HINT
        + " E.g. 'Seeks contact when feeling unsafe; a calm conversation helps.'",
    ),
    _rule(
        "stigma_manipulative",
        ACKNOWLEDGE,
        r"\bmanipulat(?:ive|ion|es|ing|or|ors)\b",
        "'Manipulative' is a stigmatising label." + _STIGMA_HINT,
    ),
    _rule(
        "stigma_time_waster",
        ACKNOWLEDGE,
        r"\btime[\s-]*wast(?:er|ers|ing)\b|\bwast(?:es|ed|ing)\s+(?:police\s+|nhs\s+"
        r"|our\s+|everyone'?s\s+|ambulance\s+)?time\b",
        "'Time waster' is a stigmatising label." + _STIGMA_HINT,
    ),
    _rule(
        "stigma_label",
        ACKNOWLEDGE,
        r"\b(?:nuisance|hysterical|drama\s+queen|junkie|druggie|pest|abuser\s+of"
        r"\s+services|misus(?:es|ing)\s+services|difficult\s+patient|bed\s+blocker"
        r"|revolving\s+door|pseudo-?seizures?|putting\s+it\s+on|faking)\b",
        "This is a stigmatising label." + _STIGMA_HINT,
    ),
)


_COERCION_HINT = (
    " Plans advise; they do not order a police power, restraint or a destination. "
    "Say what helps and what has worked, and leave powers to the responder's "
    "judgement and the law. Acknowledge why these words must stay."
)

_MORE_ACKNOWLEDGE_RULES: tuple[_Rule, ...] = (
    _rule(
        "sanction_threat",
        ACKNOWLEDGE,
        r"\b(?:court\s+action|(?:go|goes|going|taken|take\s+(?:him|her|them))\s+to"
        r"\s+court|through\s+the\s+courts?|to\s+the\s+courts?|(?:evidence|end\s+up)"
        r"\s+in\s+court|legal\s+action|(?:go|goes|going|sent|send|end\s+up|back)\s+"
        r"(?:back\s+)?(?:to|in)\s+(?:prison|jail|gaol)|suspended\s+sentence"
        r"|closure\s+orders?|behaviou?r\s+(?:orders?|contracts?)|protection\s+orders?"
        r"|civil\s+injunctions?|harassment\s+(?:warnings?|notices?)|treated\s+as\s+"
        r"harassment|not\s+be\s+tolerated|enforcement|threaten(?:s|ed|ing)?\s+(?:him|her|them"
        r"|to\s+(?:charge|arrest|prosecute|report|ban|fine|sue|bill|evict))|billed"
        r"|bill\s+(?:him|her|them)|invoiced?|face\s+(?:charges|prosecution|a\s+fine"
        r"|legal|court|a\s+fixed)|(?:be|been|being|get|gets|getting)\s+charged"
        r"|charge\s+(?:him|her|them)\b|press\s+charges|criminal\s+(?:charges|record)"
        r"|misuse\s+of\s+(?:999|the\s+emergency|emergency|services|the\s+service)"
        r"|report\s+(?:him|her|them)\s+(?:for|to\s+the\s+police)|take\s+action\s+if"
        r"|dealt\s+with\s+(?:by|through)\s+the\s+(?:courts?|police))\b",
        "This threatens the person with a sanction." + _SANCTION_HINT,
    ),
    _rule(
        "stigma_attention_seeking",
        ACKNOWLEDGE,
        r"\b(?:seek(?:s|ing)?|wants?|craves?|after|for)\s+attention\b",
        "'Attention seeking' is a stigmatising label."
        + _STIGMA_HINT
        + " E.g. 'Seeks contact when feeling unsafe; a calm conversation helps.'",
    ),
    _rule(
        "stigma_frequent_flyer",
        ACKNOWLEDGE,
        r"\bfrequent\s+(?:attenders?|callers?|users?)\b|\bserial\s+(?:callers?"
        r"|attenders?)\b|\bregulars\b|\ba\s+regular\s+(?:at|in|caller|attender)\b",
        "'Frequent attender' is a stigmatising label."
        + _STIGMA_HINT
        + " E.g. 'Calls 999 often when distressed, usually late at night.'",
    ),
    _rule(
        "stigma_time_waster",
        ACKNOWLEDGE,
        r"\bwast(?:es|ed|ing)\s+(?:\w+\s+)?(?:time|resources)\b|\bwaste\s+of\s+"
        r"(?:time|space|resources|a\s+bed|money)\b",
        "'Time waster' is a stigmatising label." + _STIGMA_HINT,
    ),
    _rule(
        "stigma_label",
        ACKNOWLEDGE,
        r"\b(?:hypochondriacs?|pests?|drunk\s+again|always\s+drunk|usual\s+drunk"
        r"|drunk\s+as\s+usual|cr(?:y|ies|ying|ied)\s+wolf"
        r"|(?:play|plays|playing|game|games|gaming)\s+the\s+system|playing\s+games"
        r"|not\s+(?:genuinely|really|actually|truly|properly)\s+(?:suicidal|unwell"
        r"|ill|distressed|at\s+risk)|no\s+real\s+intent|just\s+a\s+gesture"
        r"|(?:purely|just|simply|it\s+is|it'?s)\s+behavioural|behavioural,?\s+not"
        r"|drug[\s-]*seek(?:er|ers|ing)|fak(?:es|er|ers)|mak(?:es|ing)\s+it\s+up"
        r"|typical\s+(?:pd|borderline|eupd|bpd)|just\s+(?:a\s+)?(?:pd|personality"
        r"\s+disorder)|liars?|malinger(?:er|ers|ing|s)?|wind[\s-]*up\s+merchants?"
        r"|nutters?|psychos?|lunatics?|schizos?|non-?\s?compliant|troublemakers?"
        r"|abus(?:es|ing)\s+(?:the\s+)?(?:service|services|system)|alkies?|druggies?"
        r"|scroungers?)\b",
        "This is a stigmatising label." + _STIGMA_HINT,
    ),
)

# Classes of label rather than single words: a motive imputed to the person
# ("for effect", "to get noticed"), the person as a burden ("a drain on the
# service"), and the informal words for putting it on.
_CLASS_RULES: tuple[_Rule, ...] = (
    _rule(
        "stigma_label",
        ACKNOWLEDGE,
        r"\b(?:(?:the\s+usual|lots\s+of|more|another|all\s+the)\s+(?:drama"
        r"|performance|theatrics?|show)|crocodile\s+tears|heartsink|(?:serial|999"
        r"|service|system)\s+abusers?|lies\s+about\s+(?:everything|her|his|their"
        r"|the|being)|regular\s+regular|clogs?\s+up|enjoys?\s+the\s+(?:fuss"
        r"|drama))\b",
        "This disbelieves the person or casts their distress as theatre."
        + _STIGMA_HINT,
    ),
    _rule(
        "stigma_motive",
        ACKNOWLEDGE,
        r"\b(?:for|wants?|craves?|craving|after)\s+(?:the\s+)?(?:sympathy|effect"
        r"|an\s+audience|a\s+reaction|the\s+drama|show)\b|\b(?:attention|sympathy)"
        r"[\s-]*(?:driven|craving|hungry|grabbing|junkies?|seeking)\b|\bto\s+get\s+"
        r"(?:noticed|attention|sympathy|a\s+bed|admitted)\b|\b(?:just|only)\s+"
        r"wants?\s+(?:a\s+bed|admission|drugs|morphine|a\s+lift)\b"
        r"|\b(?:is|are|was|were)\s+(?:just\s+|only\s+|merely\s+)?(?:gestures"
        r"|performances?|an\s+act|for\s+show)\b",
        "This gives the person's distress a motive (attention, sympathy, a bed)."
        + _STIGMA_HINT,
    ),
    _rule(
        "stigma_burden",
        ACKNOWLEDGE,
        r"\b(?:drain|burden)\s+on\s+(?:the\s+|our\s+|all\s+|every\s+)?(?:\w+\s+)?"
        r"(?:service|services|resources|staff|police|nhs|team|crews|system)\b"
        r"|\b(?:soaks?|eats?|uses?)\s+up\s+(?:\w+\s+){0,3}time\b",
        "This describes the person as a burden on services." + _STIGMA_HINT,
    ),
    _rule(
        "stigma_label",
        ACKNOWLEDGE,
        r"\b(?:histrionic|chancers?|head\s?cases?|professional\s+patients?"
        r"|bed[\s-]*hoppers?|swing(?:s|ing)?\s+the\s+lead|put(?:s|ting)?\s+it\s+on"
        r"|plays?\s+up|playing\s+up|needy|exaggerat(?:es|ing)\s+(?:everything"
        r"|it|for)|crying\s+out\s+for)\b",
        "This is a stigmatising label." + _STIGMA_HINT,
    ),
    _rule(
        "sanction_threat",
        ACKNOWLEDGE,
        r"\b(?:nicked|banged\s+up|locked\s+up|criminal\s+proceedings|solicitors?"
        r"|evict(?:ed|ion)?|recover\s+the\s+costs?|anti-?\s?social\s+behaviou?r"
        r"|(?:tenancy|housing|benefits?)\s+(?:is|are|will\s+be|may\s+be|could\s+be)"
        r"\s+(?:at\s+risk|ended|withdrawn|lost)|removed?\s+(?:her|him|them)\s+from"
        r"\s+(?:the|its|their)\s+(?:gp\s+)?(?:list|register)|caution\s+(?:him|her"
        r"|them)\s+for)\b",
        "This threatens the person with a consequence." + _SANCTION_HINT,
    ),
    _rule(
        "sanction_threat",
        ACKNOWLEDGE,
        r"\b(?:cpws?|cps|crown\s+prosecution|exclusion\s+(?:letters?|notices?|orders?)"
        r"|communications\s+act|s\.?\s?127|removal\s+from\s+(?:the|his|her|their)\s+"
        r"(?:gp\s+)?(?:list|register)|(?:taken\s+away|withdrawn|stopped|suspended)"
        r"\s+(?:if|when|should)\s+(?:he|she|they)\b)",
        "This threatens the person with a consequence." + _SANCTION_HINT,
    ),
)

_LEXICAL_RULES: tuple[_Rule, ...] = (
    _ACKNOWLEDGE_RULES + _MORE_ACKNOWLEDGE_RULES + _CLASS_RULES
)
# One scan of every rule's words at once: most fields hold none of them.
# Word stems every lexical rule needs, tried first as plain substring tests,
# which cost far less than the rules' expressions (a test keeps them in step).
_LEXICAL_STEMS = (
    "arrest", "prosecut", "charg", "summons", "consequen", "35", "cbo", "asbo",
    "behavio", "injunction", "protection", "dispersal", "banning", "warn", "fine",
    "penalt", "caution", "punish", "sanction", "banned", "toleran", "frequent",
    "regular", "attention", "manipulat", "wast", "nuisance", "hysterical", "drama",
    "junkie", "druggie", "pest", "abus", "misus", "difficult", "blocker",
    "revolving", "pseudo", "putting", "faking", "court", "legal", "prison", "jail",
    "gaol", "sentence", "closure", "harass", "enforce", "threaten", "bill",
    "invoice", "face", "criminal", "report", "action", "dealt", "hypochond",
    "drunk", "wolf", "system", "games", "intent", "gesture", "seek", "fake",
    "faker", "make", "making", "typical", "pd", "personality", "liar", "malinger",
    "wind", "nutter", "psycho", "lunatic", "schizo", "compliant", "troublemaker",
    "alkie", "scrounger", "serial", "genuinely", "really", "actually", "truly",
    "properly", "fl", "time",
    # the classes of label (_CLASS_RULES), as narrow as their expressions allow
    "sympathy", "for effect", "audience", "a reaction", "drama", "for show",
    "driven", "craving", "hungry", "grabbing", "junkie", "get noticed",
    "get admitted", "a bed", "admission", "drugs", "morphine", "a lift",
    "gesture", "performance", "an act", "drain", "burden", "histrionic",
    "chancer", "headcase", "head case", "professional patient", "hopper",
    "the lead", "it on", "play up", "plays up", "playing up", "needy", "exaggerat",
    "crying", "nicked", "banged", "locked up", "proceedings", "solicitor", "evict",
    "the cost", "social behav", "tenancy", "housing", "benefit", "list",
    "register", "crocodile", "heartsink", "theatric", "lies about", "clog",
    "enjoy", "the usual", "cpw", "cps", "crown", "exclusion", "communications", "127",
    "removal", "away", "withdrawn", "stopped", "suspended",
)  # fmt: skip
_ANY_STEM = re.compile("|".join(re.escape(stem) for stem in _LEXICAL_STEMS))
_ANY_LEXICAL = re.compile(
    "|".join(f"(?:{rule.pattern.pattern})" for rule in _LEXICAL_RULES), _FLAGS
)
# Rules whose words, after a negation, are good advice: "never threaten her".
_NEGATABLE = frozenset({"sanction_threat"})

_MESSAGES: dict[str, str] = {
    "no_conveyance": "This tells responders not to convey the person."
    + _WITHHOLD_HINT
    + " Write what usually helps instead, e.g. 'If not injured, she usually "
    "settles at home with her support worker; convey if injured or unwell.'",
    "no_attendance": "This tells a service not to attend or respond."
    + _WITHHOLD_HINT
    + " Say who to call and what helps, e.g. 'The mental health team can "
    "often help by phone; attend as you would for anyone.'",
    "no_treatment": "This tells staff not to assess, treat or help the person."
    + _WITHHOLD_HINT
    + " Write 'Always assess and treat' and add what makes care easier for the "
    "person.",
    "no_admission": "This shuts the person out of admission or a department."
    + _WITHHOLD_HINT
    + " Describe what usually helps and leave admission to clinical judgement.",
    "mandate_coercion": "This orders a coercive step (detention, restraint, "
    "force, custody or sedation)." + _COERCION_HINT,
    "withholding_wording": "This reads as telling responders to withhold care, "
    "a response or a service from the person." + _WITHHOLD_HINT + " Write what "
    "usually helps instead, and leave assessment, treatment and conveyance to "
    "the responder's judgement.",
    "concern_wording": "This reads as an order to use coercion, a threat of "
    "sanction or a label for the person." + _COERCION_HINT + " Describe the "
    "behaviour and what helps, in neutral words.",
    "mandate_plan": "This makes the plan an order responders must obey."
    + _COERCION_HINT
    + " Write it as advice: 'This plan describes what usually helps.'",
}

RULES: tuple[_Rule, ...] = _LEXICAL_RULES
CODES: frozenset[str] = frozenset(
    {rule.code for rule in _LEXICAL_RULES} | set(_MESSAGES)
)


def _sentence_before(text: str, start: int) -> str:
    before = text[:start]
    breaks = list(_SENTENCE_BREAK.finditer(before))
    return before[breaks[-1].end() :] if breaks else before


_SENTENCE_BREAK = re.compile(r"[.!?;:\n]")
_FULL_STOP = re.compile(r"[.!?\n]")
_NEGATED_TAIL = re.compile(r"\b(?:not|never|no|without|avoid)\b")


_LOCAL_BREAK = re.compile(r",|\bbut\b|\band\b\s+(?:is|was|he|she|they)\b")
_LABEL_NEGATORS = re.compile(
    r"\b(?:not|never|no|nobody|none|avoid|avoiding|without|nor|neither)\b"
)
_CONDITION_WORDS = re.compile(r"\b(?:if|unless|until|whenever|when|once|or)\b")


def _label_denied(before: str) -> bool:
    """Say whether a negation governs the label or sanction that follows.

    "She isn't manipulative", "he has never been arrested", "don't call her a
    time waster" and "avoid words like 'frequent caller'" deny or forbid the
    label; "if he doesn't stop, he will be prosecuted" does not, since the
    negation belongs to the condition.
    """
    local = _LOCAL_BREAK.split(before)[-1]
    negators = list(_LABEL_NEGATORS.finditer(local))
    if not negators:
        return False
    last = negators[-1]
    if len(local[last.end() :].split()) > 6:
        return False
    return not _CONDITION_WORDS.search(local[: last.start()])


# A label reported as something others said of the person: "she has been called
# a time waster before" tells what hurt her; it does not call her one. (A past
# sanction, "he was cautioned last year", still asks for acknowledgement: the
# issue's table holds that a plan should say why such a fact must stay.)
_LABEL_REPORTED = re.compile(
    r"\b(?:was|were|has\s+been|have\s+been|had\s+been)\s+(?:[a-z]+ly\s+)?"
    r"(?:called|labelled|labeled|described\s+as|referred\s+to\s+as"
    r"|dismissed\s+as)\s+(?:an?\s+|the\s+)?$"
)


def _told_as_history(code: str, before: str) -> bool:
    """Say whether a label is reported as one others used of the person."""
    return code.startswith("stigma_") and bool(_LABEL_REPORTED.search(before))


def _quoted(text: str, start: int, end: int) -> bool:
    """Say whether the words are quoted as a mention: 'frequent caller'."""
    opening = text[:start].rstrip()[-1:]
    closing = text[end:].lstrip()[:1]
    return opening in ("'", '"', "\u2018", "\u201c") and closing in (
        "'",
        '"',
        "\u2019",
        "\u201d",
    )


def _lexical_findings(normalised: str) -> Iterator[tuple[_Rule, int, int]]:
    if not _ANY_STEM.search(normalised):
        return
    if not _ANY_LEXICAL.search(normalised):
        return
    for rule in _LEXICAL_RULES:
        for match in rule.pattern.finditer(normalised):
            before = _sentence_before(normalised, match.start())
            if rule.unless_before and rule.unless_before.search(before):
                continue
            if rule.unless_after and rule.unless_after.search(
                normalised[match.end() :]
            ):
                continue
            if rule.code in _NEGATABLE and _NEGATED_TAIL.search(before):
                continue
            if _label_denied(before) or _quoted(normalised, match.start(), match.end()):
                continue
            if _told_as_history(rule.code, before):
                continue
            yield rule, match.start(), match.end()


def _answers_no(label: _Clause, answer: _Clause) -> bool:
    """Say whether a short label clause is answered "none" or "not required"."""
    if len(label) > 3 or not _noun_code(label.words) or len(answer) > 3:
        return False
    words = [w for w in answer.words if w not in ("to", "be", "is")]
    if words[:1] in (["none"], ["no"], ["nil"]):
        return len(words) == 1 or words[1] in _LEX.NOT_NEEDED
    return words[:1] == ["not"] and len(words) > 1 and words[1] in _LEX.NOT_NEEDED


# A sentence ends at a full stop followed by a space or the end: "s.21" and
# "e.g." stay inside their sentence.
_MODEL_SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?](?=[^\s.!?]))+[.!?]*")


def _with_model(
    plain: str, spans: list[tuple[str, int, int, str, str]]
) -> list[tuple[str, int, int, str, str]]:
    """Read each sentence again with the small model, beside the rules.

    A sentence the model reads as withholding care is refused; one it reads as a
    mandate, threat or label is held for acknowledgement. A sentence the model
    reads, confidently, as good advice (and not at all as either) keeps no
    refusal the rules found: "do not admit her to the ward where she was
    assaulted" names a ward, not a refusal. The veto never clears a mandate,
    threat or label: those only ask for acknowledgement, and a good-sounding
    sentence can still carry one. The thresholds come from cross-validation on the
    development set (`bench/guardrail_train.py`).
    """
    model = guardrails_model.load()
    if model is None:
        return spans
    kept = list(spans)
    for match in _MODEL_SENTENCE.finditer(plain):
        sentence = match.group().strip()
        if len(sentence) < 3:
            continue
        start = match.start() + (len(match.group()) - len(match.group().lstrip()))
        end = start + len(sentence)
        names = guardrails_model.features(sentence)
        withhold = model.withhold.probability(names)
        concern = model.concern.probability(names)
        # The veto sets aside refusals only: a mandate, threat or label the
        # rules found stays held for the lead clinician, however good the rest
        # of the sentence reads ("Make sure he spends the night in a cell.").
        inside = [s for s in kept if start <= s[1] and s[2] <= end and s[0] == BLOCK]
        if (
            inside
            and model.good.probability(names) >= model.good.threshold
            and max(withhold, concern) < model.veto_below
        ):
            kept = [s for s in kept if s not in inside]
            continue
        covered = {s[0] for s in kept if s[1] < end and start < s[2]}
        if BLOCK in covered:
            continue
        if withhold >= model.withhold.threshold and guardrails_model.withholding_cue(
            names
        ):
            kept.append((BLOCK, start, end, "withholding_wording", ""))
        elif (
            not covered
            and concern >= model.concern.threshold
            and guardrails_model.concern_cue(sentence)
        ):
            kept.append((ACKNOWLEDGE, start, end, "concern_wording", ""))
    return kept


def _findings_in(
    pointer: str, text: str, *, use_model: bool = True
) -> Iterator[Finding]:
    normalised = normalise(text, _LEX.VOCABULARY)
    plain = normalised.text
    # (severity, normalised start, normalised end, code, message)
    spans: list[tuple[str, int, int, str, str]] = []
    for rule, start, end in _lexical_findings(plain):
        spans.append((rule.severity, start, end, rule.code, rule.message))
    previous: _Clause | None = None
    for tokens in _clauses(plain):
        clause = _Clause(tokens, plain)
        if previous is not None and _answers_no(previous, clause):
            # "Ambulance: not required." The label names the care refused.
            code = _noun_code(previous.words) or "no_attendance"
            spans.append((BLOCK, previous.tokens[0].start, tokens[-1].end, code, ""))
        previous = clause
        # A sentence with no verb, modal or negation the rules read cannot direct.
        last = len(tokens) - 1
        for severity, hits in ((BLOCK, _withholding), (ACKNOWLEDGE, _coercion)):
            for hit in hits(clause):
                opening = tokens[min(hit.first, last)]
                closing = tokens[min(hit.last, last)]
                spans.append((severity, opening.start, closing.end, hit.code, ""))
    if use_model:
        spans = _with_model(plain, spans)
    kept: list[tuple[str, int, int, str, str]] = []
    for span in spans:
        severity, start, end, _, _ = span
        # Two readings of the same words count once.
        if any(
            other[0] == severity and start < other[2] and other[1] < end
            for other in kept
        ):
            continue
        kept.append(span)
    for severity, start, end, code, message in sorted(kept, key=lambda s: s[1]):
        first, last = normalised.span(start, end)
        yield Finding(
            code=code,
            severity=severity,
            pointer=pointer,
            phrase=text[first:last],
            message=message or _MESSAGES[code],
        )


def check_text(
    text: str, pointer: str = "", *, use_model: bool = True
) -> list[Finding]:
    """Return the findings in one piece of text (`pointer` names its field).

    `use_model=False` reads with the rules alone (training and benchmarks).
    """
    return list(_findings_in(pointer, text, use_model=use_model))


def check_plan(document: dict[str, Any]) -> list[Finding]:
    """Return every guardrail finding in a response-plan document, blocks first."""
    findings: list[Finding] = []
    for pointer, text in free_text_fields(document):
        findings.extend(_findings_in(pointer, text))
    order = {BLOCK: 0, ACKNOWLEDGE: 1}
    return sorted(findings, key=lambda finding: order[finding.severity])


def blocking(findings: list[Finding]) -> list[Finding]:
    """Return the findings that stop a plan being published."""
    return [finding for finding in findings if finding.severity == BLOCK]


def to_acknowledge(findings: list[Finding]) -> list[Finding]:
    """Return the findings a lead clinician must acknowledge before publishing."""
    return [finding for finding in findings if finding.severity == ACKNOWLEDGE]
