"""Consent recorded in Saleor metadata at checkout and registration → worker → Mailchimp."""

from __future__ import annotations

from addon.subscriptions.metadata import (
    CONSENT_AUDIENCES,
    CONSENT_GROUPS,
    CONSENT_PERMISSIONS,
    CONSENT_SUBSCRIBE,
    STATUS_PREFIX,
)
from addon.subscriptions.repository import ContactRepository
from sandboxes.saleor import Customer, LineSpec, Order, VariantSpec
from tests.subscriptions.conftest import Shop
from tests.test_saleor_versions import stored


def _member_requests(shop: Shop) -> list[str]:
    return [f"{r.method} {r.path}" for r in shop.mailchimp.requests if "/members" in r.path]


async def _order(
    shop: Shop, email: str, metadata: dict[str, str], customer: Customer | None = None
) -> Order:
    saleor = shop.saleor
    if not saleor.store.channels:
        await saleor.add_channel("default")
    product = await saleor.create_product("Apple", [VariantSpec(sku=None)])
    checkout = await saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)],
        email=email,
        customer=customer,
        metadata=metadata,
    )
    return await saleor.complete_checkout(checkout)


async def test_checkout_consent_subscribes_with_groups_permissions_and_tags(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    permissions = [p.marketing_permission_id for p in shop.member_permissions(news)]
    customer = await shop.saleor.create_customer("ann@example.com", "Ann", "Apple")
    await _order(
        shop,
        "ann@example.com",
        {
            CONSENT_SUBSCRIBE: "true",
            CONSENT_AUDIENCES: news,
            CONSENT_GROUPS: shop.ids["Fruit"],
            CONSENT_PERMISSIONS: permissions[0],
        },
        customer=customer,
    )
    await shop.work()

    member = shop.member(news, "ann@example.com")
    assert member.status == "subscribed"
    assert member.interests[shop.ids["Fruit"]] is True
    assert member.interests[shop.ids["Veg"]] is False
    assert [t.name for t in member.tags] == ["saleor"]
    enabled = {p.marketing_permission_id for p in member.marketing_permissions if p.enabled}
    assert enabled == {permissions[0]}
    assert shop.member(shop.ids["deals"], "ann@example.com") is None  # not chosen
    stored = shop.saleor.store.get_customer(customer.id).metadata
    assert stored[STATUS_PREFIX + news] == "subscribed"


async def test_registration_consent_with_double_opt_in_is_pending(newsletter: Shop) -> None:
    shop = newsletter
    deals = shop.ids["deals"]
    await shop.saleor.create_customer(
        "bob@example.com",
        "Bob",
        metadata={CONSENT_SUBSCRIBE: "true", CONSENT_AUDIENCES: deals},
    )
    await shop.work()
    member = shop.member(deals, "bob@example.com")
    assert member.status == "pending"
    assert [c.email_address for c in shop.mailchimp.confirmations] == ["bob@example.com"]
    customer = shop.saleor.store.find_customer_by_email("bob@example.com")
    assert customer is not None and customer.metadata[STATUS_PREFIX + deals] == "pending"


async def test_no_consent_sends_nothing(newsletter: Shop) -> None:
    shop = newsletter
    before = _member_requests(shop)
    await shop.saleor.create_customer("cy@example.com", metadata={CONSENT_AUDIENCES: "x"})
    await _order(shop, "dee@example.com", {CONSENT_SUBSCRIBE: "false"})
    await _order(shop, "eve@example.com", {})
    await shop.work()
    assert _member_requests(shop) == before


async def test_consent_without_audiences_joins_the_default_one(newsletter: Shop) -> None:
    shop = newsletter
    await _order(shop, "Fay@Example.com", {CONSENT_SUBSCRIBE: "true"})
    await shop.work()
    assert shop.member(shop.ids["news"], "fay@example.com").status == "subscribed"
    assert shop.member(shop.ids["deals"], "fay@example.com") is None


async def test_without_a_mailchimp_connection_consent_finishes_quietly(shop: Shop) -> None:
    from sqlalchemy import select

    from addon.jobs.models import Job, JobStatus

    await shop.saleor.create_customer("gil@example.com", metadata={CONSENT_SUBSCRIBE: "true"})
    await shop.work()
    async with shop.services.db.session() as session:
        # (the installation's scheduled lifecycle check waits for its hour: not work done)
        statement = select(Job).where(Job.kind != "installation.check")
        jobs = (await session.execute(statement)).scalars().all()
    assert jobs and all(j.status is JobStatus.DONE for j in jobs)


async def test_a_group_deleted_in_mailchimp_since_the_import_is_left_out(newsletter: Shop) -> None:
    """Mailchimp refuses a member write naming an interest it no longer has: the subscription
    goes through with the groups it still has, and the contact says what was left out."""
    shop = newsletter
    news = shop.ids["news"]
    size = await shop.new_category(news, "Size", "checkboxes", "Small", "Large")
    await shop.client.post("/api/audiences/refresh", headers=shop.headers)
    await shop.work()
    await shop.configure(
        active_list_ids=[news, shop.ids["deals"]],
        default_list_id=news,
        offered_category_ids=[shop.ids["topics"], size],
        allow_multiple=True,
        tags=["saleor"],
    )
    await shop.mc("DELETE", f"/lists/{news}/interest-categories/{size}")  # not imported again

    await _order(
        shop,
        "cy@example.com",
        {
            CONSENT_SUBSCRIBE: "true",
            CONSENT_AUDIENCES: news,
            CONSENT_GROUPS: f"{shop.ids['Fruit']},{shop.ids['Small']}",
        },
    )
    await shop.work()

    member = shop.member(news, "cy@example.com")
    assert member.status == "subscribed" and member.interests[shop.ids["Fruit"]] is True
    assert shop.ids["Small"] not in member.interests
    async with shop.services.db.session() as session:
        state = await ContactRepository(session).get(
            (await stored(shop.services)).id, news, "cy@example.com"
        )
    assert state is not None and "no longer exist in Mailchimp" in (state.last_problem or "")
