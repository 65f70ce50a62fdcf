"""Merge-field mapping through the sandboxes: the admin maps customer data to merge fields;
every member upsert and customer update carries them, converted to each field's type, and
saving a mapping fills the audience's existing members."""

from __future__ import annotations

from addon.mailchimp import subscriber_hash
from addon.subscriptions.member_fields import parse_tags
from addon.subscriptions.metadata import CONSENT_SUBSCRIBE
from tests.audiences.conftest import (
    ADDRESS,
    _birthday_and_visits,
    _create_field,
    _customer,
    _fire,
    _map,
    _not_sent,
)
from tests.subscriptions.conftest import Shop


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


async def test_a_tags_change_of_case_alone_keeps_it(newsletter: Shop) -> None:
    """Mailchimp's tags are named without regard to case: "VIP" given as "vip" sends nothing,
    where adding "vip" and removing "VIP" together would leave the member with neither; a
    list naming a tag twice, case aside, is one tag."""
    shop = newsletter
    news = shop.ids["news"]
    await _map(shop, news, [], tags={"source": "metadata", "key": "segments"})
    customer = await _customer(shop, "di@example.com", segments="VIP, wholesale, Wholesale")
    await shop.work()
    assert {t.name for t in shop.member(news, "di@example.com").tags} == {
        "saleor",
        "VIP",
        "wholesale",
    }

    before = len(shop.mailchimp.requests)
    await shop.saleor.update_customer_metadata(customer, {"segments": "vip, wholesale"})
    await shop.work()
    assert [r.path for r in shop.mailchimp.requests[before:] if r.path.endswith("/tags")] == []
    assert {t.name for t in shop.member(news, "di@example.com").tags} == {
        "saleor",
        "VIP",
        "wholesale",
    }


def test_a_tag_list_names_each_tag_once_case_aside() -> None:
    tags = parse_tags('["VIP", "vip", " Wholesale ", "wholesale", ""]')
    assert tags == (["VIP", "Wholesale"], [])
