"""Connected sites, their script, and a store's abandoned-cart automation (answers are checked
against the spec by the autouse `mailchimp_responses` fixture)."""

from __future__ import annotations

import httpx

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount, sites
from tests.sandbox_mailchimp.helpers import create_list, create_store


async def test_a_store_made_through_the_api_has_a_connected_site(
    client: httpx.AsyncClient,
) -> None:
    store = await create_store(client, await create_list(client))
    assert store["connected_site"]["site_foreign_id"] == "store-1"
    script = store["connected_site"]["site_script"]
    assert script["url"].startswith("https://chimpstatic.com/mcjs-connected/js/users/")
    assert script["url"] in script["fragment"]
    site = (await client.get("/connected-sites/store-1")).json()
    assert site["store_id"] == "store-1"
    assert site["domain"] == "shop.acme.test"
    assert site["site_script"] == script
    listing = (await client.get("/connected-sites")).json()
    assert [s["foreign_id"] for s in listing["sites"]] == ["store-1"]
    assert (await client.delete("/ecommerce/stores/store-1")).status_code == 204
    assert (await client.get("/connected-sites/store-1")).status_code == 404


async def test_the_abandoned_cart_automation_is_reported_as_mailchimp_sets_it(
    client: httpx.AsyncClient, sandbox: MailchimpSandbox, account: SandboxAccount
) -> None:
    await create_store(client, await create_list(client))
    store = (await client.get("/ecommerce/stores/store-1")).json()
    assert store["automations"]["abandoned_cart"] == {"is_supported": True}
    assert store["is_syncing"] is False
    sites.set_abandoned_cart(sandbox, account.id, "store-1", status="sending")
    cart = (await client.get("/ecommerce/stores/store-1")).json()["automations"]["abandoned_cart"]
    assert cart["status"] == "sending" and cart["is_supported"] is True and cart["id"]
    sites.set_abandoned_cart(sandbox, account.id, "store-1", status="paused")
    paused = (await client.get("/ecommerce/stores/store-1")).json()["automations"]
    assert paused["abandoned_cart"] == {**cart, "status": "paused"}  # the same automation
    sites.set_abandoned_cart(sandbox, account.id, "store-1", status=None)
    gone = (await client.get("/ecommerce/stores/store-1")).json()["automations"]
    assert gone["abandoned_cart"] == {"is_supported": True}
    patched = await client.patch("/ecommerce/stores/store-1", json={"is_syncing": True})
    assert patched.json()["is_syncing"] is True


async def test_verifying_the_script_needs_it_on_the_site(
    client: httpx.AsyncClient, sandbox: MailchimpSandbox, account: SandboxAccount
) -> None:
    await create_store(client, await create_list(client))
    path = "/connected-sites/store-1/actions/verify-script-installation"
    refused = await client.post(path)
    assert refused.status_code == 400
    assert "not found" in refused.json()["detail"]
    sites.set_script_installed(sandbox, account.id, "store-1")
    verified = await client.post(path)
    assert verified.status_code == 204 and verified.content == b""
    new_url = sites.change_site_script(sandbox, account.id, "store-1")
    store = (await client.get("/ecommerce/stores/store-1")).json()
    assert store["connected_site"]["site_script"]["url"] == new_url
    assert (await client.post(path)).status_code == 400  # the storefront loads the old one
    assert (
        await client.post("/connected-sites/nope/actions/verify-script-installation")
    ).status_code == 404


async def test_sites_added_by_hand(client: httpx.AsyncClient) -> None:
    missing = await client.post("/connected-sites", json={"foreign_id": "site-9"})
    assert missing.status_code == 400
    assert missing.json()["errors"][0] == {
        "field": "",
        "message": "Required fields were not provided: domain",
    }
    made = await client.post("/connected-sites", json={"foreign_id": "site-9", "domain": "a.test"})
    assert made.status_code == 200 and made.json()["store_id"] == ""
    again = await client.post("/connected-sites", json={"foreign_id": "site-9", "domain": "a.test"})
    assert again.status_code == 400
    assert (await client.delete("/connected-sites/site-9")).status_code == 204
    assert (await client.get("/connected-sites/site-9")).status_code == 404


async def test_a_stores_site_can_be_deleted_and_the_store_stays(
    client: httpx.AsyncClient,
) -> None:
    # Mailchimp lets a store's site be disconnected while the store stays (sites.py's docstring).
    await create_store(client, await create_list(client))
    assert (await client.delete("/connected-sites/store-1")).status_code == 204
    assert (await client.get("/connected-sites/store-1")).status_code == 404
    store = await client.get("/ecommerce/stores/store-1")
    assert store.status_code == 200 and "connected_site" not in store.json()
    path = "/connected-sites/store-1/actions/verify-script-installation"
    assert (await client.post(path)).status_code == 404
    assert (await client.delete("/connected-sites/store-1")).status_code == 404
    assert (await client.delete("/ecommerce/stores/store-1")).status_code == 204
