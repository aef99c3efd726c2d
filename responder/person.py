"""Blueprint `person` (filled in by its own issue)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("person", __name__, url_prefix="/me")
