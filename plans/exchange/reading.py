"""Reading response-plan files and reporting every problem in them.

response-plan/1 documents are upgraded to response-plan/2 before they are
checked (`plans.exchange.upgrade`), so both formats import.

A file holds one document, a JSON array of documents, or JSON Lines. Each problem
names where it is (the line of a JSON Lines file, the index in an array, the line
and column of a syntax error) and the JSON pointer of the field, so whoever made
the file can fix all of it in one pass.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import IO, Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from plans import document as plan_document
from plans import nhs_numbers
from plans.exchange import fhir
from plans.exchange.upgrade import FORMAT, FORMATS, current

ERROR = "error"
WARNING = "warning"

# Limits that keep a hostile file from costing more than a plan is worth. A plan
# nests six levels deep; its numbers are versions, scores and coordinates.
MAX_DEPTH = 32
MAX_NUMBER_LENGTH = 40


@dataclass(frozen=True)
class ImportProblem:
    """One problem in an import file: where it is, which field, and what is wrong.

    `position` is the line number in a JSON Lines file, `[index]` in a JSON array,
    `line:column` for a syntax error, and empty for a file of one document.
    `pointer` is the JSON pointer of the field ("" for the whole document).
    """

    position: str
    pointer: str
    message: str
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        """Say whether the problem stops the document from landing."""
        return self.severity == ERROR

    def __str__(self) -> str:
        where = f"{self.position} " if self.position else ""
        prefix = "warning: " if self.severity == WARNING else ""
        return f"{where}{self.pointer or '/'}: {prefix}{self.message}"


@dataclass
class ParsedDocument:
    """One document read from a file, with its position and its problems."""

    position: str
    document: dict[str, Any] | None
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """Say whether the document may land (no error-level problem)."""
        return self.document is not None and not any(
            problem.is_error for problem in self.problems
        )


@cache
def schema() -> dict[str, Any]:
    """Return the response-plan/2 JSON Schema that ships with the package."""
    text = (
        resources.files("plans")
        .joinpath("schema/response-plan-2.schema.json")
        .read_text(encoding="utf-8")
    )
    loaded: dict[str, Any] = json.loads(text)
    return loaded


_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)


def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    # jsonschema checks date-time only when rfc3339-validator is installed; an
    # unchecked timestamp would land silently, so check RFC 3339 here ourselves.
    @checker.checks("date-time", raises=ValueError)
    def is_date_time(instance: object) -> bool:
        if not isinstance(instance, str):
            return True
        if not _RFC3339.match(instance):
            return False
        dt.datetime.fromisoformat(instance.replace("z", "Z").replace("t", "T"))
        return True

    return checker


@cache
def validator() -> Draft202012Validator:
    """Return a validator for response-plan/2 that checks dates and times."""
    return Draft202012Validator(schema(), format_checker=_format_checker())


def pointer_of(path: Iterable[str | int]) -> str:
    """Return the JSON pointer (RFC 6901) of a path into a document."""
    return "".join(
        "/" + str(part).replace("~", "~0").replace("/", "~1") for part in path
    )


_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
}

_PATTERN_HINTS = {
    "code": "use capital letters, digits and hyphens, 2 to 32 characters "
    "(e.g. SOTON-HIT)",
    "ref": "use letters, digits and / _ . - only, up to 64 characters "
    "(e.g. SOTON-HIT/00042)",
    "nhs_number": "an NHS number is 10 digits, such as 943 476 5919",
    "ods_code": "an ODS code is 3 to 10 capital letters and digits, such as J82001",
}


def _describe(error: ValidationError, path: list[str | int]) -> list[tuple[str, str]]:
    """Return (pointer, message) pairs that explain one schema error in words."""
    pointer = pointer_of(path)
    # jsonschema types these as "or Unset"; a raised error always carries them.
    kind = error.validator
    value: Any = error.validator_value
    instance: Any = error.instance
    schema: Any = error.schema
    if kind == "required":
        present = instance if isinstance(instance, dict) else {}
        return [
            (pointer_of([*path, name]), "is required")
            for name in value
            if name not in present
        ]
    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = set(schema.get("properties", {}))
        return [
            (
                pointer_of([*path, name]),
                f"is not a field of {FORMAT} here; allowed: "
                + ", ".join(sorted(allowed)),
            )
            for name in instance
            if name not in allowed
        ]
    if kind == "type":
        expected = value if isinstance(value, str) else " or ".join(value)
        return [(pointer, f"must be {_TYPE_WORDS.get(expected, expected)}")]
    if kind == "enum":
        choices = ", ".join(str(choice) for choice in value)
        return [(pointer, f"must be one of: {choices} (got {instance!r})")]
    if kind == "const":
        if path == ["format"]:
            accepted = " or ".join(repr(name) for name in FORMATS)
            return [(pointer, f"must be {accepted} (got {instance!r})")]
        return [(pointer, f"must be {value!r} (got {instance!r})")]
    if kind == "format":
        if value == "date":
            return [(pointer, f"{instance!r} is not a date like 2026-11-23")]
        if value == "date-time":
            return [
                (
                    pointer,
                    f"{instance!r} is not a date and time like 2026-11-23T09:15:00Z",
                )
            ]
    if kind == "pattern":
        hint = _PATTERN_HINTS.get(str(path[-1]) if path else "", "")
        return [
            (
                pointer,
                f"{instance!r} is not allowed here" + (f": {hint}" if hint else ""),
            )
        ]
    if kind == "minLength":
        if value == 1:
            return [(pointer, "must not be empty")]
        return [(pointer, f"must be at least {value} characters")]
    if kind == "maxLength":
        return [(pointer, f"is {len(instance)} characters; at most {value} allowed")]
    if kind == "maxItems":
        return [(pointer, f"has {len(instance)} items; at most {value} allowed")]
    if kind == "minimum":
        return [(pointer, f"must be at least {value} (got {instance!r})")]
    if kind == "maximum":
        return [(pointer, f"must be at most {value} (got {instance!r})")]
    return [(pointer, error.message)]


def schema_problems(document: object, position: str = "") -> list[ImportProblem]:
    """Return every way a document breaks the response-plan/2 schema.

    A response-plan/1 document is judged as its upgrade (`upgrade.current`), so
    a stored version the migration has not reached still reads.
    """
    document = current(document)
    problems: list[ImportProblem] = []
    seen: set[tuple[str, str]] = set()
    errors = sorted(
        validator().iter_errors(document),
        key=lambda error: [str(part) for part in error.absolute_path],
    )
    for error in errors:
        for pointer, message in _describe(error, list(error.absolute_path)):
            if (pointer, message) not in seen:
                seen.add((pointer, message))
                problems.append(ImportProblem(position, pointer, message))
    return problems


def domain_problems(
    document: dict[str, Any], position: str = ""
) -> list[ImportProblem]:
    """Return problems the schema cannot express: dates out of order, and so on."""
    problems: list[ImportProblem] = []
    content = plan_document.read(document)
    typed_number = content.person.nhs_number
    if typed_number is not None and not nhs_numbers.is_valid(typed_number):
        problems.append(
            ImportProblem(
                position,
                "/person/nhs_number",
                "is not a valid NHS number: its check digit does not match",
            )
        )
    plan = content.plan
    approved_on = plan.approved_on
    review_by = plan.review_by
    if approved_on and review_by and review_by < approved_on:
        problems.append(
            ImportProblem(
                position,
                "/plan/review_by",
                "is before /plan/approved_on; check the dates",
                WARNING,
            )
        )
    if plan.status == "live" and not plan.approved_by:
        problems.append(
            ImportProblem(
                position,
                "/plan/approved_by",
                "a live plan should name the lead clinician who approved it",
                WARNING,
            )
        )
    return problems


# --- hostile input ---------------------------------------------------------------
#
# Python's json module accepts NaN and Infinity, keeps the last of two duplicate
# keys, turns a 5,000-digit number into an error deep inside int(), and recurses
# once per nesting level. Each of these once got past the schema and broke
# something later (a 500 on approval, a live plan search never found). Parsing
# marks them instead, and `value_problems` reports each with its pointer.


class _Marked:
    """A value the parser refused to build; `message` says why."""

    def __init__(self, message: str) -> None:
        self.message = message


class _DuplicateKeys(dict[str, Any]):
    """A JSON object that named some keys more than once."""

    duplicates: list[str]


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    duplicates: list[str] = []
    for key, value in pairs:
        if key in seen and key not in duplicates:
            duplicates.append(key)
        seen[key] = value
    if not duplicates:
        return seen
    marked = _DuplicateKeys(seen)
    marked.duplicates = duplicates
    return marked


def _parse_constant(name: str) -> _Marked:
    return _Marked(f"{name} is not a number JSON allows")


def _parse_int(text: str) -> int | _Marked:
    if len(text.lstrip("-")) > MAX_NUMBER_LENGTH:
        return _Marked(
            f"a number of {len(text.lstrip('-'))} digits; "
            f"at most {MAX_NUMBER_LENGTH} allowed"
        )
    return int(text)


def _parse_float(text: str) -> float | _Marked:
    if len(text) > MAX_NUMBER_LENGTH:
        return _Marked(
            f"a number of {len(text)} characters; at most {MAX_NUMBER_LENGTH} allowed"
        )
    value = float(text)
    if not math.isfinite(value):
        return _Marked("the number is too large to hold")
    return value


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object_pairs,
    parse_constant=_parse_constant,
    parse_int=_parse_int,
    parse_float=_parse_float,
)


class NestingTooDeep(ValueError):
    """The text nests objects or arrays deeper than MAX_DEPTH."""

    def __init__(self, line: int, column: int) -> None:
        super().__init__(f"nested more than {MAX_DEPTH} levels deep")
        self.lineno = line
        self.colno = column


def _check_depth(text: str, line_offset: int = 0) -> None:
    """Refuse text that nests deeper than MAX_DEPTH, before parsing recurses."""
    depth = 0
    in_string = False
    escaped = False
    line, line_start = 1, 0
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise NestingTooDeep(line + line_offset, index - line_start + 1)
        elif char in "]}":
            depth -= 1
        if char == "\n":
            line, line_start = line + 1, index + 1


def parse_json(text: str, line_offset: int = 0) -> Any:
    """Parse JSON text, marking what `value_problems` must refuse.

    Raises json.JSONDecodeError for bad syntax and NestingTooDeep for deep
    nesting, each with a line and column.
    """
    _check_depth(text, line_offset)
    return _DECODER.decode(text)


def bad_character(text: str) -> str | None:
    """Say, in words, why a text is no plan text (a lone surrogate, a control)."""
    for char in text:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            return f"holds a lone surrogate (U+{code:04X}), which is not text"
        if (code < 0x20 and char not in "\t\n\r") or 0x7F <= code <= 0x9F:
            return f"holds the control character U+{code:04X}"
    return None


def value_problems(value: object, position: str = "") -> list[ImportProblem]:
    """Return every value no plan may hold, wherever it is, with its pointer.

    Refused: NaN and infinite numbers, numbers too long to be real, duplicate
    keys, lone surrogates and control characters (tab and newline aside), and
    nesting deeper than MAX_DEPTH. The problems name where, never the value.
    """
    problems: list[ImportProblem] = []
    stack: list[tuple[object, list[str | int]]] = [(value, [])]
    while stack:
        node, path = stack.pop()
        if len(path) > MAX_DEPTH:
            problems.append(
                ImportProblem(
                    position, pointer_of(path), f"nested more than {MAX_DEPTH} deep"
                )
            )
            continue
        if isinstance(node, _Marked):
            problems.append(ImportProblem(position, pointer_of(path), node.message))
        elif isinstance(node, float) and not math.isfinite(node):
            problems.append(
                ImportProblem(position, pointer_of(path), "must be a finite number")
            )
        elif isinstance(node, str):
            bad = bad_character(node)
            if bad:
                problems.append(ImportProblem(position, pointer_of(path), bad))
        elif isinstance(node, dict):
            for key in getattr(node, "duplicates", ()):
                problems.append(
                    ImportProblem(
                        position,
                        pointer_of([*path, key]),
                        "appears twice in the same object; keep one",
                    )
                )
            for key, item in reversed(list(node.items())):
                bad_key = bad_character(str(key))
                if bad_key:
                    problems.append(
                        ImportProblem(
                            position, pointer_of(path), f"a field name {bad_key}"
                        )
                    )
                    continue
                stack.append((item, [*path, key]))
        elif isinstance(node, list):
            for index in reversed(range(len(node))):
                stack.append((node[index], [*path, index]))
    return problems


def check_document(document: object, position: str = "") -> ParsedDocument:
    """Validate one already-parsed document against the schema and domain rules.

    A document holding a value no plan may hold (see `value_problems`) is not
    kept at all, so nothing of it can land. A response-plan/1 document is
    upgraded first, and values typed several ways are normalised.
    """
    hostile = value_problems(document, position)
    if hostile:
        return ParsedDocument(position, None, hostile)
    if fhir.is_bundle(document):
        # One of our FHIR bundles: checked as FHIR R4, then read back into the
        # document it carries, which meets every check a document meets.
        assert isinstance(document, dict)
        try:
            fhir.validate_bundle(document)
            document = fhir.document_from_bundle(document)
        except fhir.BundleError as error:
            problem = ImportProblem(position, error.pointer, error.message)
            return ParsedDocument(position, None, [problem])
        except (KeyError, TypeError, IndexError, ValueError) as error:
            problem = ImportProblem(
                position,
                "",
                f"not a bundle this service wrote ({type(error).__name__}); "
                "import it as a response-plan document instead",
            )
            return ParsedDocument(position, None, [problem])
    document = current(document)
    problems = schema_problems(document, position)
    if not isinstance(document, dict):
        return ParsedDocument(position, None, problems)
    if not problems:
        problems.extend(domain_problems(document, position))
    return ParsedDocument(position, document, problems)


def _syntax_problem(
    error: json.JSONDecodeError | NestingTooDeep, line_offset: int = 0
) -> ImportProblem:
    if isinstance(error, NestingTooDeep):
        # parse_json already counted the offset into the line number.
        return ImportProblem(f"{error.lineno}:{error.colno}", "", str(error))
    return ImportProblem(
        f"{error.lineno + line_offset}:{error.colno}",
        "",
        f"not valid JSON: {error.msg}",
    )


def _looks_like_json_lines(first_line: str) -> bool:
    stripped = first_line.strip()
    return len(stripped) > 1 and stripped[0] == "{" and stripped[-1] == "}"


def read_documents(stream: IO[str], *, name: str = "") -> Iterator[ParsedDocument]:
    """Read documents from a text stream, checking each one, in file order.

    JSON Lines is read a line at a time, so a file of a million plans streams;
    a JSON array or a single document is read whole.
    """
    first = ""
    skipped = 0
    for line in stream:
        first = line.lstrip("\ufeff")
        if first.strip():
            break
        skipped += 1
    else:
        yield ParsedDocument(
            "", None, [ImportProblem("", "", "the file holds no documents")]
        )
        return
    if name.endswith((".jsonl", ".ndjson")) or _looks_like_json_lines(first):
        yield from _read_json_lines(first, stream, skipped)
        return
    text = first + stream.read()
    try:
        loaded = parse_json(text, skipped)
    except (json.JSONDecodeError, NestingTooDeep) as error:
        yield ParsedDocument("", None, [_syntax_problem(error, skipped)])
        return
    except RecursionError:
        problem = ImportProblem("", "", f"nested more than {MAX_DEPTH} levels deep")
        yield ParsedDocument("", None, [problem])
        return
    if isinstance(loaded, list):
        if not loaded:
            yield ParsedDocument(
                "", None, [ImportProblem("", "", "the array holds no documents")]
            )
        for index, document in enumerate(loaded):
            yield check_document(document, f"[{index}]")
        return
    yield check_document(loaded, "")


def _read_json_lines(
    first: str, stream: IO[str], skipped: int
) -> Iterator[ParsedDocument]:
    lines = iter([first])
    number = skipped
    for source in (lines, stream):
        for line in source:
            number += 1
            if not line.strip():
                continue
            position = str(number)
            try:
                document = parse_json(line)
            except (json.JSONDecodeError, NestingTooDeep, RecursionError) as error:
                if isinstance(error, json.JSONDecodeError):
                    message = f"not valid JSON at column {error.colno}: {error.msg}"
                elif isinstance(error, NestingTooDeep):
                    message = f"at column {error.colno}: {error}"
                else:
                    message = f"nested more than {MAX_DEPTH} levels deep"
                yield ParsedDocument(
                    position, None, [ImportProblem(position, "", message)]
                )
                continue
            yield check_document(document, position)


def with_file_checks(parsed: Iterable[ParsedDocument]) -> Iterator[ParsedDocument]:
    """Add the checks that span a file: one ref and version appears only once."""
    seen: dict[str, tuple[str, int]] = {}
    for item in parsed:
        if item.valid and item.document is not None:
            ref = plan_document.ref(item.document)
            version = plan_document.version_number(item.document)
            key = f"{ref}\x00{version}"
            fingerprint = hash(json.dumps(item.document, sort_keys=True))
            earlier = seen.get(key)
            if earlier is None:
                seen[key] = (item.position, fingerprint)
            else:
                where = earlier[0] or "earlier"
                same = earlier[1] == fingerprint
                item.problems.append(
                    ImportProblem(
                        item.position,
                        "/person/ref",
                        f"{ref} version {version} "
                        f"already appears at {where}"
                        + (
                            "; this identical copy changes nothing"
                            if same
                            else " with different content; raise the version number"
                        ),
                        WARNING if same else ERROR,
                    )
                )
        yield item


def read_file(path: str | Path) -> Iterator[ParsedDocument]:
    """Read and check every document in a file (see `read_documents`)."""
    with open(path, encoding="utf-8") as stream:
        try:
            yield from with_file_checks(read_documents(stream, name=str(path)))
        except UnicodeDecodeError as error:
            yield ParsedDocument(
                "",
                None,
                [
                    ImportProblem(
                        "",
                        "",
                        f"the file is not UTF-8 text ({error.reason}); "
                        "nothing after this point was read",
                    )
                ],
            )


def read_text(text: str, *, name: str = "") -> list[ParsedDocument]:
    """Read and check every document in a string (see `read_documents`)."""
    import io

    return list(with_file_checks(read_documents(io.StringIO(text), name=name)))
