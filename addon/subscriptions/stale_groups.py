"""A change naming a group (an interest) that was deleted in Mailchimp after the app last read
the audience's groups.

Mailchimp refuses the whole member write then (400 Invalid Resource, "Invalid interest ID:
'…'.", drewm/mailchimp-api#294), so a subscription or a group change would fail on every retry
and be lost. It is sent again with the groups Mailchimp still has, and the audiences are
imported again at once, so the deleted ones are no longer offered. Every offered group goes in
the write (those not chosen as off), so a deleted group refuses it whether chosen or not: the
contact's problem says groups were left out only when one the shopper chose was.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import TypeVar

from addon.mailchimp import BadRequest, MailchimpClient

T = TypeVar("T")

STALE = "Invalid interest ID"
LEFT_OUT = (
    "Some of the chosen groups no longer exist in Mailchimp and were left out; the others "
    "were sent."
)


async def live_interests(client: MailchimpClient, list_id: str) -> set[str]:
    """The ids of the audience's interests as Mailchimp has them now."""
    found: set[str] = set()
    async for category in client.interest_categories(list_id):
        async for interest in client.interests(list_id, category.id):
            found.add(interest.id)
    return found


async def with_live_groups(
    client: MailchimpClient,
    list_id: str,
    offered: list[str],
    write: Callable[[list[str]], Awaitable[T]],
) -> tuple[T, set[str]]:
    """`write(offered)`; refused for a deleted interest, `write` again with those Mailchimp
    still has. Answers its result, and the offered interests Mailchimp no longer has."""
    try:
        return await write(offered), set()
    except BadRequest as exc:
        if STALE not in exc.detail:
            raise
    live = await live_interests(client, list_id)
    return await write([i for i in offered if i in live]), set(offered) - live


def chosen_left_out(gone: set[str], chosen: Collection[str] | None) -> bool:
    """Whether an interest the change chose is among those found `gone` (`with_live_groups`)."""
    return bool(gone.intersection(chosen or ()))
