"""The admin's redemption link template is checked at save time by the rule the push applies
(`links.fill_url`, as `promo_payloads.redemption_url` fills it): a template the push would
replace by the store's address is refused with words the admin can act on, and the app never
sends Mailchimp a code's `redemption_url` that is no full link (the Mailchimp sandbox refuses
one, as Mailchimp refuses such an `order_url`)."""

from __future__ import annotations

import pytest

from addon.ecommerce.links import full_url
from addon.ecommerce.promo_payloads import code_input, redemption_url
from addon.ecommerce.promo_schemas import VoucherCode
from tests.ecommerce.conftest import TEMPLATE, Shop

PROMOS = "/api/ecommerce/promos"

# Each begins as a link to a host, which the old check (`^https?://[^/\s]+`) took, then makes
# no full link once filled: the push used the store's address instead, without a word.
NO_FULL_LINK = [
    "https://shop.example.com/cart?promo={code} now",
    "https://shop.example.com/my cart?promo={code}",
    "https://shop.example.com/cart?promo={code}&note=żółw",
    "https://shop.example.com:99999/cart?promo={code}",
    "https://shop.example.com\t/cart?promo={code}",
]


@pytest.mark.parametrize("template", NO_FULL_LINK)
async def test_a_template_that_fills_to_no_full_link_is_refused(shop: Shop, template: str) -> None:
    saved = await shop.api("PUT", PROMOS, {"offer": "all", "redemption_url_template": TEMPLATE})
    assert saved.status_code == 200, saved.text
    answer = await shop.api("PUT", PROMOS, {"offer": "all", "redemption_url_template": template})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "INVALID_INPUT"
    message = error["message"]
    assert message.startswith("Redemption URL template must make a full link"), message
    assert "no spaces" in message and "%20" in message, message
    kept = (await shop.api("GET", PROMOS)).json()["settings"]
    assert kept["redemption_url_template"] == TEMPLATE


@pytest.mark.parametrize(
    "template",
    [
        "shop.example.com/cart?promo={code}",
        "ftp://shop.example.com/cart?promo={code}",
        "https:///cart?promo={code}",
    ],
)
async def test_a_template_without_a_host_is_refused_in_the_same_words(
    shop: Shop, template: str
) -> None:
    answer = await shop.api("PUT", PROMOS, {"offer": "all", "redemption_url_template": template})
    assert answer.status_code == 422, answer.text
    message = answer.json()["error"]["message"]
    assert message.startswith("Redemption URL template must make a full link"), message
    assert "https://shop.example.com/cart?promo={code}" in message  # an example to follow


@pytest.mark.parametrize(
    "template",
    [
        "https://shop.example.com/cart?promo={code}",
        "https://shop.example.com/{channel}/cart?promo={code}&note=%C5%BC",
        "http://localhost:8000/cart/{code}",
        "  https://shop.example.com/promo/{code}  ",
    ],
)
async def test_a_template_that_fills_to_a_full_link_is_saved(shop: Shop, template: str) -> None:
    answer = await shop.api("PUT", PROMOS, {"offer": "all", "redemption_url_template": template})
    assert answer.status_code == 200, answer.text
    assert answer.json()["settings"]["redemption_url_template"] == template.strip()


async def test_an_unknown_placeholder_is_still_named(shop: Shop) -> None:
    body = {"offer": "all", "redemption_url_template": "https://s.example/?p={coupon}"}
    answer = await shop.api("PUT", PROMOS, body)
    assert answer.status_code == 422, answer.text
    assert "{coupon}" in answer.json()["error"]["message"]


def test_a_store_address_that_is_no_full_link_is_never_sent() -> None:
    """The fallback (`https://<the store's domain>/`) is checked as the template is: a domain
    Saleor gives that makes no full link leaves the code out rather than have Mailchimp refuse
    it (its `redemption_url` is required)."""
    code = VoucherCode(id="Vm91Y2hlckNvZGU6MQ==", code="SPRING", used=0)
    for fallback in ("https://sklep.example/", "https://shop.example.com/"):
        url = redemption_url("https://shop.example.com/c?p={code} x", "SPRING", "pl", fallback)
        assert url == fallback and full_url(url) == url
    bad = "https://sklep żółw.example/"
    assert redemption_url(None, "SPRING", "pl", bad) is None
    assert redemption_url("https://s.example/?p={code} x", "SPRING", "pl", bad) is None
    assert code_input(code, None, 0) is None
    sent = code_input(code, redemption_url(None, "SPRING", "pl", "https://s.example/"), 0)
    assert sent is not None and sent.redemption_url == "https://s.example/"
