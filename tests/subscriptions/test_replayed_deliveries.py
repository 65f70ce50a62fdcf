"""Deliveries the app acts on as Saleor's state says, not as their body does.

Saleor signs every app's deliveries with one key, over the body alone (not the `Saleor-Event`
header, nor the endpoint): a body about a customer from before, or from another webhook's
delivery, posted to one of the app's webhooks verifies. So what changes a contact is read from
Saleor: the customer's address now."""

from __future__ import annotations

import json
from typing import Any

import pytest

from addon.subscriptions.metadata import CONSENT_AUDIENCES, CONSENT_SUBSCRIBE
from sandboxes.saleor import SaleorSandbox
from tests.conftest import SALEOR_API_URL
from tests.deliveries import post_signed
from tests.subscriptions.conftest import Shop
from tests.subscriptions.test_consent import _order

OLD, NEW = "ola@example.com", "ola@new.example"


def delivered(saleor: SaleorSandbox, slug: str, email: str) -> bytes:
    """The body of a delivery Saleor made to the app's `slug` webhook about `email`, of a change
    not the app's own (those it takes for its own echoes)."""
    return next(
        d.body
        for d in saleor.deliveries
        if d.target_url.endswith(f"/api/webhooks/{slug}")
        and (json.loads(d.body).get("user") or {}).get("email") == email
        and not json.loads(d.body).get("issuingPrincipal")
    )


async def test_an_old_body_moves_no_contact_back_to_an_address_the_customer_left(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    ola = await shop.saleor.create_customer(OLD, metadata={CONSENT_SUBSCRIBE: "true"})
    await shop.work()
    await shop.saleor.update_customer(ola, first_name="Ola")
    await shop.work()
    then = delivered(shop.saleor, "subscriptions-customer-updated", OLD)
    await shop.saleor.confirm_email_change(ola, NEW)
    await shop.work()
    assert (shop.member(news, NEW).status, shop.member(news, OLD)) == ("subscribed", None)
    # The app's own write-backs then send no CUSTOMER_UPDATED that would move it again.
    shop.saleor.store.legacy_update_webhook_emission = False

    answer = await post_signed(
        shop.client, shop.saleor, "subscriptions-email-changed", "CUSTOMER_UPDATED", then
    )
    assert answer.status_code == 200, answer.text
    await shop.work()
    assert (shop.member(news, NEW).status, shop.member(news, OLD)) == ("subscribed", None)


async def _fire(shop: Shop, event: str, data: dict[str, Any], source: str = "user") -> None:
    answers = await shop.mailchimp.fire_list_webhook(
        shop.account, shop.ids["news"], event, data, source=source
    )
    assert answers and all(a.status_code == 200 for a in answers)


@pytest.mark.parametrize("left", ["unsubscribed", "archived"])
async def test_a_registrations_consent_never_brings_back_a_contact_who_left_since(
    newsletter: Shop, left: str
) -> None:
    """The consent keys stay on the customer: a body about them (their registration's, or
    another delivery's selecting their metadata) posted as CUSTOMER_CREATED carries them."""
    shop = newsletter
    news = shop.ids["news"]
    una = "una@example.com"
    await shop.saleor.create_customer(una, metadata={CONSENT_SUBSCRIBE: "true"})
    await shop.work()
    then = delivered(shop.saleor, "subscriptions-customer-created", una)
    if left == "unsubscribed":  # through Mailchimp's link
        await shop.mc("PATCH", f"/lists/{news}/members/{una}", {"status": "unsubscribed"})
        await _fire(shop, "unsubscribe", {"email": una})
    else:  # an admin removed them
        await shop.mc("DELETE", f"/lists/{news}/members/{una}")
        await _fire(
            shop, "unsubscribe", {"action": "delete", "reason": "manual", "email": una}, "admin"
        )
    await shop.work()
    assert shop.member(news, una).status == left

    replayed = json.dumps({**json.loads(then), "issuedAt": "2026-12-24T00:00:00+00:00"})
    slug, event = "subscriptions-customer-created", "CUSTOMER_CREATED"
    answer = await post_signed(shop.client, shop.saleor, slug, event, replayed.encode())
    assert answer.status_code == 200, answer.text
    await shop.work()
    assert shop.member(news, una).status == left


async def test_saleor_is_asked_only_when_a_delivery_calls_for_a_change(
    newsletter: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Orders without consent, and updates of a customer whose address the app saw last,
    cost no read of Saleor: most deliveries change nothing here."""
    shop = newsletter
    asked: list[str] = []
    execute = shop.services.saleor.execute

    async def counted(api_url: str, token: Any, document: str, *args: Any, **kw: Any) -> Any:
        asked.append(document)
        return await execute(api_url, token, document, *args, **kw)

    monkeypatch.setattr(shop.services.saleor, "execute", counted)
    ola = await shop.saleor.create_customer(OLD, "Ola")
    await shop.saleor.update_customer(ola, first_name="Olga")  # seen first: asked once
    await shop.work()
    asked.clear()
    for name in ("Olivia", "Oona"):
        await shop.saleor.update_customer(ola, first_name=name)
    await _order(shop, "guest@example.com", {})
    await shop.work()
    assert [d for d in asked if d.startswith("subscriptions_")] == []


async def test_a_new_consent_goes_though_mailchimp_changed_the_contact_meanwhile(
    newsletter: Shop,
) -> None:
    """Ann unsubscribed long ago and consents again at checkout; before the worker gets to the
    order, an admin edits her name in Mailchimp. Only her leaving the audience after the
    consent (dated: `ContactState.withdrawn_at`) would keep it from going, not that edit."""
    shop = newsletter
    news = shop.ids["news"]
    ann = await shop.saleor.create_customer(OLD, "Ann", metadata={CONSENT_SUBSCRIBE: "true"})
    await shop.work()
    await shop.mc("PATCH", f"/lists/{news}/members/{OLD}", {"status": "unsubscribed"})
    await _fire(shop, "unsubscribe", {"email": OLD})
    await shop.work()
    assert shop.member(news, OLD).status == "unsubscribed"
    consent = {CONSENT_SUBSCRIBE: "true", CONSENT_AUDIENCES: news}
    await _order(shop, OLD, consent, customer=ann)
    edit = {"email": OLD, "merges": {"EMAIL": OLD, "FNAME": "Annie"}}
    await _fire(shop, "profile", edit, "admin")
    await shop.work()
    assert shop.member(news, OLD).status == "pending"  # Mailchimp asks her to confirm


async def _subscribes_on_the_storefront(shop: Shop, email: str) -> None:
    answer = await shop.client.post(
        "/api/storefront/subscribe",
        params={"saleor_api_url": SALEOR_API_URL},
        json={"email": email},
    )
    assert answer.status_code < 300, answer.text


@pytest.mark.parametrize("unsubscribed", ["after the consent", "before the consent"])
async def test_a_consent_goes_only_if_given_after_the_contact_left(
    newsletter: Shop, unsubscribed: str
) -> None:
    """The leaving is dated when Mailchimp's webhook was received, not when its job ran: each
    here runs after both, in the order they were received."""
    shop = newsletter
    news = shop.ids["news"]
    await _subscribes_on_the_storefront(shop, OLD)
    await shop.work()
    if unsubscribed == "after the consent":
        await _subscribes_on_the_storefront(shop, OLD)
    await shop.mc("PATCH", f"/lists/{news}/members/{OLD}", {"status": "unsubscribed"})
    await _fire(shop, "unsubscribe", {"email": OLD})
    if unsubscribed == "before the consent":
        await _subscribes_on_the_storefront(shop, OLD)
    await shop.work()
    expected = "unsubscribed" if unsubscribed == "after the consent" else "pending"
    assert shop.member(news, OLD).status == expected
