"""Mailchimp → store through audience webhooks; priority rules; the admin's customer API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from addon.subscriptions.metadata import CONSENT_SUBSCRIBE, EMAIL_PREFIX, GROUPS_PREFIX
from addon.subscriptions.metadata import STATUS_PREFIX as STATUS
from addon.subscriptions.models import ContactState
from addon.subscriptions.repository import ContactRepository
from tests.conftest import APP_URL, RecordingTransport, dashboard_headers
from tests.subscriptions.conftest import Shop
from tests.test_saleor_versions import stored


async def _subscribed_customer(shop: Shop, email: str) -> Any:
    """A registered customer who consented to the default audience ("News")."""
    customer = await shop.saleor.create_customer(
        email, metadata={CONSENT_SUBSCRIBE: "true"}, is_confirmed=True
    )
    await shop.work()
    assert shop.member(shop.ids["news"], email).status == "subscribed"
    return customer


async def _account_page(shop: Shop, customer: Any, list_id: str, *, subscribed: bool) -> None:
    """The customer's own choice on the storefront's account page (a fresh consent, or not)."""
    token = shop.saleor.mint_customer_token(shop.saleor.store.get_customer(customer.id))
    response = await shop.client.put(
        "/api/storefront/me/subscriptions",
        params={"saleor_api_url": shop.saleor.api_url},
        headers={"Authorization": f"Bearer {token}"},
        json={"audiences": [{"list_id": list_id, "subscribed": subscribed}]},
    )
    assert response.status_code == 202


async def _unsubscribed_in_mailchimp(shop: Shop, email: str) -> Any:
    """A subscribed customer who then unsubscribed in Mailchimp (News), the app told so."""
    customer = await _subscribed_customer(shop, email)
    news = shop.ids["news"]
    await shop.mc("PATCH", f"/lists/{news}/members/{email}", {"status": "unsubscribed"})
    await _fire(shop, "unsubscribe", {"email": email})
    await shop.work()
    return customer


def _metadata(shop: Shop, customer: Any) -> dict[str, str]:
    return dict(shop.saleor.store.get_customer(customer.id).metadata)


async def _fire(shop: Shop, event: str, data: dict[str, Any], source: str = "user") -> None:
    responses = await shop.mailchimp.fire_list_webhook(
        shop.account, shop.ids["news"], event, data, source=source
    )
    assert responses and all(r.status_code == 200 for r in responses)


async def test_audience_webhooks_registered_on_active_audiences_only_for_people(
    newsletter: Shop,
) -> None:
    shop = newsletter
    for list_id in (shop.ids["news"], shop.ids["deals"]):
        [hook] = shop.mailchimp.webhooks(shop.account, list_id)
        assert hook.sources.user and hook.sources.admin and not hook.sources.api
        assert all(getattr(hook.events, e) for e in ("subscribe", "unsubscribe", "profile"))
        assert hook.events.cleaned and hook.events.upemail
    # Dropping an audience from the offer removes its webhook; the secret URL is required.
    await shop.configure(active_list_ids=[shop.ids["news"]])
    assert shop.mailchimp.webhooks(shop.account, shop.ids["deals"]) == []
    url = shop.mailchimp.webhooks(shop.account, shop.ids["news"])[0].url
    assert (await shop.client.get(url)).status_code == 200
    assert (await shop.client.get(url[:-3] + "abc")).status_code == 404
    # A delivery to a webhook the app does not have is gone for good: Mailchimp disables it.
    assert (
        await shop.client.post(url[:-3] + "abc", data={"type": "unsubscribe"})
    ).status_code == 410
    # A made-up secret with non-ASCII characters is just as unknown (once a 500).
    assert (await shop.client.get(url[:-3] + "%C3%A9")).status_code == 404


async def test_unsubscribe_cleaned_profile_and_upemail_reach_saleor_metadata(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, "ola@example.com")
    assert _metadata(shop, customer)[STATUS + news] == "subscribed"

    # Profile: the contact picks a group on Mailchimp's preference page.
    await shop.mc(
        "PATCH", f"/lists/{news}/members/ola@example.com", {"interests": {shop.ids["Veg"]: True}}
    )
    await _fire(shop, "profile", {"email": "ola@example.com"})
    await shop.work()
    assert _metadata(shop, customer)[GROUPS_PREFIX + news] == shop.ids["Veg"]

    # upemail: the address changes in Mailchimp; the state follows the same customer.
    await shop.mc(
        "PATCH", f"/lists/{news}/members/ola@example.com", {"email_address": "ola@new.example"}
    )
    await _fire(
        shop,
        "upemail",
        {"old_email": "ola@example.com", "new_email": "ola@new.example", "new_id": "x"},
    )
    await shop.work()
    assert _metadata(shop, customer)[EMAIL_PREFIX + news] == "ola@new.example"

    shop.mailchimp.set_member_status(shop.account, news, "ola@new.example", "unsubscribed")
    await _fire(shop, "unsubscribe", {"email": "ola@new.example", "reason": "manual"})
    await shop.work()
    assert _metadata(shop, customer)[STATUS + news] == "unsubscribed"

    other = await _subscribed_customer(shop, "pia@example.com")
    shop.mailchimp.set_member_status(shop.account, news, "pia@example.com", "cleaned")
    await _fire(shop, "cleaned", {"email": "pia@example.com", "reason": "hard"}, source="admin")
    await shop.work()
    assert _metadata(shop, other)[STATUS + news] == "cleaned"


async def _deleted_by_an_admin(shop: Shop, email: str) -> None:
    """An admin deletes (archives) the contact in Mailchimp, which says so by webhook."""
    await shop.mc("DELETE", f"/lists/{shop.ids['news']}/members/{email}")
    await _fire(
        shop,
        "unsubscribe",
        {"action": "delete", "reason": "manual", "email": email},
        source="admin",
    )


async def test_a_contact_an_admin_deleted_in_mailchimp_is_archived_not_unsubscribed(
    newsletter: Shop,
) -> None:
    """Mailchimp sends `unsubscribe` with `data[action]=delete` when an admin archives a contact
    (Mailchimp's webhooks guide): not the shopper's refusal, so staff may subscribe them again."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, "ida@example.com")
    await _deleted_by_an_admin(shop, "ida@example.com")
    await shop.work()
    assert _metadata(shop, customer)[STATUS + news] == "archived"
    # One who had unsubscribed keeps that when an admin then archives them (a clean-up).
    other = await _subscribed_customer(shop, "ula@example.com")
    await shop.mc("PATCH", f"/lists/{news}/members/ula@example.com", {"status": "unsubscribed"})
    await _fire(shop, "unsubscribe", {"action": "unsub", "email": "ula@example.com"})
    await _deleted_by_an_admin(shop, "ula@example.com")
    await shop.work()
    assert _metadata(shop, other)[STATUS + news] == "unsubscribed"

    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    url = f"/api/subscriptions/customers/{customer.global_id}"
    panel = (await shop.client.get(url, headers=headers)).json()
    [audience] = [a for a in panel["audiences"] if a["list_id"] == news]
    assert audience["can_subscribe"] is True and audience["subscribe_blocked_reason"] is None
    response = await shop.client.post(
        url, json={"list_id": news, "action": "subscribe"}, headers=headers
    )
    assert response.status_code == 202, response.text
    await shop.work()
    assert shop.member(news, "ida@example.com").status == "subscribed"


async def test_unsubscribed_contact_is_not_resubscribed_without_fresh_consent(
    newsletter: Shop,
) -> None:
    shop = newsletter
    news = shop.ids["news"]
    customer = await _unsubscribed_in_mailchimp(shop, "quinn@example.com")

    # An admin subscribing them is not their consent: refused, with why and what can be done.
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    url = f"/api/subscriptions/customers/{customer.global_id}"
    response = await shop.client.post(
        url, json={"list_id": news, "action": "subscribe"}, headers=headers
    )
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "CONSENT_REQUIRED"
    assert error["message"].startswith("This customer unsubscribed from News")
    assert "storefront" in error["message"]
    assert await shop.work() == 0  # nothing was queued
    assert shop.member(news, "quinn@example.com").status == "unsubscribed"
    panel = (await shop.client.get(url, headers=headers)).json()
    [audience] = [a for a in panel["audiences"] if a["list_id"] == news]
    assert audience["can_subscribe"] is False
    assert audience["subscribe_blocked_reason"] == error["message"]

    # Their own fresh consent (on the account page) asks for confirmation: pending.
    await _account_page(shop, customer, news, subscribed=True)
    await shop.work()
    assert shop.member(news, "quinn@example.com").status == "pending"
    assert "quinn@example.com" in [c.email_address for c in shop.mailchimp.confirmations]


async def test_forgotten_email_is_reported_not_retried(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await _subscribed_customer(shop, "rae@example.com")
    await shop.mc("POST", f"/lists/{news}/members/rae@example.com/actions/delete-permanent")
    response = await shop.client.post(
        "/api/storefront/subscribe",
        params={"saleor_api_url": shop.saleor.api_url},
        json={"email": "rae@example.com"},
    )
    assert response.status_code == 202
    await shop.work()
    assert shop.member(news, "rae@example.com") is None
    from sqlalchemy import select

    from addon.jobs.models import Job, JobStatus
    from addon.subscriptions.models import ContactState

    async with shop.services.db.session() as session:
        jobs = (
            await session.execute(select(Job).where(Job.kind == "subscriptions.apply"))
        ).scalars()
        assert all(j.status is JobStatus.DONE and j.attempts == 1 for j in jobs)
        state = (
            await session.execute(
                select(ContactState).where(ContactState.email == "rae@example.com")
            )
        ).scalar_one()
    assert state.last_problem is not None and "forgot" in state.last_problem


async def test_an_address_mailchimp_refuses_is_reported_not_retried(newsletter: Shop) -> None:
    """Mailchimp refuses some addresses (verbb/formie#2276): as fake (refused again whenever
    sent), or "for now" (too many signups). The contact says why and the change is not retried
    in its lane (it would hold the contact's other changes back); one refused "for now" is asked
    again later (tests/subscriptions/test_for_now.py)."""
    from sqlalchemy import select

    from addon.jobs.models import Job, JobStatus
    from addon.subscriptions.models import ContactState

    shop = newsletter
    shop.mailchimp.refuse_address(shop.account, "bot@example.com")
    shop.mailchimp.refuse_address(shop.account, "busy@example.com", "signups")
    for email in ("bot@example.com", "busy@example.com"):
        response = await shop.client.post(
            "/api/storefront/subscribe",
            params={"saleor_api_url": shop.saleor.api_url},
            json={"email": email},
        )
        assert response.status_code == 202
    await shop.work()
    async with shop.services.db.session() as session:
        jobs = list(
            (await session.execute(select(Job).where(Job.kind == "subscriptions.apply"))).scalars()
        )
        states = {
            s.email: s.last_problem for s in (await session.execute(select(ContactState))).scalars()
        }
    assert len(jobs) == 2 and all(j.status is JobStatus.DONE and j.attempts == 1 for j in jobs)
    assert "fake or invalid" in (states["bot@example.com"] or "")
    assert "signed up to many audiences very recently" in (states["busy@example.com"] or "")
    for email in ("bot@example.com", "busy@example.com"):
        assert shop.member(shop.ids["news"], email) is None


@pytest.mark.parametrize("priority", ["mailchimp_wins", "store_wins"])
async def test_conflicting_changes_follow_the_priority(newsletter: Shop, priority: str) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await shop.configure(
        active_list_ids=[news],
        offered_category_ids=[shop.ids["topics"]],
        priority=priority,
    )
    customer = await _subscribed_customer(shop, "sam@example.com")
    fruit, veg = shop.ids["Fruit"], shop.ids["Veg"]

    # The admin puts them in "Fruit" while, in Mailchimp, they choose "Veg".
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    response = await shop.client.post(
        f"/api/subscriptions/customers/{customer.global_id}",
        json={"list_id": news, "action": "set_groups", "groups": [fruit]},
        headers=headers,
    )
    assert response.status_code == 202
    await shop.mc("PATCH", f"/lists/{news}/members/sam@example.com", {"interests": {veg: True}})
    await _fire(shop, "profile", {"email": "sam@example.com"})
    await shop.work()

    member = shop.member(news, "sam@example.com")
    chosen = {i for i, on in member.interests.items() if on}
    if priority == "mailchimp_wins":
        assert chosen == {veg}
        assert _metadata(shop, customer)[GROUPS_PREFIX + news] == veg
    else:
        assert chosen == {fruit}
        assert _metadata(shop, customer)[GROUPS_PREFIX + news] == fruit


async def test_admin_panel_reads_and_edits_a_customer(newsletter: Shop) -> None:
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    customer = await _subscribed_customer(shop, "tia@example.com")
    headers = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_USERS"])
    url = f"/api/subscriptions/customers/{customer.global_id}"

    panel = (await shop.client.get(url, headers=headers)).json()
    assert panel["email"] == "tia@example.com"
    by_list = {a["list_id"]: a for a in panel["audiences"]}
    assert by_list[news]["status"] == "subscribed" and by_list[news]["tags"] == ["saleor"]
    assert by_list[news]["last_change_source"] == "registration"
    assert {p["text"] for p in by_list[news]["marketing_permissions"]} >= {"Email"}
    assert by_list[deals]["status"] == "none"

    for body in (
        {"list_id": deals, "action": "subscribe"},
        {"list_id": news, "action": "set_groups", "groups": [shop.ids["Veg"]]},
    ):
        assert (await shop.client.post(url, json=body, headers=headers)).status_code == 202
    await shop.work()
    assert shop.member(deals, "tia@example.com").status == "pending"  # double opt-in audience
    assert shop.member(news, "tia@example.com").interests[shop.ids["Veg"]] is True
    await shop.client.post(url, json={"list_id": news, "action": "unsubscribe"}, headers=headers)
    await shop.work()
    assert shop.member(news, "tia@example.com").status == "unsubscribed"
    panel = (await shop.client.get(url, headers=headers)).json()
    assert {a["list_id"]: a for a in panel["audiences"]}[news]["last_change_source"] == "admin"

    no_users = dashboard_headers(shop.saleor, shop.app, user_permissions=["MANAGE_APPS"])
    assert (await shop.client.get(url, headers=no_users)).status_code == 403


async def test_manifest_mounts_the_customer_panel(newsletter: Shop) -> None:
    manifest = (await newsletter.client.get("/api/manifest")).json()
    [panel] = [e for e in manifest["extensions"] if e["url"].endswith("/app/customer-panel")]
    assert panel["mount"] == "CUSTOMER_DETAILS_MORE_ACTIONS" and panel["target"] == "POPUP"
    assert panel["permissions"] == ["MANAGE_USERS"]
    assert panel["url"].startswith("http://app.test/")


class _RefusingConfirmation(httpx.AsyncBaseTransport):
    """Mailchimp refusing to set a member pending too ("Member In Compliance State")."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method not in ("PATCH", "PUT") or b'"pending"' not in request.content:
            return await self.inner.handle_async_request(request)
        problem = {
            "type": "https://mailchimp.com/developer/marketing/docs/errors/",
            "title": "Member In Compliance State",
            "status": 400,
            "detail": "quinn@example.com is in a compliance state due to unsubscribe, bounce, "
            "or compliance review and cannot be subscribed.",
            "instance": "",
        }
        return httpx.Response(
            400, json=problem, headers={"content-type": "application/problem+json"}
        )


async def test_a_confirmation_mailchimp_refuses_is_reported_not_asked_again(
    newsletter: Shop, outbound: RecordingTransport
) -> None:
    """The shopper's fresh consent asks an unsubscribed contact to confirm (pending); where
    Mailchimp refuses that too, the contact says so and the job ends."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _unsubscribed_in_mailchimp(shop, "quinn@example.com")
    outbound.inner = _RefusingConfirmation(outbound.inner)

    await _account_page(shop, customer, news, subscribed=True)
    await shop.work()

    pending = [r for r in outbound.requests if r.method == "PATCH" and b'"pending"' in r.content]
    assert len(pending) == 1  # asked once, not again at once nor by retries
    installation = await stored(shop.services)
    assert installation is not None
    async with shop.services.db.session() as session:
        [state] = [
            s
            for s in await ContactRepository(session).for_email(
                installation.id, "quinn@example.com"
            )
            if s.list_id == news
        ]
    assert "refused to ask them to confirm" in (state.last_problem or "")
    assert shop.member(news, "quinn@example.com").status == "unsubscribed"


async def test_a_confirmation_refused_for_an_archived_contact_is_reported_too(
    newsletter: Shop, outbound: RecordingTransport
) -> None:
    """An archived contact is added again (PUT); refused there and in the PATCH after it."""
    shop = newsletter
    deals = shop.ids["deals"]  # double opt-in: the shopper is asked to confirm (pending)
    customer = await _subscribed_customer(shop, "quinn@example.com")
    await shop.mc(
        "PUT",
        f"/lists/{deals}/members/quinn@example.com",
        {"email_address": "quinn@example.com", "status_if_new": "subscribed"},
    )
    await shop.mc("DELETE", f"/lists/{deals}/members/quinn@example.com")  # archived
    outbound.inner = _RefusingConfirmation(outbound.inner)

    await _account_page(shop, customer, deals, subscribed=True)
    await shop.work()

    installation = await stored(shop.services)
    assert installation is not None
    async with shop.services.db.session() as session:
        state = await ContactRepository(session).get(installation.id, deals, "quinn@example.com")
    assert state is not None and "refused to ask them to confirm" in (state.last_problem or "")


async def test_a_webhook_of_an_audience_the_store_does_not_have_changes_nothing(
    newsletter: Shop,
) -> None:
    """An audience of another account (connected before, its webhook left there) posts with
    the installation's secret: its contacts are not the store's."""
    shop = newsletter
    customer = await _subscribed_customer(shop, "ola@example.com")
    url = shop.mailchimp.webhooks(shop.account, shop.ids["news"])[0].url
    form = {"type": "unsubscribe", "data[email]": "ola@example.com", "data[list_id]": "other1"}
    response = await shop.client.post(url, data=form)
    assert response.status_code == 200
    await shop.work()
    assert not any(k.endswith("other1") for k in _metadata(shop, customer))
    async with shop.services.db.session() as session:
        assert (
            await session.scalar(select(ContactState).where(ContactState.list_id == "other1"))
            is None
        )


async def test_mailchimp_stops_delivering_to_an_uninstalled_app(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    await _subscribed_customer(shop, "ola@example.com")
    [delivery] = await shop.saleor.uninstall_app(shop.app)
    assert delivery.status_code == 200
    [response] = await shop.mailchimp.fire_list_webhook(
        shop.account, news, "unsubscribe", {"email": "ola@example.com"}
    )
    assert response.status_code == 410
    # Disabled: Mailchimp sends it nothing more.
    assert (
        await shop.mailchimp.fire_list_webhook(
            shop.account, news, "unsubscribe", {"email": "ola@example.com"}
        )
        == []
    )


async def test_an_uninstall_deletes_the_apps_audience_webhooks(newsletter: Shop) -> None:
    shop = newsletter
    news = shop.ids["news"]
    # Another installation's (of another Saleor) on the same audience.
    elsewhere = f"{APP_URL}/api/subscriptions/mailchimp-webhook/999999/another-secret"
    other = {"url": elsewhere, "events": {"subscribe": True}}
    shop.mailchimp.verify_webhook_urls = False  # this app answers no other installation's GET
    await shop.mc("POST", f"/lists/{news}/webhooks", other)
    assert len((await shop.mc("GET", f"/lists/{news}/webhooks"))["webhooks"]) == 2

    await shop.saleor.uninstall_app(shop.app)
    await shop.work()

    [left] = (await shop.mc("GET", f"/lists/{news}/webhooks"))["webhooks"]
    assert left["url"] == other["url"]  # someone else's


async def test_an_unsubscribe_delivered_after_the_contact_came_back_leaves_them_subscribed(
    newsletter: Shop,
) -> None:
    """Mailchimp retries a failed delivery for 75 minutes: the unsubscribe may arrive after
    the contact subscribed again. The member as Mailchimp holds it now wins."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, "ola@example.com")
    await shop.mc("PATCH", f"/lists/{news}/members/ola@example.com", {"status": "unsubscribed"})
    # Back through Mailchimp's confirmation (an unsubscribed contact cannot simply be put back).
    await shop.mc("PATCH", f"/lists/{news}/members/ola@example.com", {"status": "pending"})
    shop.mailchimp.set_member_status(shop.account, news, "ola@example.com", "subscribed")
    await _fire(shop, "unsubscribe", {"email": "ola@example.com", "action": "unsub"})
    await shop.work()
    assert _metadata(shop, customer)[STATUS + news] == "subscribed"
    async with shop.services.db.session() as session:
        state = await session.scalar(
            select(ContactState).where(ContactState.email == "ola@example.com")
        )
        assert state is not None and state.status == "subscribed"


async def test_an_unsubscribe_is_applied_though_mailchimp_cannot_be_read(newsletter: Shop) -> None:
    """The member read before an unsubscribe is a check, never a condition: Mailchimp failing
    it (an outage, a 429) must not lose the unsubscribe."""
    shop = newsletter
    news = shop.ids["news"]
    customer = await _subscribed_customer(shop, "ola@example.com")
    shop.mailchimp.set_member_status(shop.account, news, "ola@example.com", "unsubscribed")
    shop.mailchimp.faults.outage(account=shop.account)
    await _fire(shop, "unsubscribe", {"email": "ola@example.com", "action": "unsub"})
    await shop.work()
    assert _metadata(shop, customer)[STATUS + news] == "unsubscribed"


async def test_an_unsubscribe_is_sent_though_mailchimp_changed_the_contact_meanwhile(
    newsletter: Shop,
) -> None:
    """Under "Mailchimp wins", a store change is dropped when the contact changed in Mailchimp
    since: never an opt-out, which is kept whichever side it comes from."""
    shop = newsletter
    news = shop.ids["news"]
    await shop.configure(active_list_ids=[news], priority="mailchimp_wins")
    customer = await _subscribed_customer(shop, "sam@example.com")
    # Staff fix the member's first name in Mailchimp; before the worker applies it, the
    # customer unsubscribes on the account page.
    await shop.mc(
        "PATCH", f"/lists/{news}/members/sam@example.com", {"merge_fields": {"FNAME": "Sam"}}
    )
    await _fire(shop, "profile", {"email": "sam@example.com"}, source="admin")
    await _account_page(shop, customer, news, subscribed=False)
    await shop.work()

    assert shop.member(news, "sam@example.com").status == "unsubscribed"
    assert _metadata(shop, customer)[STATUS + news] == "unsubscribed"
