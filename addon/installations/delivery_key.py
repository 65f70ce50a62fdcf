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

Saleor refuses a webhook's custom headers that break a rule of its `custom_headers_validator`
(saleor/webhook/validators.py; webhook_create.py / webhook_update.py answer
INVALID_CUSTOM_HEADERS): more than five, a name and value longer than 998 characters together,
a name not "X-*", "Authorization*" or "BrokerProperties", a character out of RFC 5322's. Headers
it took stay valid (each rule has only loosened since 3.12), yet a lifecycle webhook may carry
headers the key cannot join: five of a staff member's own, or one Saleor refuses now (stored by
another way than its mutations). The upkeep asks for none of those (each would be refused at
every run: `key_refusal`), and takes a refusal it did not foresee (a stricter Saleor) as final
too: the webhook is left as it is, the key stays unconfirmed (the checks of before), and the
upkeep and the doctor say which webhook it is and why (`key_blocked_message`). The app's own
header never breaks a rule: an "X-" name, and a key of 43 URL-safe characters (`new_key`, at
each registration).

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


# saleor/webhook/validators.py `custom_headers_validator` (checked by webhookCreate/Update):
# at most HEADERS_NUMBER_LIMIT headers, each name and value of HEADERS_LENGTH_LIMIT characters
# together (with ": "), RFC 5322 names (printable ASCII but ":") and values (printable ASCII,
# space and tab), names starting "X-" or "Authorization", or "BrokerProperties".
HEADERS_LIMIT = 5
HEADERS_LENGTH_LIMIT = 998
_NAME_CHARS = frozenset(chr(c) for c in range(33, 127)) - {":"}
_VALUE_CHARS = frozenset(chr(c) for c in range(32, 127)) | {"\t"}


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


NO_ROOM = (
    f"it already has {HEADERS_LIMIT} custom headers of its own, the most Saleor allows, so "
    "remove one of them in Saleor"
)


def _header_problem(name: str, value: str) -> str | None:
    """The rule of Saleor's a header breaks, in plain words (its value never shown)."""
    if len(name) + len(value) + 2 > HEADERS_LENGTH_LIMIT:
        return (
            f"is longer than Saleor allows ({HEADERS_LENGTH_LIMIT} characters for its name and "
            "value together)"
        )
    if not _NAME_CHARS.issuperset(name):
        return "has a name with a character Saleor does not allow (only printable ASCII, no colon)"
    if not _VALUE_CHARS.issuperset(value):
        return "has a value with a character Saleor does not allow (only printable ASCII and tabs)"
    lowered = name.lower()
    if not (lowered.startswith(("x-", "authorization")) or lowered == "brokerproperties"):
        return (
            'has a name Saleor does not allow (one starting with "X-" or "Authorization", '
            'or "BrokerProperties")'
        )
    return None


def key_refusal(headers: dict[str, str] | None, key: SecretStr) -> str | None:
    """Why Saleor would refuse a lifecycle webhook's headers with the key added
    (`headers_with_key`), in plain words with what the admin must do; None: it takes them.
    Saleor's order: the number of headers first, then each header in turn."""
    given = headers_with_key(headers, key)
    if len(given) > HEADERS_LIMIT:
        return NO_ROOM
    for name, value in given.items():
        if (problem := _header_problem(name, value)) is None:
            continue
        if name == HEADER_NAME:
            return f"the app's own {HEADER} header {problem}, a fault of the app to report"
        return f'its "{name}" header {problem}, so change or remove that header in Saleor'
    return None


def without_values(text: str, headers: dict[str, str] | None) -> str:
    """`text` (Saleor's words about a webhook's headers) without any of these headers' values
    (the key, a staff member's credentials), the longest first (one may hold another)."""
    for value in sorted((headers or {}).values(), key=len, reverse=True):
        if len(value) >= 4:
            text = text.replace(value, "…")
    return text


_REFUSED = "Saleor refused its custom headers"


def refused_reason(message: str, headers: dict[str, str] | None) -> str:
    """A refusal of the headers the upkeep did not foresee (a stricter Saleor), in Saleor's
    words, without any header's value (`without_values`)."""
    message = without_values(message, headers)
    return (
        f"{_REFUSED} with the key added ({message.strip()}), so change or remove the header it "
        "names in Saleor"
    )


def unforeseen(reason: str) -> bool:
    """Whether a recorded reason is a refusal Saleor gave (`refused_reason`), which only its
    next upkeep can tell again, not one the app reads from the headers (`key_refusal`)."""
    return reason.startswith(_REFUSED)


def blocked_reasons(stored: dict[str, str] | list[str] | None) -> dict[str, str]:
    """`Installation.webhooks_key_blocked`: each webhook's reason; a list of slugs (a record
    written before the reasons were kept) is of webhooks with no room for the key."""
    if isinstance(stored, dict):
        return dict(stored)
    return dict.fromkeys(stored or [], NO_ROOM)


def key_blocked_message(reasons: dict[str, str]) -> str:
    """One sentence for the doctor and the Activity page: which webhooks, why, what to do."""
    each = "; to ".join(f"the {slug} webhook: {reason}" for slug, reason in reasons.items())
    return (
        f"The app cannot add its {HEADER} header to {each}. Until then the app's lifecycle "
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
