"""Hashing: the argon2id cost for passwords and PINs, and the one SHA-256 digest.

`sha256_hex` is how tokens, throttle keys and audit rows are digested: a secret
is stored only as this digest, so a database dump holds no usable token.

The argon2id cost for staff passwords and holder PINs is chosen once per process.

Production keeps the library's RFC 9106 "low memory" profile (64 MiB, 3 passes,
4 lanes). Tests lower it (PASSWORD_HASH_COST in tests/conftest.py) because
hashing at production cost is what made signing in the slowest part of the
suite; the tests of hashing itself put production cost back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from argon2 import PasswordHasher


@dataclass(frozen=True)
class HashCost:
    """argon2id parameters: passes, memory in KiB, lanes."""

    time_cost: int = 3
    memory_cost: int = 65536
    parallelism: int = 4


PRODUCTION = HashCost()


def parse_cost(text: str) -> HashCost:
    """Read "time_cost=1,memory_cost=8,parallelism=1" (any subset) into a HashCost."""
    values: dict[str, int] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        name, _, number = part.partition("=")
        if name.strip() not in HashCost.__dataclass_fields__ or not number.isdigit():
            raise ValueError(f"not an argon2 parameter: {part!r}")
        values[name.strip()] = int(number)
    return HashCost(**values)


class _Current:
    cost = PRODUCTION
    hasher = PasswordHasher()


def set_cost(cost: HashCost) -> None:
    """Hash and check with `cost` from now on, in this process."""
    _Current.cost = cost
    _Current.hasher = PasswordHasher(
        time_cost=cost.time_cost,
        memory_cost=cost.memory_cost,
        parallelism=cost.parallelism,
    )


def hasher() -> PasswordHasher:
    """Return the argon2id hasher at this process's cost."""
    return _Current.hasher


def cost() -> HashCost:
    """Return the cost passwords and PINs are hashed with now."""
    return _Current.cost


def sha256_hex(material: str | bytes) -> str:
    """Return the SHA-256 of text (UTF-8) or bytes as 64 hex digits."""
    raw = material.encode("utf-8") if isinstance(material, str) else material
    return hashlib.sha256(raw).hexdigest()
