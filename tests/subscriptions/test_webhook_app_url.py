"""The app moved to a new APP_URL: its audience webhooks are told by their path (installation
and secret), whatever the host. Before, they were matched by their full URL: the registration
added one at the new URL and left the one at the old, so every change was delivered twice (to a
host the app left, until Mailchimp disabled it), and the uninstallation's clean-up deleted only
the one at the current URL, the other staying in the merchant's Mailchimp."""

from __future__ import annotations

from starlette.types import Receive, Scope, Send

from addon.connection.service import mailchimp_for
from addon.subscriptions.own_webhooks import delete_own_webhooks
from sandboxes.transport import HostRoutingTransport
from tests.subscriptions.conftest import Shop


async def _answers_ok(scope: Scope, receive: Receive, send: Send) -> None:
    """Another deployment of the app (Mailchimp checks a webhook's URL when it is added)."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _move_app(shop: Shop, network: HostRoutingTransport) -> None:
    """The operator moves the app to http://moved.test (the old host no longer answers)."""
    app = network.remove("app.test")
    network.add("moved.test", app)
    network.add("app.test", app)  # (the tests' client still calls it there)
    settings = shop.services.settings.model_copy(update={"app_url": "http://moved.test"})
    object.__setattr__(shop.services, "settings", settings)


def _installation_id(url: str) -> int:
    return int(url.split("/mailchimp-webhook/")[1].split("/")[0])


async def test_a_moved_app_url_leaves_one_webhook_per_audience_at_the_new_url(
    newsletter: Shop, network: HostRoutingTransport
) -> None:
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    [before] = shop.mailchimp.webhooks(shop.account, news)
    assert before.url.startswith("http://app.test/api/subscriptions/mailchimp-webhook/")
    # Another deployment's webhook with the same installation id (its own secret) stays.
    network.add("other.test", _answers_ok)
    installation_id = _installation_id(before.url)
    foreign = f"http://other.test/api/subscriptions/mailchimp-webhook/{installation_id}/x"
    await shop.mc("POST", f"/lists/{news}/webhooks", {"url": foreign})

    _move_app(shop, network)
    await shop.configure(
        active_list_ids=[news, deals], default_list_id=news, offered_category_ids=[]
    )

    moved = before.url.replace("http://app.test", "http://moved.test")
    urls = sorted(h.url for h in shop.mailchimp.webhooks(shop.account, news))
    assert urls == sorted([foreign, moved])
    [hook] = shop.mailchimp.webhooks(shop.account, deals)
    assert hook.url.startswith("http://moved.test/")


async def test_the_uninstall_clean_up_deletes_the_webhooks_left_at_a_former_url(
    newsletter: Shop, network: HostRoutingTransport
) -> None:
    shop = newsletter
    news, deals = shop.ids["news"], shop.ids["deals"]
    [hook] = shop.mailchimp.webhooks(shop.account, news)
    installation_id = _installation_id(hook.url)
    _move_app(shop, network)  # uninstalled before any registration at the new URL ran

    async with mailchimp_for(shop.services, installation_id) as client:
        deleted = await delete_own_webhooks(shop.services, client, installation_id)

    assert deleted == 2
    assert shop.mailchimp.webhooks(shop.account, news) == []
    assert shop.mailchimp.webhooks(shop.account, deals) == []
