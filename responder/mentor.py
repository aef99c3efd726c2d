"""Blueprint `mentor` (filled in by its own issue)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("mentor", __name__, url_prefix="/mentor")
