"""Signing in: sessions, second factors and login-attempt throttling.

- `sessions`: signed-in session records (the cookie's token, stored as a digest).
- `second_factors`: which factors a user has; resetting them all.
- `passkeys`: WebAuthn credentials and their one-time challenges.
- `authenticator`: the authenticator app (TOTP), secrets encrypted.
- `recovery`: single-use recovery codes.
- `throttling`: slowing guesses per pair, account and address.
"""

from __future__ import annotations


class SecondFactorError(ValueError):
    """A second-factor request that cannot be carried out, in words."""
