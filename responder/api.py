"""The JSON API, version 1: bearer-token search, FHIR bundles, health, OpenAPI."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import Blueprint, abort, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import BadRequest, Unauthorized

from plans import accounts, clock, lookup, rules
from plans.exchange import fhir, serving
from plans.models import User
from responder.access import public
from responder.db import get_engine, get_session
from responder.security import search_rate

bp = Blueprint("api", __name__)

F = TypeVar("F", bound=Callable[..., ResponseReturnValue])


def bearer_user() -> User | None:
    """Return the user behind the request's bearer token, if valid."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return accounts.authenticate_token(get_session(), token.strip())


def token_required(view: F) -> F:
    """Answer 401 unless the request carries a valid bearer token."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        user = bearer_user()
        if user is None:
            error = Unauthorized("A valid bearer token is required.")
            error.www_authenticate = []
            raise error
        g.api_user = user
        return view(*args, **kwargs)

    return cast(F, wrapped)


def _float_arg(name: str, low: float, high: float) -> float | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise BadRequest(f"{name} must be between {low:g} and {high:g}")
    return value


def search_parameters() -> tuple[str, float | None, float | None, int]:
    """Parse and check q, lat, lon and limit; raise 400 with a reason if bad."""
    config = current_app.config
    q = request.args.get("q", "")
    if len(q) > config["SEARCH_MAX_QUERY_LENGTH"]:
        raise BadRequest(
            f"q must be at most {config['SEARCH_MAX_QUERY_LENGTH']} characters"
        )
    if "\x00" in q:
        raise BadRequest("q must not contain NUL characters")
    lat = _float_arg("lat", -90.0, 90.0)
    lon = _float_arg("lon", -180.0, 180.0)
    if (lat is None) != (lon is None):
        raise BadRequest("lat and lon must be given together")
    raw_limit = request.args.get("limit", str(config["SEARCH_DEFAULT_LIMIT"]))
    # ASCII digits only: "²".isdigit() is true, and int("²") raised a 500.
    well_formed = raw_limit.isascii() and raw_limit.isdigit() and len(raw_limit) <= 6
    if not well_formed or not 1 <= int(raw_limit) <= config["SEARCH_MAX_LIMIT"]:
        raise BadRequest(
            f"limit must be a whole number from 1 to {config['SEARCH_MAX_LIMIT']}"
        )
    return q, lat, lon, int(raw_limit)


def offset_parameter() -> int:
    """Parse `offset` (how many results to skip for the next page); 400 if bad."""
    raw = request.args.get("offset", "0")
    if not raw.isdigit() or int(raw) > 10_000:
        raise BadRequest("offset must be a whole number from 0 to 10000")
    return int(raw)


def result_json(result: Any) -> dict[str, Any]:
    """Return one search result as the API's minimal-identity object."""
    return {
        "ref": result.ref,
        "name": result.name,
        "age": result.age,
        "town": result.town,
        "team": result.team,
        "score": round(float(result.score), 4),
        "match": getattr(result, "match", "weak"),
        "reasons": list(result.reasons),
        "review_overdue": bool(result.review_overdue),
    }


NO_STRONG_MATCH = (
    "No result singles one person out: the person may have no plan. "
    "Assess and treat as usual."
)


def results_json(results: Any, offset: int) -> dict[str, Any]:
    """Return a page of results with how many matched, so nothing is hidden."""
    rows = [result_json(result) for result in results]
    total = int(getattr(results, "total", offset + len(rows)))
    more = offset + len(rows) < total
    return {
        "results": rows,
        "total": total,
        "total_is_lower_bound": bool(getattr(results, "at_least", False)),
        "offset": offset,
        "next_offset": offset + len(rows) if more else None,
        "area_first": bool(getattr(results, "area_first", False)),
        "note": None
        if any(row["match"] == "strong" for row in rows)
        else NO_STRONG_MATCH,
    }


@bp.get("/api/v1/search")
@token_required
def search() -> ResponseReturnValue:
    """Rank live plans against what the responder has: words and position."""
    q, lat, lon, limit = search_parameters()
    offset = offset_parameter()
    session = get_session()
    try:
        results = lookup.find_plans(
            session,
            g.api_user,
            q,
            channel="api",
            lat=lat,
            lon=lon,
            limit=limit,
            offset=offset,
            today=clock.today(),
            rate=search_rate(current_app),
        )
    except lookup.SearchRefused as refused:
        session.commit()  # the count stands, so waiting is the only way on
        if refused.reason == "rate_limited":
            error = jsonify({"error": str(refused), "status": 429})
            error.status_code = 429
            error.headers["Retry-After"] = str(refused.retry_after)
            return error
        abort(403, description="Only responders search plans.")
    session.commit()
    response = jsonify(results_json(results, offset))
    return response


@bp.get("/api/v1/plans/<path:ref>/fhir")
@token_required
def plan_fhir(ref: str) -> ResponseReturnValue:
    """Serve a live plan as a FHIR R4 collection Bundle to its team's system."""
    session = get_session()
    try:
        bundle = serving.fhir_bundle(session, g.api_user, ref, channel="api")
    except rules.NotAllowed:
        abort(403, description="Only a plan team's system account fetches bundles.")
    except serving.BundleNotFound:
        abort(404, description="No live plan with this reference in your teams.")
    session.commit()
    response = current_app.response_class(
        json.dumps(bundle, ensure_ascii=False), mimetype="application/fhir+json"
    )
    response.headers["Content-Type"] = fhir.MEDIA_TYPE
    return response


@bp.get("/api/v1/openapi.json")
@public
def openapi() -> ResponseReturnValue:
    """Serve the OpenAPI description of the JSON API."""
    from responder.openapi import document

    return jsonify(document())


@bp.get("/healthz")
@public
def healthz() -> ResponseReturnValue:
    """Answer 200 when the database is reachable, 503 when it is not."""
    from plans.db import ping

    try:
        ping(get_engine())
    except Exception:  # noqa: BLE001  any failure means "not healthy"
        abort(503)
    return jsonify({"status": "ok"})
