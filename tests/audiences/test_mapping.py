"""Merge-field mapping through the sandboxes: the admin maps customer data to merge fields;
every member upsert and customer update carries them, converted to each field's type."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from addon.connection.models import ConnectionStatus, MailchimpConnection
from addon.jobs.models import Job
from addon.mailchimp import MailchimpClient, MailchimpError, subscriber_hash
from addon.subscriptions.metadata import CONSENT_AUDIENCES, CONSENT_SUBSCRIBE
from addon.subscriptions.models import ContactState
from addon.subscriptions.profile_sync import enqueue_profile_update
from addon.subscriptions.profile_writeback import NAMES_WRITTEN_KIND
from sandboxes.saleor import Customer
from tests.conftest import SALEOR_API_URL, RecordingTransport
from tests.subscriptions.conftest import Shop

ADDRESS = {
    "street_address_1": "1 Main St",
    "city": "Springfield",
    "postal_code": "62701",
    "country": "US",
    "country_area": "IL",
    "phone": "+14155552671",
}


async def _create_field(shop: Shop, list_id: str, **body: Any) -> dict[str, Any]:
    response = await shop.client.post(
        f"/api/audiences/{list_id}/merge-fields", json=body, headers=shop.headers
    )
    assert response.status_code == 201, response.text
    mapping: dict[str, Any] = response.json()
    return mapping


async def _map(shop: Shop, list_id: str, fields: list[dict[str, Any]], **extra: Any) -> Any:
    return await shop.client.put(
        f"/api/audiences/{list_id}/mapping",
        json={"fields": fields, **extra},
        headers=shop.headers,
    )


async def _customer(shop: Shop, email: str, **metadata: str) -> Customer:
    """A registered customer with an address, who consented at registration (→ News)."""
    address = shop.saleor.store.new_address(**ADDRESS)
    return await shop.saleor.create_customer(
        email,
        "Ann",
        "Apple",
        addresses=[address],
        metadata={CONSENT_SUBSCRIBE: "true", **metadata},
        language_code="fr-ca",
    )


async def _birthday_and_visits(shop: Shop, *more: dict[str, Any]) -> Any:
    """News maps BIRTHDAY and a number field VISITS (made here) to metadata keys, and `more`."""
    news = shop.ids["news"]
    await _create_field(shop, news, name="Visits", tag="VISITS", type="number")
    fields = [
        {"merge_tag": "BIRTHDAY", "source": "metadata", "key": "birthday"},
        {"merge_tag": "VISITS", "source": "metadata", "key": "visits"},
    ]
    return await _map(shop, news, [*fields, *more])


async def _not_sent(shop: Shop) -> list[str]:
    response = await shop.client.get("/api/activity", headers=shop.headers)
    assert response.status_code == 200
    return [
        item["last_error"]
        for item in response.json()["items"]
        if item["kind"] == "subscriptions.merge_value_not_sent"
    ]


async def test_each_kind_of_customer_data_fills_its_merge_field(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    # Missing fields are created from the app, with their type (and date format).
    await _create_field(
        shop, news, name="Joined", tag="JOINED", type="date", date_format="DD/MM/YYYY"
    )
    await _create_field(shop, news, name="Company", tag="COMPANY", type="text")
    created = await _create_field(shop, news, name="Shipping", tag="SHIPTO", type="text")
    assert {"JOINED", "COMPANY", "SHIPTO"} <= {f["tag"] for f in created["merge_fields"]}
    fields = (await shop.mc("GET", f"/lists/{news}/merge-fields"))["merge_fields"]
    field = next(f for f in fields if f["tag"] == "JOINED")
    assert field["type"] == "date" and field["options"]["date_format"] == "DD/MM/YYYY"

    response = await _map(
        shop,
        news,
        [
            {"merge_tag": "FNAME", "source": "first_name"},
            {"merge_tag": "LNAME", "source": "last_name"},
            {"merge_tag": "PHONE", "source": "billing_phone"},
            {"merge_tag": "ADDRESS", "source": "billing_address"},
            {"merge_tag": "SHIPTO", "source": "shipping_address"},
            {"merge_tag": "JOINED", "source": "date_joined"},
            {"merge_tag": "BIRTHDAY", "source": "metadata", "key": "birthday"},
            {"merge_tag": "COMPANY", "source": "private_metadata", "key": "company"},
        ],
        tags={"source": "metadata", "key": "segments"},
    )
    assert response.status_code == 200, response.text
    customer = await _customer(
        shop, "ann@example.com", birthday="1990-12-03", segments="vip, wholesale"
    )
    await shop.saleor.update_customer_metadata(customer, {"company": "Apple Farm"}, private=True)
    await shop.work()

    member = shop.member(news, "ann@example.com")
    joined = shop.saleor.store.get_customer(customer.id).date_joined
    assert member.merge_fields["FNAME"] == "Ann"
    assert member.merge_fields["LNAME"] == "Apple"
    assert member.merge_fields["PHONE"] == "+14155552671"
    assert member.merge_fields["ADDRESS"] == {
        "addr1": "1 Main St",
        "addr2": "",
        "city": "Springfield",
        "state": "IL",
        "zip": "62701",
        "country": "US",
    }
    assert member.merge_fields["SHIPTO"] == "1 Main St, Springfield, IL, 62701, US"
    assert member.merge_fields["JOINED"] == joined.strftime("%d/%m/%Y")
    assert member.merge_fields["BIRTHDAY"] == "12/03"
    assert member.merge_fields["COMPANY"] == "Apple Farm"
    assert member.language == "fr_CA"
    assert {t.name for t in member.tags} == {"saleor", "vip", "wholesale"}
    assert await _not_sent(shop) == []


async def test_a_value_that_cannot_be_converted_is_reported_and_the_rest_is_sent(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    response = await _birthday_and_visits(shop, {"merge_tag": "FNAME", "source": "first_name"})
    assert response.status_code == 200, response.text
    await _customer(shop, "bo@example.com", birthday="someday", visits="12")
    await shop.work()

    member = shop.member(news, "bo@example.com")
    assert member.status == "subscribed"
    assert member.merge_fields["VISITS"] == 12
    assert member.merge_fields["FNAME"] == "Ann"
    assert member.merge_fields["BIRTHDAY"] == ""
    [problem] = await _not_sent(shop)
    assert "Birthday (BIRTHDAY)" in problem and "“someday” is not a date" in problem
    assert "bo@example.com" in problem and "News" in problem
    read = await shop.client.get(f"/api/audiences/{news}/mapping", headers=shop.headers)
    assert [n["message"] for n in read.json()["not_sent"]] == [problem]


async def _company_required(shop: Shop, list_id: str) -> None:
    """The audience gets a required merge field COMPANY, and the app learns it."""
    await shop.mc(
        "POST",
        f"/lists/{list_id}/merge-fields",
        {"name": "Company", "tag": "COMPANY", "type": "text", "required": True},
    )
    await shop.client.post("/api/audiences/refresh", headers=shop.headers)
    await shop.work()


async def test_a_required_field_without_a_value_is_reported_never_made_up(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await _company_required(shop, news)
    await _customer(shop, "cy@example.com")
    await shop.work()

    member = shop.member(news, "cy@example.com")
    assert member.status == "subscribed"
    assert member.merge_fields["COMPANY"] == ""
    [problem] = await _not_sent(shop)
    assert "Company (COMPANY) is required in Mailchimp" in problem


async def test_a_re_added_contact_lacking_a_required_field_is_reported_too(
    newsletter: Shop,
) -> None:
    """An archived contact re-added, or a transactional one subscribed, is added without the
    required field as a new one is: reported, unless the contact holds a value already."""
    shop = newsletter
    news = shop.ids["news"]
    await _company_required(shop, news)
    for email, status, company in (
        ("ari@example.com", "archived", ""),
        ("tam@example.com", "transactional", "Tam & Co"),
    ):
        added = await shop.mailchimp.call(
            shop.account,
            "PUT",
            f"/lists/{news}/members/{email}",
            query={"skip_merge_validation": "true"},
            body={"email_address": email, "status_if_new": "transactional",
                  "merge_fields": {"COMPANY": company}},
        )  # fmt: skip
        assert added.status == 200, added.body
        if status == "archived":
            await shop.mc("DELETE", f"/lists/{news}/members/{email}")
        assert shop.member(news, email).status == status

    await _customer(shop, "ari@example.com")
    await _customer(shop, "tam@example.com")
    await shop.work()

    assert shop.member(news, "ari@example.com").status == "subscribed"
    assert shop.member(news, "tam@example.com").status == "subscribed"
    [problem] = await _not_sent(shop)
    assert "Company (COMPANY) is required in Mailchimp" in problem and "ari@example.com" in problem


async def test_customer_updates_send_the_mapped_fields_and_move_tags(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await _map(
        shop,
        news,
        [{"merge_tag": "BIRTHDAY", "source": "metadata", "key": "birthday"}],
        tags={"source": "metadata", "key": "segments"},
    )
    customer = await _customer(shop, "di@example.com", birthday="1990-12-03", segments='["vip"]')
    await shop.work()
    # The app's own status write-back (a metadata update) changed nothing mapped: the
    # subscription's upsert and its tags only, no PATCH after them.
    member_writes = [
        r.method for r in shop.mailchimp.requests if "/members/" in r.path and r.method != "GET"
    ]
    assert member_writes == ["PUT", "POST"]
    # A tag given by hand in Mailchimp is never removed by the data.
    await shop.mc(
        "POST",
        f"/lists/{news}/members/di@example.com/tags",
        {"tags": [{"name": "press", "status": "active"}]},
    )

    await shop.saleor.update_customer_metadata(
        customer, {"birthday": "1991-01-30", "segments": '["wholesale"]'}
    )
    await shop.work()
    member = shop.member(news, "di@example.com")
    assert member.merge_fields["BIRTHDAY"] == "01/30"
    assert {t.name for t in member.tags} == {"saleor", "press", "wholesale"}

    # A customer update that changes nothing mapped sends nothing.
    before = len(shop.mailchimp.requests)
    await shop.saleor.update_customer(customer, note="called")
    await shop.work()
    assert [r for r in shop.mailchimp.requests[before:] if "/members/" in r.path] == []


async def test_a_value_the_customer_removes_is_cleared_and_one_typed_in_mailchimp_kept(
    newsletter: Shop,
) -> None:
    """Once, a removed value stayed in Mailchimp for good (only values were ever sent)."""
    shop = newsletter
    news = shop.ids["news"]
    await _birthday_and_visits(shop)
    customer = await _customer(shop, "di@example.com", birthday="1990-12-03")
    await shop.work()
    # Visits: never filled by the app (she has none), typed in Mailchimp by hand.
    await shop.mc("PATCH", f"/lists/{news}/members/di@example.com", {"merge_fields": {"VISITS": 7}})
    assert shop.member(news, "di@example.com").merge_fields["BIRTHDAY"] == "12/03"

    await shop.saleor.update_customer_metadata(customer, {"birthday": ""})
    await shop.work()
    member = shop.member(news, "di@example.com")
    assert member.merge_fields["BIRTHDAY"] == "" and member.merge_fields["VISITS"] == 7
    # Given again, it is sent (and tracked) again; a blank value counts as none.
    await shop.saleor.update_customer_metadata(customer, {"birthday": "1991-01-30"})
    await shop.work()
    assert shop.member(news, "di@example.com").merge_fields["BIRTHDAY"] == "01/30"
    await shop.saleor.update_customer_metadata(customer, {"birthday": " "})
    await shop.work()
    assert shop.member(news, "di@example.com").merge_fields["BIRTHDAY"] == ""


async def _fire(shop: Shop, event: str, data: dict[str, Any]) -> None:
    responses = await shop.mailchimp.fire_list_webhook(
        shop.account, shop.ids["news"], event, data, source="user"
    )
    assert responses and all(r.status_code == 200 for r in responses)


async def _edited_in_mailchimp(shop: Shop, email: str) -> None:
    """The contact changes their profile on Mailchimp's preference page."""
    await shop.mc(
        "PATCH",
        f"/lists/{shop.ids['news']}/members/{email}",
        {
            "merge_fields": {
                "FNAME": "Annie",
                "LNAME": "Pear",
                "COMPANY": "Pear Co",
                "PHONE": "+1 555 0100 200",
            }
        },
    )
    await _fire(shop, "profile", {"email": email})
    await shop.work()


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


async def test_members_get_the_language_of_the_customer_without_any_mapping(
    newsletter: Shop,
) -> None:
    shop = newsletter
    await shop.saleor.create_customer(
        "gil@example.com", metadata={CONSENT_SUBSCRIBE: "true"}, language_code="pt-br"
    )
    await shop.work()
    assert shop.member(shop.ids["news"], "gil@example.com").language == "pt"

    # The storefront form names no customer: the address's own customer gives the language.
    await shop.saleor.create_customer("hal@example.com", language_code="de")
    response = await shop.client.post(
        "/api/storefront/subscribe",
        params={"saleor_api_url": SALEOR_API_URL},
        json={"email": "hal@example.com"},
    )
    assert response.status_code == 202, response.text
    await shop.work()
    assert shop.member(shop.ids["news"], "hal@example.com").language == "de"


async def test_a_guest_order_gives_its_own_language(newsletter: Shop) -> None:
    shop = newsletter
    if not shop.saleor.store.channels:
        await shop.saleor.add_channel("default")
    await shop.saleor.create_order(
        email="ivy@example.com",
        metadata={CONSENT_SUBSCRIBE: "true"},
        language_code="fr-ca",
    )
    await shop.work()
    assert shop.member(shop.ids["news"], "ivy@example.com").language == "fr_CA"


async def test_a_mapping_mailchimp_could_not_take_is_refused_with_reasons(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    response = await _map(
        shop,
        news,
        [
            {"merge_tag": "ADDRESS", "source": "first_name"},
            {"merge_tag": "BIRTHDAY", "source": "metadata"},
            {"merge_tag": "NOPE", "source": "last_name"},
        ],
    )
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "INVALID_MAPPING"
    assert "Address is an address field" in body["message"]
    assert "Birthday: name the metadata key" in body["message"]
    assert "no merge field NOPE" in body["message"]
    read = await shop.client.get(f"/api/audiences/{news}/mapping", headers=shop.headers)
    assert read.json()["fields"] == []
    # A field Mailchimp refuses to create is explained (the tag is taken).
    refused = await shop.client.post(
        f"/api/audiences/{news}/merge-fields",
        json={"name": "Again", "tag": "FNAME", "type": "text"},
        headers=shop.headers,
    )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "MERGE_FIELD_REFUSED"


async def test_staff_subscribing_a_customer_and_a_checkout_send_the_mapped_fields(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await _map(shop, news, [{"merge_tag": "PHONE", "source": "shipping_phone"}])
    # Staff in the customer panel.
    customer = await shop.saleor.create_customer(
        "jo@example.com", addresses=[shop.saleor.store.new_address(**ADDRESS)]
    )
    response = await shop.client.post(
        f"/api/subscriptions/customers/{customer.global_id}",
        json={"list_id": news, "action": "subscribe"},
        headers=shop.headers,
    )
    assert response.status_code == 202, response.text
    await shop.work()
    assert shop.member(news, "jo@example.com").merge_fields["PHONE"] == "+14155552671"

    # A checkout by a signed-in customer who consented.
    if not shop.saleor.store.channels:
        await shop.saleor.add_channel("default")
    buyer = await shop.saleor.create_customer(
        "kim@example.com",
        addresses=[shop.saleor.store.new_address(**{**ADDRESS, "phone": "+14155550000"})],
    )
    await shop.saleor.create_order(
        user=buyer, email="kim@example.com", metadata={CONSENT_SUBSCRIBE: "true"}
    )
    await shop.work()
    assert shop.member(news, "kim@example.com").merge_fields["PHONE"] == "+14155550000"


async def test_saving_a_mapping_fills_the_audiences_existing_members(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await _customer(shop, "lou@example.com", birthday="1990-12-03")
    # A contact whose address bounced: Mailchimp keeps it out of edits, none is sent.
    await _customer(shop, "bea@example.com", birthday="1991-01-30")
    await shop.work()
    shop.mailchimp.set_member_status(shop.account, news, "bea@example.com", "cleaned")
    await _fire(shop, "cleaned", {"email": "bea@example.com", "reason": "hard"})
    await shop.work()
    assert shop.member(news, "lou@example.com").merge_fields["BIRTHDAY"] == ""

    response = await _map(
        shop, news, [{"merge_tag": "BIRTHDAY", "source": "metadata", "key": "birthday"}]
    )
    assert response.status_code == 200, response.text
    before = len(shop.mailchimp.requests)
    await shop.work()
    assert shop.member(news, "lou@example.com").merge_fields["BIRTHDAY"] == "12/03"
    edited = [r.path for r in shop.mailchimp.requests[before:] if r.method == "PATCH"]
    assert edited and not [
        p for p in edited if "bea" in p or subscriber_hash("bea@example.com") in p
    ]


async def test_a_customer_change_held_back_by_a_pending_mailchimp_change_goes_after_it(
    newsletter: Shop,
) -> None:
    """Mailchimp wins: a customer update that runs while a change from Mailchimp waits is held
    back (`profile_sync`); it goes once that change is applied. Before, it waited for Saleor's
    echo of the status write-back, which a write changing nothing never sends (and which the
    receiver no longer hands on: the app's own write)."""
    shop = newsletter
    news = shop.ids["news"]
    await _map(shop, news, [{"merge_tag": "BIRTHDAY", "source": "metadata", "key": "birthday"}])
    customer = await _customer(shop, "gil@example.com", birthday="1990-12-03")
    await shop.work()
    # The customer changed in Saleor, and its update is queued (as its webhook does) ...
    shop.saleor.store.get_customer(customer.id).metadata["birthday"] = "1991-01-30"
    async with shop.services.db.transaction() as session:
        contact = ContactState.email == "gil@example.com"
        state = await session.scalar(select(ContactState).where(contact))
        assert state is not None
        await enqueue_profile_update(session, state, customer.global_id)
    # ... and a change from Mailchimp arrives before it runs.
    await _fire(shop, "subscribe", {"email": "gil@example.com"})
    await shop.work()

    assert shop.member(news, "gil@example.com").merge_fields["BIRTHDAY"] == "01/30"


async def test_a_mailchimp_change_that_is_never_applied_holds_back_nothing_for_good(
    newsletter: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The change's job gives up (Mailchimp failing through every attempt): it is no longer
    pending, so the customer update it held back goes, and later ones are not held back
    either. Before, the contact looked changed in Mailchimp, unapplied, for good."""
    shop = newsletter
    news = shop.ids["news"]
    await _map(shop, news, [{"merge_tag": "BIRTHDAY", "source": "metadata", "key": "birthday"}])
    customer = await _customer(shop, "joy@example.com", birthday="1990-12-03")
    await shop.work()
    shop.saleor.store.get_customer(customer.id).metadata["birthday"] = "1991-01-30"
    async with shop.services.db.transaction() as session:
        contact = ContactState.email == "joy@example.com"
        state = await session.scalar(select(ContactState).where(contact))
        assert state is not None
        await enqueue_profile_update(session, state, customer.global_id)
    shop.services.settings = shop.services.settings.model_copy(update={"worker_max_attempts": 1})
    get_member = MailchimpClient.get_member

    async def failing(self: MailchimpClient, list_id: str, email: str) -> Any:
        if email == "joy@example.com":
            raise MailchimpError("Mailchimp answered 503 Service Unavailable")
        return await get_member(self, list_id, email)

    monkeypatch.setattr(MailchimpClient, "get_member", failing)
    await _fire(shop, "subscribe", {"email": "joy@example.com"})
    await shop.work()

    assert shop.member(news, "joy@example.com").merge_fields["BIRTHDAY"] == "01/30"
    async with shop.services.db.session() as session:
        state = await session.scalar(select(ContactState).where(contact))
        assert state is not None and state.mailchimp_changed_at is None
        assert not state.profile_held_back
        problem = state.last_problem or ""
        assert problem.startswith("Mailchimp's subscribe change was not applied: ")
        assert problem.endswith("Mailchimp answered 503 Service Unavailable.")


async def test_a_mailchimp_change_arriving_as_the_account_is_revoked_is_dropped(
    newsletter: Shop,
) -> None:
    """Its job finds no connected account: the change is not pending any more (the store's
    later changes are not lost to it once the admin reconnects)."""
    shop = newsletter
    await _customer(shop, "kim@example.com")
    await shop.work()
    await _fire(shop, "subscribe", {"email": "kim@example.com"})
    async with shop.services.db.transaction() as session:
        await session.execute(update(MailchimpConnection).values(status=ConnectionStatus.REVOKED))
    await shop.work()
    async with shop.services.db.session() as session:
        state = await session.scalar(
            select(ContactState).where(ContactState.email == "kim@example.com")
        )
    assert state is not None and state.mailchimp_changed_at is None
    assert state.last_problem == (
        "Mailchimp's subscribe change was not applied: Mailchimp is not connected."
    )


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
    # The same names again (Mailchimp sends a profile event for any save of the form).
    await _fire(shop, "profile", {"email": "kim@example.com", "merges": {"FNAME": "Annie"}})
    await shop.work()
    assert any(b"SubscriptionsUserByEmail" in r.content for r in outbound.requests)
    writes = [r for r in outbound.requests if b"SubscriptionsUpdateCustomerNames" in r.content]
    assert writes == []
    async with shop.services.db.session() as session:
        kinds = set(await session.scalars(select(Job.kind).where(Job.status == "pending")))
    assert NAMES_WRITTEN_KIND not in kinds


async def test_a_redelivered_mailchimp_event_holds_back_no_customer_update(
    newsletter: Shop,
) -> None:
    """Mailchimp sends a webhook again when it did not get the answer: the same body. The app
    takes it once. Before, the redelivery also marked the contact changed in Mailchimp, with
    no job left to apply that: every later customer update was held back, for good."""
    shop = newsletter
    news = shop.ids["news"]
    await _map(shop, news, [{"merge_tag": "BIRTHDAY", "source": "metadata", "key": "birthday"}])
    customer = await _customer(shop, "ida@example.com", birthday="1990-12-03")
    await shop.work()
    for _ in range(2):  # delivered, applied, then delivered again
        responses = await shop.mailchimp.fire_list_webhook(
            shop.account,
            news,
            "subscribe",
            {"email": "ida@example.com"},
            source="user",
            fired_at="2026-12-03 12:00:00",
        )
        assert responses and all(r.status_code == 200 for r in responses)
        await shop.work()

    await shop.saleor.update_customer_metadata(customer, {"birthday": "1991-01-30"})
    await shop.work()

    assert shop.member(news, "ida@example.com").merge_fields["BIRTHDAY"] == "01/30"
