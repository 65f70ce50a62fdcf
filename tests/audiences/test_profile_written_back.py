"""A profile changed in Mailchimp (on its preference page, or with the address) is written back
to the customer: mapped fields only, names only when they changed, nothing when the store wins.
What is written back reaches the customer's other audiences, though Saleor's echo of the app's
own write is not handled, and though Saleor refuses the app the customer's metadata."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select

from addon.jobs.models import Job
from addon.subscriptions.metadata import CONSENT_AUDIENCES
from addon.subscriptions.profile_writeback import NAMES_WRITTEN_KIND
from tests.audiences.conftest import _create_field, _customer, _edited_in_mailchimp, _fire, _map
from tests.conftest import RecordingTransport
from tests.subscriptions.conftest import Shop


async def test_profile_changes_in_mailchimp_write_back_only_mapped_fields(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await _create_field(shop, news, name="Company", tag="COMPANY", type="text")
    await _map(
        shop,
        news,
        [
            {"merge_tag": "FNAME", "source": "first_name"},
            {"merge_tag": "COMPANY", "source": "metadata", "key": "company"},
            {"merge_tag": "PHONE", "source": "billing_phone"},
        ],
    )
    customer = await _customer(shop, "ed@example.com")
    await shop.work()

    await _edited_in_mailchimp(shop, "ed@example.com")
    saved = shop.saleor.store.get_customer(customer.id)
    assert saved.first_name == "Annie"  # mapped: written back
    assert saved.last_name == "Apple"  # LNAME is not mapped
    assert saved.metadata["company"] == "Pear Co"
    assert saved.addresses[0].phone == "+14155552671"  # Saleor's own record, never written
    assert saved.email == "ed@example.com"


@pytest.mark.parametrize("profile_first", [True, False])
async def test_a_name_changed_with_the_address_in_mailchimp_reaches_the_customer(
    newsletter: Shop, profile_first: bool
) -> None:
    """Mailchimp sends `upemail` and `profile`, in either order (they ride different contacts'
    lanes): once, the name was lost when the profile came first, and never written when it
    came second (the customer keeps its old address in Saleor)."""
    shop = newsletter
    news = shop.ids["news"]
    await _map(shop, news, [{"merge_tag": "FNAME", "source": "first_name"}])
    customer = await _customer(shop, "ed@example.com")
    await shop.work()
    await shop.mc(
        "PATCH",
        f"/lists/{news}/members/ed@example.com",
        {"email_address": "ed@new.example", "merge_fields": {"FNAME": "Eddie"}},
    )
    upemail = {"old_email": "ed@example.com", "new_email": "ed@new.example", "new_id": "x"}
    events = [("profile", {"email": "ed@new.example"}), ("upemail", upemail)]
    # Each handled before the next arrives (handled side by side, the two jobs may meet on the
    # contact's row, and one is retried after its backoff).
    for event, data in events if profile_first else events[::-1]:
        await _fire(shop, event, data)
        await shop.work()
    saved = shop.saleor.store.get_customer(customer.id)
    assert (saved.first_name, saved.email) == ("Eddie", "ed@example.com")


async def test_profile_changes_are_not_written_back_when_the_store_wins(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await shop.configure(
        active_list_ids=[news, shop.ids["deals"]], default_list_id=news, priority="store_wins"
    )
    await _map(shop, news, [{"merge_tag": "FNAME", "source": "first_name"}])
    customer = await _customer(shop, "flo@example.com")
    await shop.work()

    await _edited_in_mailchimp(shop, "flo@example.com")
    assert shop.saleor.store.get_customer(customer.id).first_name == "Ann"


async def test_a_profile_written_back_reaches_the_customers_other_audiences(
    newsletter: Shop,
) -> None:
    """Mailchimp wins: a profile changed in one audience is written back to the customer's
    mapped metadata, and the customer's other audience mapping the same key gets it too.
    Saleor's echo of that write is the app's own and not handled (`OWN_ECHO_EVENTS`): the
    write-back queues those members' updates itself."""
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    company = [{"merge_tag": "COMPANY", "source": "metadata", "key": "company"}]
    for list_id in (news, deals):
        await _create_field(shop, list_id, name="Company", tag="COMPANY", type="text")
        await _map(shop, list_id, company)
    await _customer(shop, "hal@example.com", **{CONSENT_AUDIENCES: f"{news},{deals}"})
    await shop.work()
    # A store whose metadata writes send CUSTOMER_METADATA_UPDATED alone (Saleor 3.22+ with
    # its legacy update emission turned off: meta/extra_methods.py `extra_user_actions`).
    shop.saleor.store.legacy_update_webhook_emission = False

    await _edited_in_mailchimp(shop, "hal@example.com")  # in News

    assert shop.member(deals, "hal@example.com").merge_fields["COMPANY"] == "Pear Co"


async def test_names_written_back_reach_the_other_audiences_though_their_echo_is_not_handled(
    newsletter: Shop,
) -> None:
    """Names from Mailchimp are written with `customerUpdate`: Saleor's CUSTOMER_UPDATED for it
    names the app and is recorded, not handled (`OWN_ECHO_EVENTS`), as are the ones it sends
    for each metadata write while the store keeps its legacy update emission (on here). The
    write-back queues the other audience's update, and the customer's e-commerce push."""
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    for list_id in (news, deals):
        await _map(shop, list_id, [{"merge_tag": "FNAME", "source": "first_name"}])
    await _customer(shop, "ivy@example.com", **{CONSENT_AUDIENCES: f"{news},{deals}"})
    await shop.work()
    before = len(shop.saleor.deliveries)

    await _edited_in_mailchimp(shop, "ivy@example.com")  # in News

    assert shop.member(deals, "ivy@example.com").merge_fields["FNAME"] == "Annie"
    echoes = {
        json.loads(d.response_body)["outcome"]
        for d in shop.saleor.deliveries[before:]
        if d.event_type == "CUSTOMER_UPDATED"
        and d.target_url.endswith(("/subscriptions-customer-updated", "/ecommerce-customers"))
    }
    assert echoes == {"own_echo"}
    async with shop.services.db.session() as session:
        kinds = set(await session.scalars(select(Job.kind)))
    assert NAMES_WRITTEN_KIND in kinds


class _RefusingMetadata(httpx.AsyncBaseTransport):
    """Saleor refusing the app a customer's metadata (as for a staff account, whose metadata
    needs MANAGE_STAFF): a top-level PermissionDenied."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if b"updateMetadata" not in request.content:
            return await self.inner.handle_async_request(request)
        refused = {"message": "You need one of the following permissions: MANAGE_STAFF"}
        extensions = {"exception": {"code": "PermissionDenied"}}
        return httpx.Response(
            200,
            json={
                "data": {"updateMetadata": None},
                "errors": [{**refused, "extensions": extensions}],
            },
        )


async def test_names_written_back_are_followed_up_though_the_metadata_is_refused(
    newsletter: Shop, outbound: RecordingTransport
) -> None:
    """The names went in: the other audience gets them, whatever becomes of the metadata."""
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    fields = [
        {"merge_tag": "FNAME", "source": "first_name"},
        {"merge_tag": "COMPANY", "source": "metadata", "key": "company"},
    ]
    for list_id in (news, deals):
        await _create_field(shop, list_id, name="Company", tag="COMPANY", type="text")
        await _map(shop, list_id, fields)
    await _customer(shop, "jo@example.com", **{CONSENT_AUDIENCES: f"{news},{deals}"})
    await shop.work()
    outbound.inner = _RefusingMetadata(outbound.inner)

    await _edited_in_mailchimp(shop, "jo@example.com")  # in News

    assert shop.member(deals, "jo@example.com").merge_fields["FNAME"] == "Annie"
    assert shop.member(deals, "jo@example.com").merge_fields["COMPANY"] == ""
    async with shop.services.db.session() as session:
        kinds = set(await session.scalars(select(Job.kind)))
    assert NAMES_WRITTEN_KIND in kinds


async def test_unchanged_names_are_not_written_again(
    newsletter: Shop, outbound: RecordingTransport
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await _map(shop, news, [{"merge_tag": "FNAME", "source": "first_name"}])
    await _customer(shop, "kim@example.com")
    await shop.work()
    await _edited_in_mailchimp(shop, "kim@example.com")
    outbound.requests.clear()
    # The same names again (Mailchimp sends a profile event for any save of the form): a later
    # save, whose delivery differs by its `fired_at` alone (the same one would be a redelivery).
    later = {"email": "kim@example.com"}
    answers = await shop.mailchimp.fire_list_webhook(
        shop.account, news, "profile", later, fired_at="2099-01-01 00:00:00"
    )
    assert [a.status_code for a in answers] == [200]
    await shop.work()
    assert any(b"SubscriptionsUserByEmail" in r.content for r in outbound.requests)
    writes = [r for r in outbound.requests if b"SubscriptionsUpdateCustomerNames" in r.content]
    assert writes == []
    async with shop.services.db.session() as session:
        kinds = set(await session.scalars(select(Job.kind).where(Job.status == "pending")))
    assert NAMES_WRITTEN_KIND not in kinds
