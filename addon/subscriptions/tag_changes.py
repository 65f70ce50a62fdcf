"""The tag requests that bring a member's tags from what it holds to what is wanted.

Mailchimp's tags are static segments of the audience, named without regard to case (a segment
"Customers" is "customers": DynamoMTL/spree_chimpy#15; the Mailchimp sandbox's `set_tag`). So
names are compared case-folded: a tag whose spelling alone changed sends nothing, where adding
"vip" and removing "VIP" in one request would leave the member with neither.
"""

from __future__ import annotations

from collections.abc import Iterable

from addon.mailchimp import TagUpdate


def tags_without(names: Iterable[str], others: Iterable[str]) -> list[str]:
    """`names` but those among `others`, case aside (in their order)."""
    gone = {o.casefold() for o in others}
    return [n for n in names if n.casefold() not in gone]


def tag_changes(add: Iterable[str], drop: Iterable[str]) -> list[TagUpdate]:
    """`add` made active (each name once, case aside), then `drop` made inactive but those
    added."""
    added: dict[str, str] = {}
    for name in add:
        added.setdefault(name.casefold(), name)
    updates = [TagUpdate(name=name) for name in added.values()]
    dropped: dict[str, str] = {}
    for name in drop:
        if name.casefold() not in added:
            dropped.setdefault(name.casefold(), name)
    return updates + [TagUpdate(name=name, status="inactive") for name in dropped.values()]
