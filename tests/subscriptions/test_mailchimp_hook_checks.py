"""Audience webhook events checked against Mailchimp and the app's settings before they apply.

An address change (`upemail`) moves the contact only if Mailchimp moved the member: before, a
forged or stale one (anyone who knows the webhook's URL, or a delivery retried after the
address changed back) moved the contact, and the customer's metadata, to an address that is
no member. An event of an audience the admin deactivated (its webhook deleted, but Mailchimp
retries an earlier delivery for 75 minutes) wrote the audience's status, groups and address to
the customer; now it is ignored, but a leaving is still recorded in the app's own state (so
that activating the audience again subscribes no one), with nothing written to Saleor."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from addon.subscriptions.metadata import EMAIL_PREFIX
from addon.subscriptions.models import ContactState
from tests.subscriptions.conftest import Shop, _fire, _metadata, _subscribed_customer

OLA, NEW, EVIL = "ola@example.com", "ola@new.example", "evil@attacker.example"


async def _post(shop: Shop, url: str, kind: str, fired_at: str, **data: str) -> None:
    """A delivery to the app's webhook URL as Mailchimp makes it (a retry, or a forgery)."""
    form = {"type": kind, "fired_at": fired_at}
    form |= {f"data[{k}]": v for k, v in {"list_id": shop.ids["news"], **data}.items()}
    answer = await shop.client.post(
        url,
        content=urlencode(form),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 200, answer.text


async def _rows(shop: Shop) -> dict[str, tuple[str, str | None]]:
    """The News contacts the app holds: status and customer, by address."""
    async with shop.services.db.session() as session:
        rows = await session.scalars(
            select(ContactState).where(ContactState.list_id == shop.ids["news"])
        )
        return {r.email: (r.status, r.saleor_user_id) for r in rows}


def _url(shop: Shop) -> str:
    return str(shop.mailchimp.webhooks(shop.account, shop.ids["news"])[0].url)


async def test_a_forged_address_change_to_no_member_moves_nothing(newsletter: Shop) -> None:
    shop = newsletter
    customer = await _subscribed_customer(shop, OLA)
    before, rows = _metadata(shop, customer), await _rows(shop)

    await _post(shop, _url(shop), "upemail", "2026-01-01 00:00:00", old_email=OLA, new_email=EVIL)
    await shop.work()

    assert shop.member(shop.ids["news"], EVIL) is None
    assert await _rows(shop) == rows and rows[OLA] == ("subscribed", customer.global_id)
    assert _metadata(shop, customer) == before
    assert before[EMAIL_PREFIX + shop.ids["news"]] == OLA


async def test_an_address_change_leaving_the_old_member_in_place_moves_nothing(
    newsletter: Shop,
) -> None:
    """Forged with an address the sender subscribed themselves: Mailchimp still has the
    customer's member at the old address, so it did not move."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, OLA)
    await shop.mc(
        "PUT",
        f"/lists/{news}/members/{EVIL}",
        {"email_address": EVIL, "status_if_new": "subscribed"},
    )
    before, rows = _metadata(shop, customer), await _rows(shop)

    await _fire(shop, "upemail", {"old_email": OLA, "new_email": EVIL, "new_id": "x"})
    await shop.work()

    assert await _rows(shop) == rows and rows[OLA] == ("subscribed", customer.global_id)
    assert _metadata(shop, customer) == before


async def test_a_stale_address_change_arriving_after_it_was_undone_moves_nothing(
    newsletter: Shop,
) -> None:
    """The address changed in Mailchimp, then back, before the first change's delivery (retried
    by Mailchimp) reached the app: Mailchimp's member is at the old address again."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, OLA)
    for old, new in ((OLA, NEW), (NEW, OLA)):
        await shop.mc("PATCH", f"/lists/{news}/members/{old}", {"email_address": new})
    before, rows = _metadata(shop, customer), await _rows(shop)

    await _fire(shop, "upemail", {"old_email": OLA, "new_email": NEW, "new_id": "x"})
    await shop.work()

    assert await _rows(shop) == rows and rows[OLA] == ("subscribed", customer.global_id)
    assert _metadata(shop, customer) == before


async def _deactivated(shop: Shop) -> str:
    """News deactivated by the admin (Deals the default now); its webhook's URL, as a delivery
    Mailchimp retries still uses it."""
    url = _url(shop)
    deals = shop.ids["deals"]
    await shop.configure(active_list_ids=[deals], default_list_id=deals)
    assert not shop.mailchimp.webhooks(shop.account, shop.ids["news"])
    return url


async def test_events_of_a_deactivated_audience_are_not_applied(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, OLA)
    url = await _deactivated(shop)
    # Changes made in Mailchimp before the deactivation, whose deliveries come late.
    await shop.mc("PATCH", f"/lists/{news}/members/{OLA}", {"interests": {shop.ids["Veg"]: True}})
    await shop.mc("PATCH", f"/lists/{news}/members/{OLA}", {"email_address": NEW})
    before, rows = _metadata(shop, customer), await _rows(shop)

    events: list[tuple[str, dict[str, Any]]] = [
        ("profile", {"email": OLA}),
        ("upemail", {"old_email": OLA, "new_email": NEW, "new_id": "x"}),
        ("subscribe", {"email": NEW}),
        ("profile", {"email": NEW}),
    ]
    for second, (kind, data) in enumerate(events):
        await _post(shop, url, kind, f"2026-01-01 00:00:0{second}", **data)
    await shop.work()

    assert await _rows(shop) == rows
    assert _metadata(shop, customer) == before


async def test_an_event_received_before_the_deactivation_is_not_applied(newsletter: Shop) -> None:
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    customer = await _subscribed_customer(shop, OLA)
    before = _metadata(shop, customer)
    await shop.mc("PATCH", f"/lists/{news}/members/{OLA}", {"interests": {shop.ids["Veg"]: True}})
    await _fire(shop, "profile", {"email": OLA})
    # Deactivated before the worker applies the event received.
    response = await shop.client.put(
        "/api/audiences/settings",
        json={"active_list_ids": [deals], "default_list_id": deals},
        headers=shop.headers,
    )
    assert response.status_code == 200, response.text
    await shop.work()

    assert _metadata(shop, customer) == before
    async with shop.services.db.session() as session:
        state = await session.scalar(select(ContactState).where(ContactState.email == OLA))
        assert state is not None and state.interests == []


async def test_a_leaving_from_a_deactivated_audience_is_recorded_not_written(
    newsletter: Shop,
) -> None:
    """Recorded, activating News again leaves the customer unsubscribed; the app writes no
    status of an audience it does not sync to the customer."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, OLA)
    url = await _deactivated(shop)
    shop.mailchimp.set_member_status(shop.account, news, OLA, "unsubscribed")
    before = _metadata(shop, customer)

    await _post(shop, url, "unsubscribe", "2026-01-01 00:00:00", email=OLA, reason="manual")
    await shop.work()

    assert (await _rows(shop))[OLA] == ("unsubscribed", customer.global_id)
    assert _metadata(shop, customer) == before

    await shop.configure(active_list_ids=[news, shop.ids["deals"]], default_list_id=news)
    await shop.saleor.update_customer(customer, first_name="Ola")
    await shop.work()
    assert shop.member(news, OLA).status == "unsubscribed"
    assert (await _rows(shop))[OLA][0] == "unsubscribed"
