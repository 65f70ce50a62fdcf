"""A promo code's `redemption_url` must be a full link. The spec titles it "Redemption Url",
"The url that should be used in the promotion campaign" (`E_commerce_Promo_Code_1`), typed as a
string without a format, as an order's `order_url`, which Mailchimp refuses when it is not a
full URL (mailchimp/mc-woocommerce#217): the sandbox holds it to that check, the stricter
reading (sandboxes' promos.py). Unlike a product's page, it is required, so never empty."""

from __future__ import annotations

import httpx
import pytest

from .helpers import create_list, create_store
from .test_core import assert_problem
from .test_promos import RULES, code_body, rule_body

CODES = f"{RULES}/r1/promo-codes"
BAD = [
    "/cart?promo=SUMMER10",
    "shop.test/cart",
    "ftp://shop.test/cart",
    "https://shop.test/cart?promo=SUMMER 10",
    "https://shop.test /cart",
    "https://sklep.test/jabłko",
    "https://",
]


def _refused(answer: httpx.Response, url: str) -> None:
    doc = assert_problem(answer, 400, "Invalid Resource")
    assert doc["errors"] == [
        {"field": "redemption_url", "message": f"That is not a valid URL: {url}"}
    ]


@pytest.mark.parametrize("url", BAD)
async def test_a_codes_redemption_url_must_be_a_full_url(
    client: httpx.AsyncClient, url: str
) -> None:
    await create_store(client, await create_list(client))
    assert (await client.post(RULES, json=rule_body())).status_code == 200
    _refused(await client.post(CODES, json=code_body(redemption_url=url)), url)
    assert_problem(await client.get(f"{CODES}/c1"), 404, "Resource Not Found")
    held = await client.post(CODES, json=code_body())
    assert held.status_code == 200, held.text
    _refused(await client.patch(f"{CODES}/c1", json={"redemption_url": url}), url)
    kept = (await client.get(f"{CODES}/c1")).json()
    assert kept["redemption_url"] == "https://shop.test/"


async def test_a_full_redemption_url_is_taken(client: httpx.AsyncClient) -> None:
    await create_store(client, await create_list(client))
    assert (await client.post(RULES, json=rule_body())).status_code == 200
    url = "https://shop.test:8443/cart?promo=SUMMER%2010&c=default-channel"
    held = await client.post(CODES, json=code_body(redemption_url=url))
    assert held.status_code == 200, held.text
    assert held.json()["redemption_url"] == url
