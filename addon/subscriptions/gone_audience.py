"""A change of an audience deleted in Mailchimp since the app last imported the audiences.

Mailchimp answers 404 for the list (its contacts went with it), as it does for a contact it
does not have ("Resource Not Found", the same detail for both), so the list itself is asked.
Gone, the change can never be applied: it is dropped, not retried (a retry would hold the
contact's other changes, in its lane, back for hours and end failed), and the audiences are
imported again at once, so the deleted one is marked removed and no longer offered, as the
webhook registration does for the same 404 (`webhook_registration`).
"""

from __future__ import annotations

import logging

from addon.audiences.service import enqueue_import
from addon.connection.service import mailchimp_for
from addon.mailchimp import NotFound
from addon.services import Services

logger = logging.getLogger(__name__)

# The contact's problem once its change is dropped (the customer panel shows it).
GONE_AUDIENCE = (
    "The audience was deleted in Mailchimp before this change reached it; the change was not made."
)


async def audience_gone(services: Services, installation_id: int, list_id: str) -> bool:
    """Whether Mailchimp no longer has the audience (after a 404 of one of its contacts' calls);
    if so, an import is queued to mark it removed."""
    try:
        async with mailchimp_for(services, installation_id) as client:
            await client.get_list(list_id)
    except NotFound:
        pass
    else:
        return False
    logger.info("Audience %s is gone from Mailchimp; change of a contact dropped", list_id)
    async with services.db.transaction() as session:
        await enqueue_import(session, installation_id, scheduled=False)
    return True
