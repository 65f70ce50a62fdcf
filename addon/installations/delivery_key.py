"""A key of the installation's own that Saleor sends with its lifecycle webhooks' deliveries.

Saleor signs every app's deliveries with one key, over the body alone
(saleor/webhook/transport/__init__.py `signature_for_payload`). Subscription aliases let another
app of the same Saleor obtain a signed body shaped like this app's APP_DELETED, `{"issuedAt": …,
"app": {"id": <this app>}}` (the `issuingPrincipal` of a write this app made, aliased `app`),
capture it at its own URL and post it here. While this app is deactivated Saleor refuses its
token exactly as a deleted app's (`lifecycle.py`), so asking Saleor confirms such a body, and it
would erase the installation; with Saleor unreachable, it would put the deactivation in doubt
(`lost_lifecycle`). What no other app can obtain is what Saleor sends with this app's own
webhooks alone: their custom headers (`Webhook.custom_headers`, added to each delivery's headers:
saleor/webhook/transport/utils.py `send_webhook_using_http`; an app reads and changes only its
own webhooks, staff with MANAGE_APPS any, who could delete the app anyway).

So the webhook upkeep (`webhook_upkeep`) gives the webhooks of the lifecycle documents the header
`HEADER` with the installation's key (made at registration, encrypted at rest, a new one at each
registration), keeping any other header a staff member gave them. Saleor takes a
`customHeaders` it cannot parse for none, without an error (saleor/graphql/core/fields.py
`JSONString.parse_value`), so only a reading of the webhooks showing the key on each of them
confirms it (`webhook_key_confirmed_at`, `key_in_place`). From then on a lifecycle delivery
without the key is refused (401 `INVALID_DELIVERY_KEY`) before anything else is asked or
written (`check_delivery`). Until then the checks are those of before: the installation's
webhooks have not been kept up yet, and before Saleor 3.23.5 no lifecycle webhook reaches the
app at all.

Saleor takes at most five custom headers on a webhook (saleor/webhook/validators.py
`custom_headers_validator`, HEADERS_NUMBER_LIMIT; webhook_create.py / webhook_update.py answer
INVALID_CUSTOM_HEADERS). A lifecycle webhook to which staff gave five of their own has no room
for the key: the upkeep asks for none (it would be refused at every run), the key stays
unconfirmed (the checks of before), and the upkeep and the doctor say which webhook it is and
that the admin must remove one of its headers (`no_room_for_key`, `no_room_message`).

A deactivated app cannot change its webhooks (Saleor refuses its token, and a staff member's
`webhookUpdate` of an inactive app's webhook: webhook_create.py `clean_input`), so a key in
place at the deactivation stays so until the app is active again.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from collections.abc import Iterable
from typing import Any

from pydantic import SecretStr

from addon.errors import ErrorCode, Unauthorized
from addon.installations.lifecycle_body import EVENT_TYPES
from addon.installations.models import Installation
from addon.saleor.manifest import WebhookDefinition

logger = logging.getLogger(__name__)

HEADER = "X-App-Delivery-Key"
# Saleor stores header names lower-cased (saleor/webhook/validators.py `custom_headers_validator`),
# and ASGI gives a request's names lower-cased.
HEADER_NAME = HEADER.lower()


# The most custom headers Saleor keeps on one webhook (saleor/webhook/validators.py
# `HEADERS_NUMBER_LIMIT`, checked by `custom_headers_validator` on webhookCreate/Update).
HEADERS_LIMIT = 5


def new_key() -> SecretStr:
    """A key for a registration: URL-safe characters, which Saleor's header validator takes."""
    return SecretStr(secrets.token_urlsafe(32))


def carries_key(definition: WebhookDefinition) -> bool:
    """Whether the document's webhook delivers a lifecycle event (and so carries the key)."""
    return not EVENT_TYPES.keys().isdisjoint(definition.events)


def parse_headers(value: Any) -> dict[str, str] | None:
    """A webhook's `customHeaders` as Saleor answers them: a string of JSON, or null."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, dict):
        return None
    return {str(name).lower(): str(body) for name, body in value.items()}


def headers_with_key(current: dict[str, str] | None, key: SecretStr) -> dict[str, str]:
    """The headers a lifecycle webhook is given: the key, and its other headers as they are."""
    others = {name: body for name, body in (current or {}).items() if name != HEADER_NAME}
    return {**others, HEADER_NAME: key.get_secret_value()}


def no_room_for_key(headers: dict[str, str] | None) -> bool:
    """Whether a webhook's headers other than the key fill every place Saleor allows."""
    others = [name for name in (headers or {}) if name != HEADER_NAME]
    return len(others) >= HEADERS_LIMIT


def no_room_message(slugs: list[str]) -> str:
    """One sentence for the doctor and the Activity page: which webhooks, why, what to do."""
    names = " and ".join(", ".join(slugs).rsplit(", ", 1))
    one = len(slugs) == 1
    return (
        f"The {names} webhook{'' if one else 's'} already {'has' if one else 'have'} "
        f"{HEADERS_LIMIT} custom headers of {'its' if one else 'their'} own, the most Saleor "
        f"allows, so the app cannot add its {HEADER} header: remove one of those headers from "
        f"{'that webhook' if one else 'each'} in Saleor; until then the app's lifecycle "
        "deliveries are accepted without the key."
    )


def holds_key(headers: dict[str, str] | None, key: SecretStr) -> bool:
    presented = (headers or {}).get(HEADER_NAME)
    return presented is not None and hmac.compare_digest(
        presented.encode(), key.get_secret_value().encode()
    )


def key_in_place(hooks: Iterable[dict[str, str] | None], key: SecretStr) -> bool:
    """Whether each of the lifecycle webhooks delivering to the app (their headers) has the key,
    and there is one at least."""
    found = list(hooks)
    return bool(found) and all(holds_key(headers, key) for headers in found)


def check_delivery(installation: Installation, event: str, presented: str | None) -> None:
    """Refuse a lifecycle delivery without the installation's key once the key is confirmed."""
    key = installation.webhook_key
    if installation.webhook_key_confirmed_at is None or key is None:
        return
    if presented is not None and holds_key({HEADER_NAME: presented}, key):
        return
    logger.warning(
        "Refused %s for installation %s: it does not carry the installation's delivery key",
        event,
        installation.id,
    )
    raise Unauthorized(
        f"The {event} delivery does not carry this installation's {HEADER} header: it was not "
        "sent by the app's own webhook.",
        code=ErrorCode.INVALID_DELIVERY_KEY,
    )
