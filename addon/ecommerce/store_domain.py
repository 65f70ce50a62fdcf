"""A channel's store `domain`, which Mailchimp holds once per account.

"The store domain must be unique within a user account" (the spec, `E_commerce_Store`):
Mailchimp refuses a second store with a domain another store of the account has ("A store with
the domain … already exists in the account.", mailchimp/mc-magento#794), and takes a storefront
URL with a path as its own (Mailchimp for Magento's answer was the store view's URL with its
store code, mailchimp/mc-magento#691). Two tracked channels on one storefront, or a channel's
store for another audience beside the old one (kept for its history), would share a host.

So the domain is the storefront's address down to the channel where the product URL template
names it (`https://shop.example/{channel}/products/{slug}` → `shop.example/eu`), and when
Mailchimp still finds it taken the store is created under the channel's, then the audience's,
path: `shop.example/eu`, `shop.example/eu/<list id>`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from addon.mailchimp import BadRequest, StoreInput, StorePatch
from addon.mailchimp.errors import MailchimpError

TAKEN = "a store with the domain"
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def domain_taken(exc: MailchimpError) -> bool:
    return isinstance(exc, BadRequest) and TAKEN in f"{exc.title} {exc.detail}".lower()


def store_domain(template: str | None, channel: str, fallback: str) -> str:
    """The storefront's host, with the channel's path segment where the template has one."""
    parts = urlsplit(template or "")
    if not parts.netloc:
        return fallback
    if "{channel}" in parts.netloc:
        host = parts.netloc.replace("{channel}", channel)
        return fallback if _PLACEHOLDER.search(host) else host
    segments = parts.path.split("/")
    at = next((i for i, s in enumerate(segments) if "{channel}" in s), None)
    if at is None:
        return parts.netloc
    path = "/".join(segments[: at + 1]).replace("{channel}", channel)
    return parts.netloc if _PLACEHOLDER.search(path) else parts.netloc + path


def alternatives(domain: str, channel: str, list_id: str) -> list[str]:
    """The domain, then the channel's and the audience's paths under it (each once)."""
    with_channel = domain if domain.rstrip("/").endswith(f"/{channel}") else f"{domain}/{channel}"
    return list(dict.fromkeys([domain, with_channel, f"{with_channel}/{list_id}"]))


async def create_with_own_domain(
    create: Callable[[StoreInput], Awaitable[object]], body: StoreInput, channel: str
) -> str:
    """Create the store under the first of its domain's `alternatives` Mailchimp takes; the
    domain used. Refused for each, the last refusal is raised (the admin reads Mailchimp's
    reason)."""
    *earlier, last = alternatives(body.domain or "", channel, body.list_id)
    for candidate in earlier:
        try:
            await create(body.model_copy(update={"domain": candidate}))
        except BadRequest as exc:
            if not domain_taken(exc):
                raise
            continue
        return candidate
    await create(body.model_copy(update={"domain": last}))
    return last


async def update_keeping_domain(
    update: Callable[[StorePatch], Awaitable[object]], patch: StorePatch
) -> None:
    """Update the store; a domain Mailchimp finds taken is left as the store has it."""
    try:
        await update(patch)
    except BadRequest as exc:
        if not domain_taken(exc):
            raise
        await update(patch.model_copy(update={"domain": None}))
