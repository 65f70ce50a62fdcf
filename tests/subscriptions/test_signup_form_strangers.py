"""The public signup form, and a guest's checkout, prove nothing of who typed the address: for a
contact already in the audience they add the groups chosen, and change neither their names, nor
their other groups, nor their consents (Mailchimp's own forms send such an address an
update-profile link)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from addon.subscriptions.metadata import CONSENT_GROUPS, CONSENT_PERMISSIONS, CONSENT_SUBSCRIBE
from addon.subscriptions.models import ContactState
from sandboxes.saleor import LineSpec, VariantSpec
from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop

STORE = {"saleor_api_url": SALEOR_API_URL}


async def _signup(shop: Shop, **body: Any) -> dict[str, Any]:
    response = await shop.client.post("/api/storefront/subscribe", params=STORE, json=body)
    assert response.status_code == 202, response.text
    await shop.work()
    answer: dict[str, Any] = response.json()
    return answer


async def _recorded(shop: Shop, email: str) -> tuple[str | None, list[str] | None]:
    async with shop.services.db.session() as session:
        state = await session.scalar(
            select(ContactState).where(
                ContactState.email == email, ContactState.list_id == shop.ids["news"]
            )
        )
        assert state is not None
        return state.profile_digest, state.sent_merge_tags


async def test_a_stranger_cannot_rename_regroup_or_consent_for_a_subscriber(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news, fruit, veg = shop.ids["news"], shop.ids["Fruit"], shop.ids["Veg"]
    permission = await shop.offered_permission()
    own = await _signup(shop, email="ann@example.com", first_name="Ann", groups=[fruit, veg])
    member = shop.member(news, "ann@example.com")
    assert (member.status, member.merge_fields["FNAME"]) == ("subscribed", "Ann")
    assert shop.consents("ann@example.com")[permission] is False

    recorded = await _recorded(shop, "ann@example.com")
    stranger = await _signup(
        shop, email="ann@example.com", first_name="Mallory", groups=[], permissions=[permission]
    )
    # Nothing of the contact's profile went, so its record of what was sent stays.
    assert await _recorded(shop, "ann@example.com") == recorded
    assert stranger == own  # the answer never tells the address was known
    member = shop.member(news, "ann@example.com")
    assert member.merge_fields["FNAME"] == "Ann"
    assert (member.interests[fruit], member.interests[veg]) == (True, True)
    assert shop.consents("ann@example.com")[permission] is False


async def test_a_subscriber_signing_up_again_adds_the_groups_chosen(newsletter: Shop) -> None:
    shop = newsletter
    news, fruit, veg = shop.ids["news"], shop.ids["Fruit"], shop.ids["Veg"]
    await _signup(shop, email="bo@example.com", groups=[fruit])
    await _signup(shop, email="bo@example.com", groups=[veg])
    member = shop.member(news, "bo@example.com")
    assert (member.interests[fruit], member.interests[veg]) == (True, True)


async def test_a_strangers_signup_leaves_the_record_of_what_was_sent(newsletter: Shop) -> None:
    """The public form's change of a contact already in the audience sends none of the mapped
    fields: the contact's record of what was sent stays, so the customer's next change still
    sends them (recorded as sent, a name changed in Saleor meanwhile never reached Mailchimp)."""
    shop = newsletter
    news = shop.ids["news"]
    mapped = await shop.client.put(
        f"/api/audiences/{news}/mapping",
        json={"fields": [{"merge_tag": "FNAME", "source": "first_name"}]},
        headers=shop.headers,
    )
    assert mapped.status_code == 200, mapped.text
    customer = await shop.saleor.create_customer("cy@example.com", "Cy", "Lee")
    await _signup(shop, email="cy@example.com")
    assert shop.member(news, "cy@example.com").merge_fields["FNAME"] == "Cy"
    recorded = await _recorded(shop, "cy@example.com")
    shop.saleor.store.update_customer(customer, first_name="Cyril")  # no webhook yet
    await _signup(shop, email="cy@example.com")
    assert shop.member(news, "cy@example.com").merge_fields["FNAME"] == "Cy"
    assert await _recorded(shop, "cy@example.com") == recorded


async def test_a_contact_who_left_is_asked_to_confirm_with_their_profile_as_it_was(
    newsletter: Shop,
) -> None:
    """Mailchimp requires an unsubscribed contact's new subscription to be confirmed by e-mail;
    the form asks for it, and the stranger's names, groups and consents do not go with it."""
    shop = newsletter
    news, fruit, veg = shop.ids["news"], shop.ids["Fruit"], shop.ids["Veg"]
    permission = await shop.offered_permission()
    await _signup(shop, email="ann@example.com", first_name="Ann", groups=[fruit])
    await shop.mc("PATCH", f"/lists/{news}/members/ann@example.com", {"status": "unsubscribed"})

    await _signup(
        shop, email="ann@example.com", first_name="Mallory", groups=[veg], permissions=[permission]
    )
    member = shop.member(news, "ann@example.com")
    assert member.status == "pending"
    assert member.merge_fields["FNAME"] == "Ann"
    assert (member.interests[fruit], member.interests[veg]) == (True, True)  # added, none off
    assert shop.consents("ann@example.com")[permission] is False


async def _apple(shop: Shop) -> int:
    await shop.saleor.add_channel("default")
    product = await shop.saleor.create_product("Apple", [VariantSpec(sku=None)])
    return product.variants[0].id


async def _order_with_consent(
    shop: Shop, variant: int, metadata: dict[str, str], **checkout: Any
) -> None:
    placed = await shop.saleor.create_checkout(
        lines=[LineSpec(variant, 1)],
        metadata={CONSENT_SUBSCRIBE: "true", **metadata},
        **checkout,
    )
    await shop.saleor.complete_checkout(placed)
    await shop.work()


async def test_a_guest_checkout_with_someone_elses_address_only_adds_groups(
    newsletter: Shop,
) -> None:
    """Saleor checks no guest's address: a guest's consent proves no more than the form."""
    shop = newsletter
    news, fruit, veg = shop.ids["news"], shop.ids["Fruit"], shop.ids["Veg"]
    permission = await shop.offered_permission()
    await _signup(shop, email="ann@example.com", first_name="Ann", groups=[fruit])

    await _order_with_consent(
        shop,
        await _apple(shop),
        {CONSENT_GROUPS: veg, CONSENT_PERMISSIONS: permission},
        email="ann@example.com",
    )
    member = shop.member(news, "ann@example.com")
    assert (member.interests[fruit], member.interests[veg]) == (True, True)
    assert shop.consents("ann@example.com")[permission] is False
    assert member.merge_fields["FNAME"] == "Ann"


async def test_a_customers_consent_without_a_groups_key_keeps_their_groups(
    newsletter: Shop,
) -> None:
    """A storefront with a plain "subscribe me" box writes no groups key: the groups the
    customer chose on the account page stay. A groups key, even empty, is their choice."""
    shop = newsletter
    news, fruit, veg = shop.ids["news"], shop.ids["Fruit"], shop.ids["Veg"]
    customer = await shop.saleor.create_customer(
        "ann@example.com", "Ann", "Apple", is_confirmed=True
    )
    auth = {"Authorization": f"Bearer {shop.saleor.mint_customer_token(customer)}"}
    chosen = await shop.client.put(
        "/api/storefront/me/subscriptions",
        params=STORE,
        headers=auth,
        json={"audiences": [{"list_id": news, "subscribed": True, "groups": [fruit, veg]}]},
    )
    assert chosen.status_code == 202, chosen.text
    await shop.work()

    apple = await _apple(shop)
    await _order_with_consent(shop, apple, {}, email="ann@example.com", customer=customer)
    member = shop.member(news, "ann@example.com")
    assert (member.interests[fruit], member.interests[veg]) == (True, True)

    chose_veg = {CONSENT_GROUPS: veg}
    await _order_with_consent(shop, apple, chose_veg, email="ann@example.com", customer=customer)
    member = shop.member(news, "ann@example.com")
    assert (member.interests[fruit], member.interests[veg]) == (False, True)


async def test_signing_up_again_with_nothing_new_sends_nothing(newsletter: Shop) -> None:
    shop = newsletter
    news, fruit = shop.ids["news"], shop.ids["Fruit"]
    await _signup(shop, email="bo@example.com", groups=[fruit])
    await _signup(shop, email="bo@example.com", groups=[fruit])
    patches = [
        r for r in shop.mailchimp.requests if r.method == "PATCH" and f"/lists/{news}/" in r.path
    ]
    assert patches == []


async def test_a_registration_never_confirmed_proves_nothing_of_its_address(
    newsletter: Shop,
) -> None:
    """Saleor sends CUSTOMER_CREATED for an account registered with anyone's address before its
    owner confirmed it (and AccountRegisterInput takes the consent keys as metadata)."""
    shop = newsletter
    news, fruit, veg = shop.ids["news"], shop.ids["Fruit"], shop.ids["Veg"]
    permission = await shop.offered_permission()
    await _signup(shop, email="ann@example.com", first_name="Ann", groups=[fruit])

    consent = {CONSENT_SUBSCRIBE: "true", CONSENT_GROUPS: veg, CONSENT_PERMISSIONS: permission}
    await shop.saleor.create_customer("ann@example.com", "Mallory", metadata=consent)
    await shop.work()
    member = shop.member(news, "ann@example.com")
    assert member.merge_fields["FNAME"] == "Ann"
    assert (member.interests[fruit], member.interests[veg]) == (True, True)
    assert shop.consents("ann@example.com")[permission] is False


async def test_a_registration_once_confirmed_gives_its_consent_in_full(newsletter: Shop) -> None:
    shop = newsletter
    news, fruit, veg = shop.ids["news"], shop.ids["Fruit"], shop.ids["Veg"]
    permission = await shop.offered_permission()
    await _signup(shop, email="ann@example.com", first_name="A.", groups=[fruit])

    consent = {CONSENT_SUBSCRIBE: "true", CONSENT_GROUPS: veg, CONSENT_PERMISSIONS: permission}
    ann = await shop.saleor.create_customer("ann@example.com", "Ann", metadata=consent)
    await shop.work()
    assert shop.member(news, "ann@example.com").merge_fields["FNAME"] == "A."
    await shop.saleor.confirm_account(ann)
    await shop.work()
    member = shop.member(news, "ann@example.com")
    assert member.merge_fields["FNAME"] == "Ann"
    assert (member.interests[fruit], member.interests[veg]) == (False, True)
    assert shop.consents("ann@example.com")[permission] is True
