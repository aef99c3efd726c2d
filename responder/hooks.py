"""Blueprint `hooks` (filled in by its own issue)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("hooks", __name__, url_prefix="/hooks")
