"""An erasure after an e-mail change: the member Mailchimp kept at the address the customer
moved away from (unsubscribed or pending: kept there; any other: archived, its data kept) is
erased with the customer, and the app forgets that it was theirs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from addon.erasure.known import addresses_of
from addon.installations.models import Installation
from addon.subscriptions.customer_addresses import CustomerAddress
from sandboxes.mailchimp.state import subscriber_hash
from tests.conftest import dashboard_headers
from tests.ecommerce.conftest import Shop
from tests.erasure.scan import rows_naming
from tests.subscriptions.conftest import NEW, OLD, _mc, _newsletter_on, _subscribed


async def _moved_unsubscribed(shop: Shop) -> Any:
    """Ann subscribed at OLD, unsubscribed in Mailchimp, then changed her address to NEW:
    Mailchimp keeps the unsubscribed member at OLD."""
    await _newsletter_on(shop)
    customer = await _subscribed(shop, OLD)
    await _mc(
        shop,
        "PATCH",
        f"/lists/{shop.list_id}/members/{subscriber_hash(OLD)}",
        {"status": "unsubscribed"},
    )
    await shop.drain()
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.drain()
    kept = shop.mailchimp.member(shop.account, shop.list_id, OLD)
    assert kept is not None and kept.status == "unsubscribed"  # Mailchimp keeps it there
    return customer


async def test_the_unsubscribed_member_left_at_the_old_address_is_erased(shop: Shop) -> None:
    """Before, her account's deletion erased the contact at NEW only: nothing in the app named
    OLD any more (the contact records and her last seen address had moved to NEW), so the
    unsubscribed member at OLD stayed in Mailchimp with her name and history."""
    customer = await _moved_unsubscribed(shop)

    await shop.saleor.delete_account(customer)
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, NEW) is None
    left = shop.mailchimp.member(shop.account, shop.list_id, OLD)
    assert left is None, (left.status, left.merge_fields)
    assert await rows_naming(shop.services, OLD) == []
    assert await rows_naming(shop.services, NEW) == []


async def test_the_archived_member_left_at_the_old_address_is_erased(shop: Shop) -> None:
    """A shopper without consent: the e-commerce API made her a transactional contact. Her
    e-mail change archives the old member (archived contacts keep their data in Mailchimp).
    Before, her account's deletion left that archived member at OLD; it is deleted
    permanently now."""
    await _newsletter_on(shop)
    customer = await shop.saleor.create_customer(OLD, "Ann", "Lee")
    product = await shop.product("Pear", "2.50")
    await shop.drain()
    await shop.saleor.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)], user=customer
    )
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, OLD).status == "transactional"
    await shop.saleor.confirm_email_change(customer, NEW)
    await shop.drain()
    old = shop.mailchimp.member(shop.account, shop.list_id, OLD)
    assert old is not None and old.status == "archived"

    await shop.saleor.delete_account(customer)
    await shop.drain()
    left = shop.mailchimp.member(shop.account, shop.list_id, OLD)
    assert left is None, (left.status, left.merge_fields)
    assert await rows_naming(shop.services, OLD) == []


async def test_erasing_the_current_address_reaches_the_member_at_the_old_one(shop: Shop) -> None:
    """Staff erase an e-mail address (no Saleor user named) and type the customer's current
    one. Before, only that address was erased: the member Mailchimp kept at the address she
    moved away from stayed. The customer linked to the address is found, and her past
    addresses with her."""
    await _moved_unsubscribed(shop)

    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    accepted = await shop.client.post(
        "/api/erasure/addresses", json={"email": NEW}, headers=headers
    )
    assert accepted.status_code == 202, accepted.text
    await shop.drain()
    assert shop.mailchimp.member(shop.account, shop.list_id, NEW) is None
    left = shop.mailchimp.member(shop.account, shop.list_id, OLD)
    assert left is None, (left.status, left.merge_fields)
    assert await rows_naming(shop.services, OLD) == []


async def test_an_address_another_customer_has_now_stays_out_of_the_leavers_erasure(
    shop: Shop,
) -> None:
    """Saleor gives an address to one user at a time: Ann left a@, Bob has it now (and left
    b@). Ann's erasure reaches her past addresses but not a@, Bob's contact now; erasing a@
    reaches Bob's, b@ included (before, only a@ itself was erased), never Ann's."""
    # Imported here: the module runs without the past addresses' table (each test must fail
    # on its own assertions without them).
    from addon.subscriptions.customer_addresses import record_past_address

    async with shop.services.db.transaction() as session:
        installation_id = await session.scalar(select(Installation.id))
        assert installation_id is not None
        for user, current, past in (
            ("ann", "c@example.com", ["a@example.com", "d@example.com"]),
            ("bob", "a@example.com", ["b@example.com"]),
        ):
            session.add(
                CustomerAddress(installation_id=installation_id, saleor_user_id=user, email=current)
            )
            for email in past:
                await record_past_address(session, installation_id, user, email)
        await session.flush()
        ann = await addresses_of(session, installation_id, "c@example.com", "ann")
        by_address = await addresses_of(session, installation_id, "a@example.com", None)
        # An old address typed erases its own contacts, not the account of who left it.
        left_by_ann = await addresses_of(session, installation_id, "d@example.com", None)
    assert ann == {"c@example.com", "d@example.com"}
    assert by_address == {"a@example.com", "b@example.com"}
    assert left_by_ann == {"d@example.com"}
