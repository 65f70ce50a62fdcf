"""A registration's consent is applied in full once the account is confirmed, however the app
learns of it, and once.

What was wrong: the consent given at registration (`mailchimp.consent.*`) was applied only in
part at CUSTOMER_CREATED (the account unconfirmed: groups added, no marketing permission, names
or status change) and in full only at ACCOUNT_CONFIRMED. Staff confirming the account
(`customerUpdate(input: {isConfirmed: true})`) send CUSTOMER_UPDATED alone (saleor/graphql/
account/mutations/staff/customer_update.py `generate_events`, 3.20.119 and main), and the
catch-up replays a confirmation it missed as CUSTOMER_UPDATED: the customer's marketing
permission and chosen groups were lost for good."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from addon.subscriptions.metadata import CONSENT_GROUPS, CONSENT_PERMISSIONS, CONSENT_SUBSCRIBE
from addon.subscriptions.models import RegistrationConsent
from sandboxes.mailchimp.state import subscriber_hash
from sandboxes.saleor.models import Customer
from tests.conftest import SALEOR_API_URL
from tests.deliveries import post_signed
from tests.subscriptions.conftest import Shop

STORE = {"saleor_api_url": SALEOR_API_URL}
# The registration's webhook (ACCOUNT_CONFIRMED) and the customer changes' (CUSTOMER_UPDATED).
SLUGS = {
    "ACCOUNT_CONFIRMED": "subscriptions-customer-created",
    "CUSTOMER_UPDATED": "subscriptions-customer-updated",
}
ANN = "ann@example.com"


async def _signup(shop: Shop, **body: Any) -> None:
    response = await shop.client.post("/api/storefront/subscribe", params=STORE, json=body)
    assert response.status_code == 202, response.text
    await shop.work()


async def _registered(shop: Shop) -> tuple[Customer, str]:
    """Ann, a contact since a newsletter sign-up (Fruit), registers consenting to Veg and the
    GDPR permission: applied in part (the account unconfirmed). Returns her and the permission."""
    veg = shop.ids["Veg"]
    permission = await shop.offered_permission()
    await _signup(shop, email=ANN, first_name="A.", groups=[shop.ids["Fruit"]])
    consent = {CONSENT_SUBSCRIBE: "true", CONSENT_GROUPS: veg, CONSENT_PERMISSIONS: permission}
    ann = await shop.saleor.create_customer(ANN, "Ann", metadata=consent)
    await shop.work()
    assert shop.consents(ANN)[permission] is False
    assert shop.member(shop.ids["news"], ANN).interests[veg] is True
    return ann, permission


async def _withdrawn_in_mailchimp(shop: Shop, permission: str) -> None:
    """Ann turns the permission and Veg off in Mailchimp: a consent applied again turns them on."""
    await shop.mc(
        "PATCH",
        f"/lists/{shop.ids['news']}/members/{subscriber_hash(ANN)}",
        {
            "interests": {shop.ids["Veg"]: False},
            "marketing_permissions": [{"marketing_permission_id": permission, "enabled": False}],
        },
    )
    await shop.work()


def _delivered(shop: Shop, event: str) -> dict[str, Any]:
    """The last body Saleor delivered to the webhook of `event` (`SLUGS`), of a
    change not the app's own (those it takes for its own echoes)."""
    body = next(
        d.body
        for d in reversed(shop.saleor.deliveries)
        if d.target_url.endswith(f"/api/webhooks/{SLUGS[event]}")
        and d.event_type == event
        and not json.loads(d.body).get("issuingPrincipal")
    )
    found: dict[str, Any] = json.loads(body)
    return found


async def _deliver(shop: Shop, event: str, body: dict[str, Any]) -> None:
    answer = await post_signed(
        shop.client, shop.saleor, SLUGS[event], event, json.dumps(body).encode()
    )
    assert answer.status_code == 200, answer.text
    await shop.work()


async def test_control_confirm_account_applies_consent_in_full(newsletter: Shop) -> None:
    shop = newsletter
    ann, permission = await _registered(shop)
    await shop.saleor.confirm_account(ann)
    await shop.work()
    assert shop.consents(ANN)[permission] is True


async def test_staff_confirmation_applies_consent_in_full(newsletter: Shop) -> None:
    shop = newsletter
    news, fruit, veg = shop.ids["news"], shop.ids["Fruit"], shop.ids["Veg"]
    ann, permission = await _registered(shop)
    # Staff confirm the account in the dashboard: CUSTOMER_UPDATED alone, as Saleor sends.
    await shop.saleor.update_customer(ann, is_confirmed=True)
    await shop.work()
    member = shop.member(news, ANN)
    assert shop.consents(ANN)[permission] is True, (
        "consent given at registration not applied after staff confirmed the account"
    )
    assert (member.interests[fruit], member.interests[veg]) == (False, True)


async def test_confirmation_while_deactivated_applies_consent_in_full(newsletter: Shop) -> None:
    """`confirmAccount` while the app is deactivated: the catch-up replays the customer (its
    `updated_at` moved) as CUSTOMER_UPDATED."""
    shop = newsletter
    ann, permission = await _registered(shop)
    await shop.saleor.set_app_active(shop.app, False)
    await shop.saleor.confirm_account(ann)
    await shop.saleor.set_app_active(shop.app, True)
    await shop.work()
    assert shop.consents(ANN)[permission] is True, (
        "consent not applied in full after a confirmation missed while deactivated"
    )


async def test_a_staff_confirmation_redelivered_or_followed_by_confirm_account_applies_once(
    newsletter: Shop,
) -> None:
    shop = newsletter
    ann, permission = await _registered(shop)
    await shop.saleor.update_customer(ann, is_confirmed=True)  # CUSTOMER_UPDATED alone
    await shop.work()
    assert shop.consents(ANN)[permission] is True
    await _withdrawn_in_mailchimp(shop, permission)

    # The same confirmation delivered again (a retry Saleor tells apart by `issuedAt`), and an
    # ACCOUNT_CONFIRMED arriving after it: the consent applied in full is not applied again.
    staff = _delivered(shop, "CUSTOMER_UPDATED")
    await _deliver(shop, "CUSTOMER_UPDATED", {**staff, "issuedAt": "2099-01-01T00:00:00+00:00"})
    await _deliver(shop, "ACCOUNT_CONFIRMED", {"user": staff["user"]})
    member = shop.member(shop.ids["news"], ANN)
    assert (shop.consents(ANN)[permission], member.interests[shop.ids["Veg"]]) == (False, False)


async def test_confirm_account_then_a_staff_update_applies_nothing_again(newsletter: Shop) -> None:
    shop = newsletter
    ann, permission = await _registered(shop)
    await shop.saleor.confirm_account(ann)
    await shop.work()
    assert shop.consents(ANN)[permission] is True
    await _withdrawn_in_mailchimp(shop, permission)

    # A CUSTOMER_UPDATED of the confirmed account (staff, or the catch-up's replay of it),
    # arriving after ACCOUNT_CONFIRMED, as a staff confirmation's would.
    await shop.saleor.update_customer(ann, first_name="Anna")
    await shop.work()
    await _deliver(shop, "CUSTOMER_UPDATED", _delivered(shop, "CUSTOMER_UPDATED"))
    assert shop.consents(ANN)[permission] is False


async def test_an_unconfirmed_accounts_update_applies_nothing_new(newsletter: Shop) -> None:
    shop = newsletter
    ann, permission = await _registered(shop)
    await _withdrawn_in_mailchimp(shop, permission)

    await shop.saleor.update_customer(ann, first_name="Anna")  # still unconfirmed
    await shop.work()
    member = shop.member(shop.ids["news"], ANN)
    assert (shop.consents(ANN)[permission], member.interests[shop.ids["Veg"]]) == (False, False)

    # Then staff confirm it: the consent, awaiting its confirmation, is applied in full.
    await shop.saleor.update_customer(ann, is_confirmed=True)
    await shop.work()
    assert shop.consents(ANN)[permission] is True


async def test_an_erased_customer_leaves_no_consent_record(newsletter: Shop) -> None:
    """The record of a registration's consent is the customer's: their erasure (here, their
    deletion in Saleor) deletes it with their contacts."""
    shop = newsletter
    ann, _ = await _registered(shop)
    async with shop.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(RegistrationConsent)) == 1
    await shop.saleor.delete_customer(ann)
    await shop.work()
    async with shop.services.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(RegistrationConsent)) == 0
