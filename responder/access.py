"""Route guards: every view states who may call it, checked on the server.

Views declare their audience with `roles_required(...)` (or `public` for the few
routes anyone may reach); the URL-map walk in tests/test_authorisation.py fails for
any route that declares neither. Team scope is checked per object with
`require_team`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from flask import abort
from flask.typing import ResponseReturnValue
from flask_login import current_user

from plans.models import RESPONDER_KINDS

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])

RESPONDERS = RESPONDER_KINDS
MENTORS = ("mentor", "lead_clinician")
PLAN_STAFF = ("mentor", "lead_clinician", "privacy_officer")


def public(view: F) -> F:
    """Mark a view as reachable without signing in (checked by the URL-map walk)."""
    view.access_rule = "public"  # type: ignore[attr-defined]
    return view


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow only signed-in users whose role is one of `roles`."""
    allowed = frozenset(roles)

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
            from flask import current_app

            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined,no-any-return]
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.access_rule = tuple(sorted(allowed))  # type: ignore[attr-defined]
        return cast(F, wrapped)

    return decorator


def signed_in(view: F) -> F:
    """Allow any signed-in user, whatever their role."""
    from plans.models import ROLES

    return roles_required(*ROLES)(view)


def require_team(team_ids: Iterable[int] | int) -> None:
    """Abort 404 unless the current user belongs to one of these teams.

    404 rather than 403: a user outside the team learns nothing, not even that the
    object exists.
    """
    from flask import request

    from plans import access
    from responder.db import session_factory

    user = current_user._get_current_object()
    # A session of its own: only the refusal's audit row is committed, never
    # half of what the view did before it looked the object up.
    with session_factory()() as db:
        try:
            access.require_team(
                db, user, team_ids, channel="web", route=request.endpoint or ""
            )
        except access.OutOfTeam:
            db.commit()
            abort(404)
