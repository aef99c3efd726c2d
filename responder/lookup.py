"""Blueprint `lookup` (filled in by its own issue)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("lookup", __name__)
