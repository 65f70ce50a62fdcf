"""An account whose owner never confirmed the address proves nothing of it: Saleor creates every
account unconfirmed, and lets it sign in when the store turned confirmation by e-mail off (or
allows logging in without it), so anyone may register a guest's, a signup form subscriber's or an
imported contact's address. Such an account sees and changes only the contact it made itself;
another's it may add to, as the public signup form may, and never read or take from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from addon.subscriptions.metadata import CONSENT_GROUPS, CONSENT_SUBSCRIBE, STATUS_PREFIX
from addon.subscriptions.models import ContactState
from sandboxes.saleor import LineSpec, VariantSpec
from sandboxes.saleor.models import Customer
from tests.conftest import SALEOR_API_URL
from tests.subscriptions.conftest import Shop

STORE = {"saleor_api_url": SALEOR_API_URL}
PAGE = "/api/storefront/me/subscriptions"
VIC = "vic@example.com"


async def _victims_contact(shop: Shop) -> str:
    """Vic subscribed through the public form, with Fruit and the GDPR consent; Mallory then
    registers Vic's address, on a store that does not ask for confirmation by e-mail."""
    permission = await shop.offered_permission()
    response = await shop.client.post(
        "/api/storefront/subscribe",
        params=STORE,
        json={
            "email": VIC,
            "first_name": "Vic",
            "groups": [shop.ids["Fruit"]],
            "permissions": [permission],
        },
    )
    assert response.status_code == 202, response.text
    await shop.work()
    assert shop.member(shop.ids["news"], VIC).interests[shop.ids["Fruit"]] is True
    shop.saleor.store.enable_account_confirmation_by_email = False
    return permission


async def _mallory(shop: Shop) -> tuple[Customer, dict[str, str]]:
    mallory = await shop.saleor.create_customer(VIC, "Mal", "Lory")
    assert mallory.is_confirmed is False
    await shop.work()
    return mallory, _auth(shop, mallory)


def _auth(shop: Shop, customer: Customer) -> dict[str, str]:
    return {"Authorization": f"Bearer {shop.saleor.mint_customer_token(customer)}"}


async def _page(shop: Shop, auth: dict[str, str]) -> dict[str, Any]:
    response = await shop.client.get(PAGE, params=STORE, headers=auth)
    assert response.status_code == 200, response.text
    news: dict[str, Any] = next(
        a for a in response.json()["audiences"] if a["list_id"] == shop.ids["news"]
    )
    return news


async def _save(shop: Shop, auth: dict[str, str], body: dict[str, Any]) -> None:
    response = await shop.client.put(PAGE, params=STORE, headers=auth, json=body)
    assert response.status_code == 202, response.text
    await shop.work()


async def _owner(shop: Shop, email: str) -> str | None:
    async with shop.services.db.session() as session:
        return await session.scalar(
            select(ContactState.saleor_user_id).where(
                ContactState.email == email, ContactState.list_id == shop.ids["news"]
            )
        )


async def test_an_unconfirmed_account_sees_no_one_elses_contact(newsletter: Shop) -> None:
    shop = newsletter
    await _victims_contact(shop)
    _, auth = await _mallory(shop)
    seen = await _page(shop, auth)
    assert (seen["status"], seen["groups"], seen["marketing_permissions"]) == ("none", [], [])


async def test_an_unconfirmed_accounts_save_only_adds_to_another_contact(newsletter: Shop) -> None:
    shop = newsletter
    news, fruit, veg = shop.ids["news"], shop.ids["Fruit"], shop.ids["Veg"]
    permission = await _victims_contact(shop)
    mallory, auth = await _mallory(shop)
    body = {"audiences": [{"list_id": news, "subscribed": True, "groups": [veg]}]}
    await _save(shop, auth, {**body, "permissions": []})
    member = shop.member(news, VIC)
    assert (member.interests[fruit], member.interests[veg]) == (True, True)
    assert shop.consents(VIC)[permission] is True
    assert member.merge_fields["FNAME"] == "Vic"
    # Leaving is taking away too: the contact stays.
    await _save(shop, auth, {"audiences": [{"list_id": news, "subscribed": False}]})
    assert shop.member(news, VIC).status == "subscribed"
    # Nothing of it became Mallory's: not on the page, not in her metadata.
    assert await _owner(shop, VIC) is None
    assert (await _page(shop, auth))["status"] == "none"
    held = shop.saleor.store.get_customer(mallory.id).metadata
    assert not any(key.startswith(STATUS_PREFIX) for key in held)


async def test_a_change_of_anothers_contact_is_not_written_on_an_unconfirmed_account(
    newsletter: Shop,
) -> None:
    """The status write-back goes to the user with the address: an unconfirmed one gets, and is
    linked to, none of another's contact (the link would give them the contact's page)."""
    shop = newsletter
    news = shop.ids["news"]
    await _victims_contact(shop)
    mallory, auth = await _mallory(shop)
    # Vic's contact changes again (another signup through the form): written back.
    response = await shop.client.post(
        "/api/storefront/subscribe",
        params=STORE,
        json={"email": VIC, "groups": [shop.ids["Veg"]]},
    )
    assert response.status_code == 202
    await shop.work()
    assert shop.member(news, VIC).interests[shop.ids["Veg"]] is True
    held = shop.saleor.store.get_customer(mallory.id).metadata
    assert not any(key.startswith(STATUS_PREFIX) for key in held)
    assert await _owner(shop, VIC) is None
    assert (await _page(shop, auth))["status"] == "none"


async def test_an_unconfirmed_accounts_order_only_adds_to_another_contact(newsletter: Shop) -> None:
    shop = newsletter
    news, fruit, veg = shop.ids["news"], shop.ids["Fruit"], shop.ids["Veg"]
    await _victims_contact(shop)
    mallory, _ = await _mallory(shop)
    saleor = shop.saleor
    await saleor.add_channel("default")
    product = await saleor.create_product("Apple", [VariantSpec(sku=None)])
    checkout = await saleor.create_checkout(
        lines=[LineSpec(product.variants[0].id, 1)],
        email=VIC,
        customer=mallory,
        metadata={CONSENT_SUBSCRIBE: "true", CONSENT_GROUPS: veg},
    )
    await saleor.complete_checkout(checkout)
    await shop.work()
    member = shop.member(news, VIC)
    assert (member.interests[fruit], member.interests[veg]) == (True, True)
    assert member.merge_fields["FNAME"] == "Vic"
    assert await _owner(shop, VIC) is None


async def test_an_unconfirmed_account_has_the_contact_it_made(newsletter: Shop) -> None:
    """On a store that asks no confirmation every account is unconfirmed: the contact one made
    is its own, to see and change as any customer (a group dropped, a consent withdrawn)."""
    shop = newsletter
    news, fruit, veg = shop.ids["news"], shop.ids["Fruit"], shop.ids["Veg"]
    permission = await shop.offered_permission()
    shop.saleor.store.enable_account_confirmation_by_email = False
    ann = await shop.saleor.create_customer("ann@example.com", "Ann")
    auth = _auth(shop, ann)
    chosen = {"audiences": [{"list_id": news, "subscribed": True, "groups": [fruit, veg]}]}
    await _save(shop, auth, {**chosen, "permissions": [permission]})
    assert await _owner(shop, "ann@example.com") == ann.global_id
    seen = await _page(shop, auth)
    assert (seen["status"], sorted(seen["groups"])) == ("subscribed", sorted([fruit, veg]))
    assert seen["marketing_permissions"] == [permission]

    fewer = {"audiences": [{"list_id": news, "subscribed": True, "groups": [veg]}]}
    await _save(shop, auth, {**fewer, "permissions": []})
    member = shop.member(news, "ann@example.com")
    assert (member.interests[fruit], member.interests[veg]) == (False, True)
    assert shop.consents("ann@example.com")[permission] is False
    await _save(shop, auth, {"audiences": [{"list_id": news, "subscribed": False}]})
    assert shop.member(news, "ann@example.com").status == "unsubscribed"


async def test_a_confirmed_account_has_the_contact_at_its_address(newsletter: Shop) -> None:
    """Confirmed (here once signed in already: it is read on each request), the owner of the
    address sees and changes its contact, however it was made."""
    shop = newsletter
    news, fruit, veg = shop.ids["news"], shop.ids["Fruit"], shop.ids["Veg"]
    permission = await _victims_contact(shop)
    vic, auth = await _mallory(shop)  # the address's owner, not confirmed yet
    assert (await _page(shop, auth))["status"] == "none"
    await shop.saleor.confirm_account(vic)
    await shop.work()
    seen = await _page(shop, auth)
    assert (seen["status"], seen["groups"]) == ("subscribed", [fruit])
    assert seen["marketing_permissions"] == [permission]
    body = {"audiences": [{"list_id": news, "subscribed": True, "groups": [veg]}]}
    await _save(shop, auth, {**body, "permissions": []})
    member = shop.member(news, VIC)
    assert (member.interests[fruit], member.interests[veg]) == (False, True)
    assert shop.consents(VIC)[permission] is False
    assert await _owner(shop, VIC) == vic.global_id


async def test_an_unconfirmed_accounts_profile_fills_no_one_elses_contact(newsletter: Shop) -> None:
    """With the first name mapped, the customer's edits reach their contact: an unconfirmed
    account's reach only the contact it made."""
    shop = newsletter
    news = shop.ids["news"]
    mapped = await shop.client.put(
        f"/api/audiences/{news}/mapping",
        json={"fields": [{"merge_tag": "FNAME", "source": "first_name"}]},
        headers=shop.headers,
    )
    assert mapped.status_code == 200, mapped.text
    await shop.work()
    await _victims_contact(shop)
    before = shop.member(news, VIC).merge_fields["FNAME"]
    mallory, _ = await _mallory(shop)
    await shop.saleor.update_customer(mallory, first_name="Mallory")
    await shop.work()
    assert shop.member(news, VIC).merge_fields["FNAME"] == before != "Mallory"

    ann = await shop.saleor.create_customer("ann@example.com", "Ann")  # unconfirmed too
    body = {"audiences": [{"list_id": news, "subscribed": True}]}
    await _save(shop, _auth(shop, ann), body)
    assert shop.member(news, "ann@example.com").merge_fields["FNAME"] == "Ann"
    await shop.saleor.update_customer(ann, first_name="Annie")
    await shop.work()
    assert shop.member(news, "ann@example.com").merge_fields["FNAME"] == "Annie"


async def test_a_confirmed_account_with_an_internationalised_domain_is_confirmed(
    newsletter: Shop,
) -> None:
    """Saleor holds the domain as typed (its ASCII form); the app's form of the address is the
    Unicode one: the two are one address, and the account's own."""
    from addon.subscriptions.schemas import normalize_email

    shop = newsletter
    news = shop.ids["news"]
    puny = "bob@xn--bcher-kva.de"
    joined = await shop.client.post("/api/storefront/subscribe", params=STORE, json={"email": puny})
    assert joined.status_code == 202, joined.text
    await shop.work()
    bob = await shop.saleor.create_customer(puny, "Bob", "B", is_confirmed=True)
    await shop.work()
    auth = {"Authorization": f"Bearer {shop.saleor.mint_customer_token(bob)}"}
    page = await shop.client.get(PAGE, params=STORE, headers=auth)
    assert page.status_code == 200, page.text
    seen = next(a for a in page.json()["audiences"] if a["list_id"] == news)
    assert seen["status"] == "subscribed"
    left = await shop.client.put(
        PAGE,
        params=STORE,
        headers=auth,
        json={"audiences": [{"list_id": news, "subscribed": False}]},
    )
    assert left.status_code == 202, left.text
    await shop.work()
    assert shop.member(news, normalize_email(puny)).status == "unsubscribed"
