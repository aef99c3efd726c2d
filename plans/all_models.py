"""Import every module that defines tables, so metadata and hooks are complete."""

from __future__ import annotations

import plans.audit  # noqa: F401
import plans.models  # noqa: F401
import plans.access  # noqa: F401
