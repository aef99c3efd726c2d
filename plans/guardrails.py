"""Plan guardrails: plans advise, they never withhold care or mandate a response.

`check_plan` reads every free-text field of a response-plan/1 document and returns
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
        "sharing_basis",
        "relationship",
        "role",
        "level",
        "name",
    }
)
# Exceptions to the list above: the diagnosis's name is clinical text.
_FREE_TEXT_POINTERS = frozenset({"/plan/diagnosis/name"})
# Objects that hold no advice at all: who owns the plan and who to call.
_SKIPPED_POINTERS = frozenset({"/team", "/plan/nominated_people", "/plan/mentors"})


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

# A negation that turns a verb into an instruction not to act.
_NEG = (
    r"(?:do\s+not|don'?t|dont|never|should\s+not|shouldn'?t|must\s+not|mustn'?t"
    r"|is\s+not\s+to|are\s+not\s+to|not\s+to|cannot|can'?t|will\s+not|won'?t"
    r"|need\s+not|needn'?t|may\s+not)"
)
_HOSPITAL = (
    r"(?:a\s*&\s*e|a\s+and\s+e|hospital|(?:the\s+)?ed\b|(?:the\s+)?emergency"
    r"\s+department|casualty)"
)
_SERVICE = r"(?:police|ambulance|paramedic|emergency|ed|medical|clinical|nhs|999)"
_OBJECT = r"(?:her|him|them|the\s+person|this\s+person|\w+)"


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


# The person's own preference ("I would prefer not to be taken to A&E") or a
# description of them ("she tends not to attend") is not a directive to staff.
_PREFERENCE = (
    r"\b(?:prefers?|preferring|rather|wish(?:es)?|wants?|likes?|asks?|asked|chooses?"
    r"|chose|tends?|tries|try|trying|hopes?|decided|decides?|would\s+like)"
    r"(?:\s+\w+)?"
)
_DESCRIBING = r"\b(?:i|she|he|they|we|it|who|people|person)"
_DOUBLE_NEGATIVE = r"\b(?:never|not|don'?t|do\s+not|no\s+one\s+should|must\s+not)"

_WITHHOLD_HINT = (
    " Plans advise and never withhold care or tell a service not to respond: "
    "responders must always be free to assess and treat."
)

_BLOCK_RULES: tuple[_Rule, ...] = (
    _rule(
        "no_conveyance",
        BLOCK,
        rf"\b{_NEG}\s+(?:be\s+)?(?:convey(?:ed|ing)?|transport(?:ed|ing)?)\b",
        "This tells responders not to convey the person."
        + _WITHHOLD_HINT
        + " Write what usually helps instead, e.g. 'If not injured, she usually "
        "settles at home with her support worker; convey if injured or unwell.'",
        unless_before=_PREFERENCE,
    ),
    _rule(
        "no_conveyance",
        BLOCK,
        rf"\b{_NEG}\s+(?:be\s+)?(?:take|taken|taking|bring|brought|send|sent)\s+"
        rf"(?:{_OBJECT}\s+)?(?:to|into)\s+{_HOSPITAL}",
        "This tells responders not to take the person to hospital."
        + _WITHHOLD_HINT
        + " Describe what the person finds hard about A&E and what helps there.",
        unless_before=_PREFERENCE,
    ),
    _rule(
        "no_conveyance",
        BLOCK,
        rf"\b(?:does|do)\s*(?:not|n'?t)\s+need\s+(?:to\s+be\s+)?(?:conveyed|conveying"
        rf"|admitted|admission|treatment|treating|an?\s+ambulance|{_HOSPITAL})",
        "This tells responders the person does not need care."
        + _WITHHOLD_HINT
        + " Say what usually happens and what helps, and leave the decision to "
        "the responder's assessment.",
    ),
    _rule(
        "no_conveyance",
        BLOCK,
        r"\bno\s+need\s+to\s+(?:convey|attend|admit|treat|assess|send|take|call)\b",
        "This tells responders there is no need to act."
        + _WITHHOLD_HINT
        + " Say what usually helps instead.",
    ),
    _rule(
        "no_attendance",
        BLOCK,
        rf"\b{_NEG}\s+(?:be\s+)?(?:attend(?:ed)?|deploy(?:ed)?|dispatch(?:ed)?)\b",
        "This tells a service not to attend."
        + _WITHHOLD_HINT
        + " Say who to call and what helps, e.g. 'The mental health team can "
        "often help by phone; attend as you would for anyone.'",
        unless_before=rf"{_PREFERENCE}|{_DESCRIBING}",
    ),
    _rule(
        "no_attendance",
        BLOCK,
        rf"\b{_NEG}\s+respond\b",
        "This tells a service not to respond."
        + _WITHHOLD_HINT
        + " Say what usually helps and who else to call.",
        unless_before=rf"{_PREFERENCE}|{_DESCRIBING}",
        unless_after=r"(?:well|badly|quickly|to\s+(?:shouting|questions|touch|being"
        r"|raised|noise|(?:her|his|their)\s+name))\b",
    ),
    _rule(
        "no_attendance",
        BLOCK,
        rf"\b{_NEG}\s+(?:call|phone|ring|send|dispatch|deploy)\s+(?:for\s+)?"
        r"(?:an?\s+|the\s+)?(?:ambulance|police|999|paramedics?|officers?|crews?)\b",
        "This tells staff not to call or send a service."
        + _WITHHOLD_HINT
        + " Say who else can help and when.",
        unless_before=_PREFERENCE,
    ),
    _rule(
        "no_attendance",
        BLOCK,
        rf"\bno\s+{_SERVICE}\s+(?:attendance|response|responses|conveyance|dispatch"
        r"|deployment|treatment|assessment|action|involvement)\b",
        "This rules out a service's response."
        + _WITHHOLD_HINT
        + " Describe what usually helps and who to contact.",
        unless_before=r"\b(?:if|when|until|while|where|whether)(?:\s+\w+){0,3}",
    ),
    _rule(
        "no_attendance",
        BLOCK,
        r"\bno\s+ambulances?\b",
        "This rules out an ambulance."
        + _WITHHOLD_HINT
        + " Describe what usually helps and leave the decision to the responder.",
        unless_before=r"\b(?:if|when|until|while|where|whether)(?:\s+\w+){0,3}",
        unless_after=r"(?:is\s+|are\s+)?(?:available|free|arrives?|has\s+arrived"
        r"|attend(?:s|ed)|came|comes)\b",
    ),
    _rule(
        "no_treatment",
        BLOCK,
        rf"\b{_NEG}\s+(?:be\s+)?(?:treat(?:ed)?|assess(?:ed)?|examin(?:e|ed)"
        r"|resuscitat(?:e|ed))\b",
        "This tells responders not to treat or assess the person."
        + _WITHHOLD_HINT
        + " Write 'Always assess and treat' and add what makes treatment easier "
        "for the person.",
        unless_before=_PREFERENCE,
        unless_after=r"(?:(?:her|him|them|me|us)\s+)?(?:as|like|differently|with\s+suspicion|unfairly|badly"
        r"|roughly)\b",
    ),
    _rule(
        "no_treatment",
        BLOCK,
        r"\b(?:(?:refuse|deny|withhold|decline)|be\s+(?:refused|denied))\s+"
        r"(?:(?:her|him|them|the\s+person)\s+)?(?:all\s+|any\s+)?(?:care|treatment"
        r"|admission|conveyance|assessment|attendance|entry|help|an?\s+ambulance"
        r"|pain\s+relief|analgesia)\b",
        "This tells staff to refuse the person care."
        + _WITHHOLD_HINT
        + " Say what helps the person accept care instead.",
        unless_before=rf"{_DOUBLE_NEGATIVE}|{_DESCRIBING}(?:\s+\w+)?|{_PREFERENCE}"
        r"|\bmay|\bmight|\boften|\bsometimes|\busually|\bcan|\bcould|\bwill",
    ),
    _rule(
        "no_treatment",
        BLOCK,
        rf"\b{_NEG}\s+(?:be\s+)?(?:given|offered|provided\s+with|receive)\s+"
        r"(?:any\s+)?(?:care|treatment|pain\s+relief|analgesia|an?\s+ambulance"
        r"|admission|a\s+bed)\b",
        "This tells staff not to give the person care."
        + _WITHHOLD_HINT
        + " Say what helps the person accept care instead.",
        unless_before=_PREFERENCE,
    ),
    _rule(
        "no_treatment",
        BLOCK,
        r"\bno\s+need\s+for\s+(?:treatment|conveyance|admission|assessment"
        r"|an?\s+ambulance|police)\b",
        "This tells responders there is no need to act."
        + _WITHHOLD_HINT
        + " Say what usually helps instead.",
    ),
    _rule(
        "no_attendance",
        BLOCK,
        r"\bignore\s+(?:(?:her|his|their|any|all)\s+)?(?:999\s+|emergency\s+)?"
        r"(?:calls?|requests?\s+for\s+help)\b",
        "This tells a service to ignore the person's calls."
        + _WITHHOLD_HINT
        + " Say who else can help and what usually works.",
    ),
    _rule(
        "no_admission",
        BLOCK,
        rf"\b{_NEG}\s+(?:be\s+)?admit(?:ted)?\b",
        "This tells staff not to admit the person."
        + _WITHHOLD_HINT
        + " Describe what usually helps and leave admission to clinical judgement.",
        unless_before=_PREFERENCE,
        unless_after=r"to\s+(?:feeling|being|having|it|that|needing)\b",
    ),
    _rule(
        "no_admission",
        BLOCK,
        rf"\b(?:not\s+for|banned\s+from|barred\s+from|exclude(?:d)?\s+from)\s+"
        rf"(?:{_HOSPITAL}|conveyance|admission|treatment|assessment|attendance"
        r"|the\s+ward|ambulance)",
        "This shuts the person out of care."
        + _WITHHOLD_HINT
        + " Describe what usually helps instead.",
    ),
)

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

RULES: tuple[_Rule, ...] = _BLOCK_RULES + _ACKNOWLEDGE_RULES
CODES: frozenset[str] = frozenset(rule.code for rule in RULES)

# Words each rule cannot match without, looked for in the field's words joined by
# single spaces with a space either end (so " not " is the whole word, " arrest"
# any word starting so). Most fields hold none of them, so most rules never run
# their expression: imports check every document, and a million plans must not
# wait on thirty scans of every field.
_NEGATION = (" not ", "n't ", " dont ", " never ", " cannot ")
_NEEDLES: tuple[tuple[str, ...], ...] = (
    _NEGATION,
    _NEGATION,
    (" need",),
    (" no need",),
    _NEGATION,
    _NEGATION,
    _NEGATION,
    tuple(
        f" no {service}"
        for service in (
            "police",
            "ambulance",
            "paramedic",
            "emergency",
            "ed",
            "medical",
            "clinical",
            "nhs",
            "999",
        )
    ),
    (" no ambulance",),
    _NEGATION,
    (" refuse", " deny", " denied", " withhold", " decline"),
    _NEGATION,
    (" no need",),
    (" ignore",),
    _NEGATION,
    (" not for", " banned", " barred", " exclud"),
    (" arrest",),
    (" prosecut", " charged", " summons"),
    (" consequences",),
    (
        "35",
        "cbo",
        "asbo",
        "criminal behavio",
        "social behavio",
        "community protection",
        "injunction",
        "dispersal",
        "banning order",
    ),
    ("warn",),
    ("fine", "penalt"),
    ("caution",),
    ("punish", "sanction", "banned", "zero tolerance"),
    ("frequent", "regular"),
    ("attention",),
    ("manipulat",),
    ("wast",),
    (
        "nuisance",
        "hysterical",
        "drama queen",
        "junkie",
        "druggie",
        "pest",
        "abuser",
        "misus",
        "difficult patient",
        "bed blocker",
        "revolving door",
        "pseudo",
        "putting it on",
        "faking",
    ),
)
assert len(_NEEDLES) == len(RULES), "one tuple of needles per rule"
_RULES_WITH_NEEDLES = tuple(
    (rule, frozenset(needles)) for rule, needles in zip(RULES, _NEEDLES, strict=True)
)
_ALL_NEEDLES = tuple(sorted({needle for needles in _NEEDLES for needle in needles}))

_SENTENCE_BREAK = re.compile(r"[.!?;:\n]")
_WORD = re.compile(r"[a-z0-9'&£]+")


def _sentence_before(text: str, start: int) -> str:
    before = text[:start]
    breaks = list(_SENTENCE_BREAK.finditer(before))
    return before[breaks[-1].end() :] if breaks else before


def _findings_in(pointer: str, text: str) -> Iterator[Finding]:
    # Curly apostrophes are one character, so spans still line up with the text.
    plain = text.replace("\u2019", "'").replace("\u2018", "'")
    squeezed = " " + " ".join(_WORD.findall(plain.lower())) + " "
    found = {needle for needle in _ALL_NEEDLES if needle in squeezed}
    if not found:
        return
    seen: set[tuple[str, int]] = set()
    for rule, needles in _RULES_WITH_NEEDLES:
        if found.isdisjoint(needles):
            continue
        for match in rule.pattern.finditer(plain):
            if rule.unless_before and rule.unless_before.search(
                _sentence_before(plain, match.start())
            ):
                continue
            if rule.unless_after and rule.unless_after.search(plain[match.end() :]):
                continue
            # Two rules of the same code on the same words count once.
            if (rule.code, match.start()) in seen:
                continue
            seen.add((rule.code, match.start()))
            yield Finding(
                code=rule.code,
                severity=rule.severity,
                pointer=pointer,
                phrase=text[match.start() : match.end()],
                message=rule.message,
            )


def check_text(text: str, pointer: str = "") -> list[Finding]:
    """Return the findings in one piece of text (`pointer` names its field)."""
    return list(_findings_in(pointer, text))


def check_plan(document: dict[str, Any]) -> list[Finding]:
    """Return every guardrail finding in a response-plan/1 document, blocks first."""
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
