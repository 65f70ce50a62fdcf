"""A consent recorded on an abandoned checkout (the cart push queues it, `checkout_consent.py`)
is applied as Saleor holds the checkout when the job runs: its whole consent (groups and GDPR
permissions too), its signed-in owner's confirmed address proven as an order's is, nothing for a
checkout gone or an address it no longer has; a job queued by the previous version is read the
same way."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from addon.jobs.models import Job, JobStatus
from addon.jobs.repository import JobRepository
from addon.jobs.worker import Worker
from addon.services import Services
from addon.subscriptions.checkout_consent import CHECKOUT_CONSENT_JOB, consent_key
from addon.subscriptions.metadata import (
    CONSENT_AUDIENCES,
    CONSENT_GROUPS,
    CONSENT_PERMISSIONS,
    CONSENT_SUBSCRIBE,
    STATUS_PREFIX,
)
from addon.subscriptions.models import ContactState
from addon.subscriptions.writeback import contact_lane
from sandboxes.saleor import Customer, LineSpec, VariantSpec
from sandboxes.saleor.models import Checkout
from tests.ecommerce.conftest import CHANNEL
from tests.ecommerce.conftest import Shop as Store
from tests.subscriptions.conftest import Shop

GUEST = "gus@example.com"


@pytest.fixture
async def carts(newsletter: Shop) -> Store:
    """`newsletter` whose "News" audience is also the store's: channel `default-channel`
    tracked in it, its abandoned carts sent."""
    shop = newsletter
    await shop.saleor.add_channel(CHANNEL, "Default Channel", "USD")
    store = Store(shop.client, shop.services, shop.saleor, shop.app, shop.mailchimp, shop.account)
    store.list_id = shop.ids["news"]
    for method, path, body in (
        (
            "PATCH",
            "/api/ecommerce/settings",
            {
                "tracking_enabled": True,
                "product_url_template": "https://shop.grocer.example/products/{slug}",
                "checkout_url_template": "https://shop.grocer.example/checkout?token={token}",
                "store_email": "shop@grocer.example",
            },
        ),
        ("PUT", f"/api/ecommerce/channels/{CHANNEL}", {"tracked": True, "list_id": store.list_id}),
    ):
        response = await store.api(method, path, body)
        assert response.status_code == 200, response.text
    await store.drain()
    return store


def _consent(shop: Shop, *, groups: bool = False, permissions: bool = False) -> dict[str, str]:
    news = shop.ids["news"]
    consent = {CONSENT_SUBSCRIBE: "true", CONSENT_AUDIENCES: news}
    if groups:
        consent[CONSENT_GROUPS] = shop.ids["Fruit"]
    if permissions:
        consent[CONSENT_PERMISSIONS] = _permission(shop)
    return consent


def _permission(shop: Shop) -> str:
    return str(shop.member_permissions(shop.ids["news"])[0].marketing_permission_id)


async def _contact(shop: Shop, email: str) -> None:
    """A contact someone else added to "News" (a buyer's: `transactional`)."""
    await shop.mc(
        "PUT",
        f"/lists/{shop.ids['news']}/members/{email}",
        {"email_address": email, "status_if_new": "transactional"},
    )


async def _checkout(
    store: Store,
    email: str | None,
    metadata: dict[str, str],
    customer: Customer | None = None,
) -> Checkout:
    fig = await store.product("Fig", "2.00")
    await store.drain()
    return await store.saleor.create_checkout(
        lines=[LineSpec(fig.variants[0].id, 1)], email=email, customer=customer, metadata=metadata
    )


async def _consent_jobs(services: Services) -> list[Job]:
    async with services.db.session() as session:
        jobs = await session.scalars(select(Job).where(Job.kind == CHECKOUT_CONSENT_JOB))
        return list(jobs)


async def _pushed_only(store: Store) -> None:
    """The checkout's cart sent, the consent job it queued not run yet."""
    worker = Worker(store.services)
    await worker.run_until_idle()  # the deliveries: the cart's push waits (debounced)
    await store.make_due()
    await worker.run_once()  # the push alone: what it queues is claimed in a later round
    assert [j.status for j in await _consent_jobs(store.services)] == [JobStatus.PENDING]


async def _state(services: Services, email: str) -> ContactState | None:
    async with services.db.session() as session:
        found: ContactState | None = await session.scalar(
            select(ContactState).where(ContactState.email == email)
        )
        return found


def _fruit(shop: Shop, email: str) -> Any:
    return shop.member(shop.ids["news"], email).interests[shop.ids["Fruit"]]


async def test_the_consent_s_groups_and_permissions_are_applied(
    newsletter: Shop, carts: Store
) -> None:
    """Before, the job applied the cart push's snapshot of two keys (subscribe, audiences): the
    groups the shopper chose were lost."""
    shop = newsletter
    await _contact(shop, GUEST)
    await _checkout(carts, GUEST, _consent(shop, groups=True))
    await carts.drain()

    assert shop.member(shop.ids["news"], GUEST).status == "subscribed"
    assert _fruit(shop, GUEST) is True


async def test_a_consent_changed_after_the_push_is_applied_as_it_is_when_the_job_runs(
    newsletter: Shop, carts: Store
) -> None:
    shop = newsletter
    await _contact(shop, GUEST)
    checkout = await _checkout(carts, GUEST, _consent(shop))
    await _pushed_only(carts)
    # The shopper picks a group before the job runs: no webhook needed for it to count.
    carts.saleor.store.update_checkout(checkout, metadata=_consent(shop, groups=True))
    await carts.drain()

    assert shop.member(shop.ids["news"], GUEST).status == "subscribed"
    assert _fruit(shop, GUEST) is True


async def test_a_signed_in_confirmed_owner_s_consent_proves_their_address(
    newsletter: Shop, carts: Store
) -> None:
    """As an order's (`OrderRef.signup`): the account's address typed in, the account
    confirmed, the contact is theirs and takes their GDPR permissions."""
    shop = newsletter
    bob = await shop.saleor.create_customer("bob@example.com", "Bob", "Brown", is_confirmed=True)
    await carts.drain()
    await _contact(shop, "bob@example.com")  # added since, by someone else: not linked to Bob
    await _checkout(carts, "bob@example.com", _consent(shop, permissions=True), customer=bob)
    await carts.drain()

    state = await _state(carts.services, "bob@example.com")
    assert state is not None and (state.status, state.saleor_user_id) == (
        "subscribed",
        bob.global_id,
    )
    assert shop.consents("bob@example.com")[_permission(shop)] is True
    stored = shop.saleor.store.get_customer(bob.id).metadata
    assert stored[STATUS_PREFIX + shop.ids["news"]] == "subscribed"


async def test_an_unconfirmed_account_s_consent_proves_nothing(
    newsletter: Shop, carts: Store
) -> None:
    """Anyone can register anyone's address: the groups are added (as a guest's), the contact
    is not linked to the account, and its consents stay as they were."""
    shop = newsletter
    cy = await shop.saleor.create_customer("cy@example.com", "Cy")  # not confirmed
    await _contact(shop, "cy@example.com")
    metadata = _consent(shop, groups=True, permissions=True)
    await _checkout(carts, "cy@example.com", metadata, customer=cy)
    await carts.drain()

    assert shop.member(shop.ids["news"], "cy@example.com").status == "subscribed"
    assert _fruit(shop, "cy@example.com") is True
    state = await _state(carts.services, "cy@example.com")
    assert state is not None and state.saleor_user_id is None
    assert shop.consents("cy@example.com")[_permission(shop)] is False


async def test_a_checkout_gone_before_the_job_runs_applies_nothing(
    newsletter: Shop, carts: Store
) -> None:
    """Deleted (or completed: the order brings its consent), it says nothing any more."""
    shop = newsletter
    await _contact(shop, GUEST)
    checkout = await _checkout(carts, GUEST, _consent(shop))
    await _pushed_only(carts)
    carts.saleor.store.delete_checkout(checkout)
    await carts.drain()

    assert [j.status for j in await _consent_jobs(carts.services)] == [JobStatus.DONE]
    assert shop.member(shop.ids["news"], GUEST).status == "transactional"
    assert await _state(carts.services, GUEST) is None


async def test_an_address_changed_before_the_job_runs_gets_nothing(
    newsletter: Shop, carts: Store
) -> None:
    """The shopper corrected the checkout's e-mail: the consent is the new address's (the push
    of the change queues it), never the old one's."""
    shop = newsletter
    await _contact(shop, GUEST)
    checkout = await _checkout(carts, GUEST, _consent(shop))
    await _pushed_only(carts)
    updated = carts.saleor.store.update_checkout(checkout, email="gus.new@example.com")
    await carts.drain()
    assert shop.member(shop.ids["news"], GUEST).status == "transactional"

    await carts.saleor.emit("CHECKOUT_UPDATED", updated)
    await carts.drain()
    assert shop.member(shop.ids["news"], GUEST).status == "transactional"
    assert await _state(carts.services, GUEST) is None
    new = await _state(carts.services, "gus.new@example.com")
    assert new is not None and new.status == "subscribed"


async def test_a_consent_given_again_after_its_job_found_it_off_is_applied(
    newsletter: Shop, carts: Store
) -> None:
    """The box unticked before the job ran: it applied nothing. Before, it used the checkout's
    key up all the same, and the box ticked again queued nothing (`queue_checkout_consent`)."""
    shop = newsletter
    await _contact(shop, GUEST)
    checkout = await _checkout(carts, GUEST, _consent(shop))
    await _pushed_only(carts)
    unticked = carts.saleor.store.update_checkout(
        checkout, metadata={CONSENT_AUDIENCES: shop.ids["news"]}
    )
    await carts.saleor.emit("CHECKOUT_UPDATED", unticked)
    await carts.drain()
    assert shop.member(shop.ids["news"], GUEST).status == "transactional"

    ticked = carts.saleor.store.update_checkout(checkout, metadata=_consent(shop))
    await carts.saleor.emit("CHECKOUT_UPDATED", ticked)
    await carts.drain()
    assert shop.member(shop.ids["news"], GUEST).status == "subscribed"


async def test_a_job_queued_by_the_previous_version_is_read_again(newsletter: Shop) -> None:
    """Queued before the upgrade with a snapshot of the checkout (its consent keys then, no
    user, the cart's names): still taken, and applied as Saleor holds the checkout now."""
    shop = newsletter
    await shop.saleor.add_channel("default")
    bob = await shop.saleor.create_customer("bob@example.com", "Bob", is_confirmed=True)
    await shop.work()
    await _contact(shop, "bob@example.com")  # added since, by someone else: not linked to Bob
    product = await shop.saleor.create_product("Apple", [VariantSpec(sku=None)])
    checkout = await shop.saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)],
        email="bob@example.com",
        customer=bob,
        metadata=_consent(shop, groups=True),
    )
    await shop.work()
    old = {
        "checkout_id": checkout.global_id,
        "email": "bob@example.com",
        "consent": {CONSENT_SUBSCRIBE: "true"},
        "saleor_user_id": None,
        "first_name": "Bob",
        "last_name": None,
    }
    async with shop.services.db.transaction() as session:
        installation_id = await session.scalar(select(Job.installation_id).limit(1))
        assert installation_id is not None
        await JobRepository(session).enqueue(
            installation_id,
            CHECKOUT_CONSENT_JOB,
            old,
            dedupe_key=consent_key(checkout.global_id, "bob@example.com"),
            lane=contact_lane("bob@example.com"),
        )
    await shop.work()

    [job] = [j for j in await _consent_jobs(shop.services) if j.payload == old]
    assert (job.status, job.last_error) == (JobStatus.DONE, None)
    assert _fruit(shop, "bob@example.com") is True
    state = await _state(shop.services, "bob@example.com")
    assert state is not None and state.saleor_user_id == bob.global_id


async def test_a_guest_of_an_internationalised_domain_gets_the_consent(
    newsletter: Shop, carts: Store
) -> None:
    """Saleor holds the domain in its ASCII form (xn--…), the cart names the Unicode one (the
    contact's, `addon.subscriptions.schemas.app_form`): the same address."""
    shop = newsletter
    await _contact(shop, "bob@bücher.de")
    await _checkout(carts, "Bob@xn--bcher-kva.de", _consent(shop, groups=True))
    await carts.drain()

    assert shop.member(shop.ids["news"], "bob@bücher.de").status == "subscribed"
    assert _fruit(shop, "bob@bücher.de") is True
