"""The Mailchimp sandbox refuses an e-commerce link that is not a full URL wherever a body gives
one: a product's and a variant's page and picture, a product image, a cart's checkout link.
Mailchimp refuses such an `order_url` ("order_url: That is not a valid URL: /view-order/5374/",
mailchimp/mc-woocommerce#217); its spec types every such field alike (a string titled URL), so
the sandbox holds them all to that check, the stricter reading (`order_checks.Link`). An empty
one is taken: the app clears a page or picture Saleor no longer gives with it."""

from __future__ import annotations

import httpx
import pytest

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount

from .app_examples import build_world
from .helpers import order_body, product_body
from .test_core import assert_problem

STORE = "/ecommerce/stores/store-1"
BAD = ["/products/p9", "https://shop.acme.test/products/jabłko", "https://shop.acme.test/a b"]


def _refused(answer: httpx.Response, field: str, url: str) -> None:
    doc = assert_problem(answer, 400, "Invalid Resource")
    assert doc["errors"] == [{"field": field, "message": f"That is not a valid URL: {url}"}]


@pytest.mark.parametrize("url", BAD)
async def test_a_product_link_must_be_a_full_url(
    sandbox: MailchimpSandbox, account: SandboxAccount, client: httpx.AsyncClient, url: str
) -> None:
    await build_world(sandbox, account, client)
    product = product_body("p9")
    _refused(await client.post(f"{STORE}/products", json={**product, "url": url}), "url", url)
    picture = {**product, "image_url": url}
    _refused(await client.post(f"{STORE}/products", json=picture), "image_url", url)
    variant = {**product["variants"][0], "url": url}
    _refused(
        await client.post(f"{STORE}/products", json={**product, "variants": [variant]}),
        "variants.item:0.url",
        url,
    )
    assert (await client.get(f"{STORE}/products/p9")).status_code == 404
    _refused(await client.patch(f"{STORE}/products/p1", json={"url": url}), "url", url)
    variants = f"{STORE}/products/p1/variants"
    put = {"id": "v1", "title": "Variant v1", "image_url": url}
    _refused(await client.put(f"{variants}/v1", json=put), "image_url", url)
    _refused(await client.patch(f"{variants}/v1", json={"url": url}), "url", url)
    kept = (await client.get(f"{STORE}/products/p1")).json()
    assert kept["url"] == "https://shop.acme.test/products/p1"


@pytest.mark.parametrize("url", BAD)
async def test_a_carts_checkout_link_must_be_a_full_url(
    sandbox: MailchimpSandbox, account: SandboxAccount, client: httpx.AsyncClient, url: str
) -> None:
    await build_world(sandbox, account, client)
    cart = {**order_body("cart9"), "customer": {"id": "c1"}}
    body = {k: cart[k] for k in ("id", "customer", "currency_code", "order_total", "lines")}
    answer = await client.post(f"{STORE}/carts", json={**body, "checkout_url": url})
    _refused(answer, "checkout_url", url)
    answer = await client.patch(f"{STORE}/carts/cart1", json={"checkout_url": url})
    _refused(answer, "checkout_url", url)


async def test_encoded_and_empty_links_are_taken(
    sandbox: MailchimpSandbox, account: SandboxAccount, client: httpx.AsyncClient
) -> None:
    await build_world(sandbox, account, client)
    url = "https://shop.acme.test/products/jab%C5%82ko?c=%2F"
    answer = await client.patch(f"{STORE}/products/p1", json={"url": url, "image_url": ""})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["url"], answer.json()["image_url"]) == (url, "")
