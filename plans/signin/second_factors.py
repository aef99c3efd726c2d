"""What second factors a user has, across passkeys, the app and recovery codes.

Every account has a second factor: passkeys first, the authenticator app as the
fallback, and recovery codes for when both are lost.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from plans.models import User
from plans.signin.authenticator import TotpFactor, totp_enabled
from plans.signin.passkeys import Passkey, passkeys_for
from plans.signin.recovery import RecoveryCode
from plans.signin.sessions import revoke_user_sessions


def has_second_factor(session: Session, user: User) -> bool:
    """Say whether the user has a passkey or a confirmed authenticator app."""
    return bool(passkeys_for(session, user)) or totp_enabled(session, user)


def second_factor_methods(session: Session, user: User) -> list[str]:
    """Name the second factors a user can sign in with ("passkey", "totp")."""
    methods = []
    if passkeys_for(session, user):
        methods.append("passkey")
    if totp_enabled(session, user):
        methods.append("totp")
    return methods


def reset_second_factors(session: Session, user: User) -> int:
    """Remove every passkey, app and recovery code; end the user's sessions."""
    session.execute(delete(Passkey).where(Passkey.user_id == user.id))
    session.execute(delete(TotpFactor).where(TotpFactor.user_id == user.id))
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    from plans.accounts import end_credentials

    end_credentials(session, user, why="factors_reset")
    return revoke_user_sessions(session, user, reason="factors_reset")
