"""A customer whose first update is the e-mail change itself: the app recorded their address
when they registered (CUSTOMER_CREATED), so a contact it never linked to them (subscribed
through Mailchimp's own form, or in the audience before the app was connected) follows them.
Where the app never heard of the customer before, Activity says the change moved nothing."""

from __future__ import annotations

from sqlalchemy import select

from addon.jobs.models import Job
from addon.subscriptions.customer_addresses import CustomerAddress
from addon.subscriptions.email_change_notes import UNKNOWN_NOTE
from tests.subscriptions.conftest import Shop

OLD, NEW = "ann@example.com", "ann.lee@example.com"


async def _notes(shop: Shop) -> list[Job]:
    async with shop.services.db.session() as session:
        return list(await session.scalars(select(Job).where(Job.kind == UNKNOWN_NOTE)))


async def test_a_contact_the_app_never_linked_follows_a_first_update_change(
    newsletter: Shop,
) -> None:
    shop, news = newsletter, newsletter.ids["news"]
    ann = await shop.saleor.create_customer(OLD, "Ann", "Lee", is_confirmed=True)
    await shop.work()
    async with shop.services.db.session() as session:
        recorded = await session.scalar(
            select(CustomerAddress.email).where(CustomerAddress.saleor_user_id == ann.global_id)
        )
    assert recorded == OLD
    # Subscribed through Mailchimp's own form: the app links no customer to it.
    await shop.mc("POST", f"/lists/{news}/members", {"email_address": OLD, "status": "subscribed"})

    await shop.saleor.confirm_email_change(ann, NEW)
    await shop.work()

    assert shop.member(news, NEW).status == "subscribed"
    assert await _notes(shop) == []


async def test_a_later_registration_delivery_keeps_the_newer_address(newsletter: Shop) -> None:
    """The change's delivery handled before the registration's: the address it recorded
    stays (the registration's is older)."""
    shop = newsletter
    ann = shop.saleor.store.create_customer(NEW, "Ann", "Lee")
    await shop.saleor.update_customer(ann, last_name="Leigh")  # recorded at NEW
    await shop.work()
    await shop.saleor.emit("CUSTOMER_CREATED", ann.model_copy(update={"email": OLD}))
    await shop.work()
    async with shop.services.db.session() as session:
        recorded = await session.scalar(
            select(CustomerAddress.email).where(CustomerAddress.saleor_user_id == ann.global_id)
        )
    assert recorded == NEW


async def test_a_confirmed_change_of_a_customer_the_app_never_heard_of_is_noted(
    newsletter: Shop,
) -> None:
    """Registered before the app was installed (no CUSTOMER_CREATED reached it), no contact
    linked to them: nothing can move, and Activity says so, once."""
    shop, news = newsletter, newsletter.ids["news"]
    ann = shop.saleor.store.create_customer(OLD, "Ann", "Lee")
    await shop.mc("POST", f"/lists/{news}/members", {"email_address": OLD, "status": "subscribed"})

    await shop.saleor.confirm_email_change(ann, NEW)
    await shop.work()

    assert shop.member(news, NEW) is None
    [note] = await _notes(shop)
    assert note.last_error is not None and "no earlier address" in note.last_error
    assert NEW in note.last_error
    assert note.payload["email"] == NEW


async def test_a_first_update_that_changes_nothing_is_not_noted(newsletter: Shop) -> None:
    shop = newsletter
    ann = shop.saleor.store.create_customer(OLD, "Ann", "Lee")
    await shop.saleor.update_customer(ann, last_name="Leigh")
    await shop.work()
    assert await _notes(shop) == []


async def test_the_note_whichever_of_the_changes_deliveries_comes_first(newsletter: Shop) -> None:
    """CUSTOMER_UPDATED handled before ACCOUNT_EMAIL_CHANGED records the new address (it
    cannot tell a change): the confirmed change's delivery still notes it."""
    shop = newsletter
    ann = shop.saleor.store.create_customer(OLD, "Ann", "Lee")
    ann = shop.saleor.store.update_customer(ann, email=NEW)
    await shop.saleor.emit("CUSTOMER_UPDATED", ann)
    await shop.work()
    assert await _notes(shop) == []
    await shop.saleor.emit("ACCOUNT_EMAIL_CHANGED", ann)
    await shop.work()
    [note] = await _notes(shop)
    assert note.last_error is not None and "no earlier address" in note.last_error
