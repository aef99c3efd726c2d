"""Plan card keys: master keys, each team's key derived from them, the key file.

Keys are passed in, never read from configuration. A deployment holds one or more
master keys (the current one first). Each team signs with a key derived from the
master by HKDF, named `<master kid>.<team id>`: the key id alone tells an offline
checker which team to call, and one team's key says nothing about another's.
Rotating adds a new master in front; cards signed under a master that is still
listed keep verifying.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from plans import clock

MASTER_KID_PATTERN = re.compile(r"^[A-Z0-9]{1,8}$")


KID_PATTERN = re.compile(r"^([A-Z0-9]{1,8})\.([0-9]{1,9})$")


_HKDF_SALT = b"responder plan card v1"


class CardError(ValueError):
    """A card request that cannot be carried out, in words."""


class InvalidToken(ValueError):
    """A card token that is malformed, forged, tampered with or from an unknown key."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.strip(), validate=True)


def raw_private(key: Ed25519PrivateKey) -> bytes:
    """Return the 32 raw bytes of a private key."""
    return key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )


def raw_public(key: Ed25519PublicKey) -> bytes:
    """Return the 32 raw bytes of a public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class MasterKey:
    """One deployment signing key and its id."""

    kid: str
    private_key: Ed25519PrivateKey

    def team_key(self, team_id: int) -> Ed25519PrivateKey:
        """Derive the key this master signs a team's cards with."""
        seed = HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=_HKDF_SALT,
            info=f"team:{team_id}".encode("ascii"),
        ).derive(raw_private(self.private_key))
        return Ed25519PrivateKey.from_private_bytes(seed)

    def encoded(self) -> str:
        """Return the key as `kid:base64-private-key`."""
        return f"{self.kid}:{_b64(raw_private(self.private_key))}"


@dataclass(frozen=True)
class KeySet:
    """The deployment's master keys, the one that signs new cards first."""

    masters: tuple[MasterKey, ...]
    _cache: dict[str, Ed25519PublicKey] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if not self.masters:
            raise CardError("a key set needs at least one key")
        kids = [master.kid for master in self.masters]
        if len(set(kids)) != len(kids):
            raise CardError("key ids must be unique")

    @property
    def current(self) -> MasterKey:
        """Return the key new cards are signed with."""
        return self.masters[0]

    def master(self, kid: str) -> MasterKey | None:
        """Return the master key with this id, if listed."""
        return next((m for m in self.masters if m.kid == kid), None)

    def signing_key(self, team_id: int) -> tuple[str, Ed25519PrivateKey]:
        """Return the kid and key that sign a team's new cards."""
        return team_kid(self.current.kid, team_id), self.current.team_key(team_id)

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        """Return the public key behind a card kid, if its master is listed."""
        if kid in self._cache:
            return self._cache[kid]
        match = KID_PATTERN.match(kid)
        if match is None:
            master = self.master(kid)
            return master.private_key.public_key() if master else None
        master = self.master(match.group(1))
        if master is None:
            return None
        public = master.team_key(int(match.group(2))).public_key()
        self._cache[kid] = public
        return public


def team_kid(master_kid: str, team_id: int) -> str:
    """Return the key id of a team's key under a master key."""
    return f"{master_kid}.{team_id}"


def team_id_of_kid(kid: str) -> int | None:
    """Return the team id a card kid names, if it is a team kid."""
    match = KID_PATTERN.match(kid)
    return int(match.group(2)) if match else None


def generate_master_key(kid: str) -> MasterKey:
    """Create a new random master key with this id."""
    if not MASTER_KID_PATTERN.match(kid):
        raise CardError("a key id is 1 to 8 upper-case letters or digits")
    return MasterKey(kid, Ed25519PrivateKey.generate())


def parse_keys(text: str) -> KeySet:
    """Read keys written as `kid:base64-private-key,...`, the current one first."""
    masters = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        kid, sep, encoded = part.partition(":")
        kid = kid.strip()
        if not sep or not MASTER_KID_PATTERN.match(kid):
            raise CardError("card keys are written kid:base64-private-key")
        try:
            raw = _unb64(encoded)
        except (binascii.Error, ValueError):
            raise CardError(f"card key {kid} is not base64") from None
        if len(raw) != 32:
            raise CardError(f"card key {kid} is not a 32-byte Ed25519 key")
        masters.append(MasterKey(kid, Ed25519PrivateKey.from_private_bytes(raw)))
    return KeySet(tuple(masters))


def format_keys(keys: KeySet) -> str:
    """Write keys as `kid:base64-private-key,...`, the current one first."""
    return ",".join(master.encoded() for master in keys.masters)


def read_key_file(text: str) -> KeySet:
    """Read a key file: JSON `{"keys": [{"kid", "private_key", "created"}]}`."""
    try:
        data = json.loads(text)
        entries = data["keys"]
        return parse_keys(
            ",".join(f"{entry['kid']}:{entry['private_key']}" for entry in entries)
        )
    except (ValueError, KeyError, TypeError):
        raise CardError("the card key file is not a card key file") from None


def write_key_file(keys: KeySet, created: Mapping[str, str] | None = None) -> str:
    """Write a key file for `keys`, remembering when each was created."""
    created = dict(created or {})
    now = clock.today().isoformat()
    entries = [
        {
            "kid": master.kid,
            "private_key": _b64(raw_private(master.private_key)),
            "created": created.get(master.kid, now),
        }
        for master in keys.masters
    ]
    return json.dumps({"keys": entries}, indent=2) + "\n"


def key_file_dates(text: str) -> dict[str, str]:
    """Return when each key in a key file was created."""
    try:
        return {
            entry["kid"]: entry.get("created", "") for entry in json.loads(text)["keys"]
        }
    except (ValueError, KeyError, TypeError):
        return {}


def rotate(keys: KeySet, new_kid: str) -> KeySet:
    """Return the key set with a fresh key in front; old keys stay listed."""
    if keys.master(new_kid) is not None:
        raise CardError(f"a key with id {new_kid} already exists")
    return KeySet((generate_master_key(new_kid), *keys.masters))


def retire_key(keys: KeySet, kid: str) -> KeySet:
    """Return the key set without `kid`; cards it signed stop verifying."""
    remaining = tuple(m for m in keys.masters if m.kid != kid)
    if len(remaining) == len(keys.masters):
        raise CardError(f"no key with id {kid}")
    return KeySet(remaining)
