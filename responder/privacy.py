"""Blueprint `privacy` (the privacy officer's alert queue; filled in by issue 3)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("privacy", __name__, url_prefix="/privacy")
