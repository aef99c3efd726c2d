"""NHS numbers: read one as typed, check it, store it as ten digits, show it 3-3-4.

The check is the NHS Data Dictionary's modulus 11, done by the `nhs-number`
package. A number is stored normalised (ten digits, no spaces) so that a search
for "943 476 5919", "943-476-5919" or "9434765919" finds the same person.

Demo and test data use the synthetic range (numbers starting with 9) that the
package generates and that never reaches a live system: `synthetic_nhs_number`
numbers them, so the demo generator stays reproducible and never repeats one.
"""

from __future__ import annotations

import re

from nhs_number.constants import REGION_SYNTHETIC
from nhs_number.validate import calculate_checksum
from nhs_number.validate import is_valid as _check_digit_matches

# Ten digits, optionally grouped 3-3-4 with one space or hyphen between groups.
_TYPED = re.compile(r"^\s*(\d{3})[ -]?(\d{3})[ -]?(\d{4})\s*$")
# The same, found inside a longer search query.
_IN_TEXT = re.compile(r"(?<![\d])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?![\d])")


class NhsNumberError(ValueError):
    """A value that is not an NHS number, in words a mentor can act on."""


def normalise(value: str) -> str:
    """Return the NHS number typed in `value` as ten digits; refuse anything else.

    Spaces and hyphens between the 3-3-4 groups are accepted; the check digit
    must match (modulus 11).
    """
    match = _TYPED.match(value) if isinstance(value, str) else None
    if match is None:
        raise NhsNumberError("an NHS number is 10 digits, such as 943 476 5919")
    digits = "".join(match.groups())
    if not _check_digit_matches(digits):
        raise NhsNumberError(
            "this is not a valid NHS number: its check digit does not match; "
            "check it against the record"
        )
    return digits


def digits_of(value: object) -> str | None:
    """Return the ten digits of a value shaped like an NHS number (unchecked)."""
    match = _TYPED.match(value) if isinstance(value, str) else None
    return "".join(match.groups()) if match else None


def is_valid(digits: str) -> bool:
    """Say whether ten digits make a valid NHS number (modulus 11)."""
    return len(digits) == 10 and digits.isdigit() and bool(_check_digit_matches(digits))


def normalised_or_none(value: object) -> str | None:
    """Return the ten digits of a valid NHS number, or None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return normalise(value)
    except NhsNumberError:
        return None


def formatted(digits: str | None) -> str | None:
    """Return a stored NHS number the way the NHS prints it: 943 476 5919."""
    if not digits:
        return None
    if len(digits) != 10 or not digits.isdigit():
        return digits
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}"


def find_in_query(text: str) -> tuple[str | None, str]:
    """Return a valid NHS number typed in a search query, and the rest of the query.

    Only a number whose check digit matches counts, so a phone number or a
    house number typed in a search is left for the other clues.
    """
    for match in _IN_TEXT.finditer(text):
        digits = "".join(match.groups())
        if _check_digit_matches(digits):
            rest = (text[: match.start()] + " " + text[match.end() :]).strip()
            return digits, rest
    return None, text


def is_synthetic(digits: str) -> bool:
    """Say whether a number lies in the synthetic range that no live system uses."""
    return bool(REGION_SYNTHETIC.contains_number(digits))  # type: ignore[no-untyped-call]


SYNTHETIC_SERIALS = 10_000_000


def synthetic_nhs_number(serial: int) -> str:
    """Return the valid synthetic NHS number numbered `serial` (0 to 9,999,999).

    Different serials give different numbers, so demo people never share one.
    The package's own generator draws from Python's global random state; the
    demo generator must give the same people for the same seed, so the number
    is built here: 9, the serial in seven digits, one digit chosen so that the
    check digit exists (modulus 11 makes exactly one choice of ten fail at
    most), and the check digit the package computes.
    """
    if not 0 <= serial < SYNTHETIC_SERIALS:
        raise ValueError(f"serial must be from 0 to {SYNTHETIC_SERIALS - 1}")
    for spare in range(10):
        body = f"9{serial:07d}{spare}"
        check = calculate_checksum(body)
        if check is not None and check < 10:
            digits = body + str(check)
            assert _check_digit_matches(digits, for_region=REGION_SYNTHETIC)
            return digits
    raise AssertionError("modulus 11 leaves a valid spare digit")  # pragma: no cover
