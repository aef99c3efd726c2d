"""Every subscription in the domain, on one screen.

Modules that keep derived state hear of changes through these subscriptions
rather than being called by name, so `plans.versions` and the models depend on
none of them. The listeners are registered here, in this order, once: importing
`plans.all_models` (which every engine, app, CLI and migration does) imports this
module. A new subscription goes in this list, not in a decorator at its target.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from plans import chat, models, notify, nrl
from plans.portal import models as portal_models
from plans.search import index as search_index
from plans.versions import on_live_change

# A plan went live or was retired: keep derived state in step, in one batch.
LIVE_CHANGE_SUBSCRIBERS = (
    search_index._refresh_on_live_change,  # the search row and its places
    chat._refresh_places_on_live_change,  # places named in chat ("near <place>")
    notify._queue_on_live_change,  # the followers' outbox (chat)
    nrl._queue_on_live_change,  # NRL pointers (only where NRL is switched on)
)

# SQLAlchemy session events, for every session in the process.
SESSION_LISTENERS = (
    ("before_flush", models._refuse_edits_to_published_versions),
    ("before_flush", portal_models._refuse_edits_to_saved_reports),
    ("before_flush", notify._queue_on_new_grants),  # "your plan was opened"
    ("after_commit", notify._after_commit),  # wake the outbox worker
    ("after_soft_rollback", notify._after_rollback),
)

for _subscriber in LIVE_CHANGE_SUBSCRIBERS:
    on_live_change(_subscriber)
for _name, _listener in SESSION_LISTENERS:
    event.listen(Session, _name, _listener)
