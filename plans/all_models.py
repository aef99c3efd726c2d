"""Import every module that defines tables, so metadata and hooks are complete."""

from __future__ import annotations

import plans.access  # noqa: F401
import plans.agreement  # noqa: F401
import plans.audit  # noqa: F401
import plans.cards  # noqa: F401
import plans.cases.models  # noqa: F401
import plans.chat  # noqa: F401
import plans.identity  # noqa: F401
import plans.models  # noqa: F401
import plans.notify  # noqa: F401
import plans.nrl  # noqa: F401
import plans.people  # noqa: F401
import plans.photos  # noqa: F401
import plans.portal.models  # noqa: F401
import plans.ratelimit  # noqa: F401
import plans.search.index  # noqa: F401
import plans.sessions  # noqa: F401
