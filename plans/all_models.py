"""Import every module that defines tables, then wire their subscriptions.

Every engine, app, CLI command and migration imports this module, so the metadata
is complete and `plans.wiring` has registered every listener once.
"""

from __future__ import annotations

import plans.access  # noqa: F401
import plans.agreement  # noqa: F401
import plans.audit  # noqa: F401
import plans.card_keys  # noqa: F401
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
import plans.signin.authenticator  # noqa: F401
import plans.signin.passkeys  # noqa: F401
import plans.signin.recovery  # noqa: F401
import plans.signin.sessions  # noqa: F401
import plans.signin.throttling  # noqa: F401
import plans.wiring  # noqa: F401,E402  (every subscription, on one screen)
