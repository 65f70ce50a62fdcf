"""The E-commerce page's link templates are checked by the server's one rule
(`links.checked_template`): the page asks `POST /api/ecommerce/settings/check` before it saves,
and reads the problems of what is stored (a rule saved before the check) in `GET
/api/ecommerce`'s `settings.problems`, so it never holds a second, divergent copy of the rule."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update

from addon.ecommerce.models import EcommerceSettings
from tests.ecommerce.conftest import Shop

CHECK = "/api/ecommerce/settings/check"
OLD_RULE = {
    "shipping_method": "DHL Express",
    "carrier": "DHL",
    "url_template": "https://www.dhl.com/track?n={number}&lang=en gb",
}

# (field, value, whether the server takes it): cases the page's old regex judged otherwise too.
TEMPLATE_CASES: list[tuple[str, str, bool]] = [
    ("product_url_template", "https://shop.example.com/products/{slug}", True),
    ("product_url_template", "HTTPS://shop.example.com/products/{slug}", True),
    ("product_url_template", "https://shop.example.com:port/{slug}", False),
    ("product_url_template", "https://shop.example.com/ü/{slug}", False),
    ("product_url_template", "https://shop.example.com/a b/{slug}", False),
    ("product_url_template", "https://[::1/{slug}", False),
    ("product_url_template", "shop.example.com/{slug}", False),
    ("product_url_template", "https://shop.example.com/{sku}", False),
    ("checkout_url_template", "https://shop.example.com/cart?link={restore}", True),
    ("checkout_url_template", "https://shop.example.com:99999/cart?t={token}", False),
    ("order_url_template", "https://shop.example.com/orders/{number}", True),
    ("order_url_template", "https://shop.example.com/orders/{number} x", False),
    # Longer than the column holds (`EcommerceSettings`, String(1024)): PostgreSQL would refuse
    # the save's write with a 500.
    ("product_url_template", "https://shop.example.com/" + "p" * 1000 + "/{slug}", False),
    ("checkout_url_template", "https://shop.example.com/" + "c" * 1000 + "?l={restore}", False),
    ("order_url_template", "https://shop.example.com/" + "o" * 1000 + "/{number}", False),
]


async def _stored_rules(shop: Shop, rules: list[dict[str, Any]]) -> None:
    async with shop.services.db.transaction() as session:
        await session.execute(update(EcommerceSettings).values(tracking_rules=rules))


@pytest.mark.parametrize(("field", "value", "taken"), TEMPLATE_CASES)
async def test_the_check_says_what_the_save_does(
    shop: Shop, field: str, value: str, taken: bool
) -> None:
    check = await shop.api("POST", CHECK, {field: value})
    assert check.status_code == 200, check.text
    problems = check.json()["problems"]
    saved = await shop.api("PATCH", "/api/ecommerce/settings", {field: value})
    assert saved.status_code == (200 if taken else 422), saved.text
    if taken:
        assert problems == []
    else:
        [problem] = problems
        assert (problem["field"], problem["row"], problem["column"]) == (field, None, None)
        assert problem["message"] == saved.json()["error"]["message"]


async def test_each_rule_is_checked_at_its_row(shop: Shop) -> None:
    rules = [
        {"shipping_method": "Express", "carrier": "DHL", "url_template": "https://t.example/{n}"},
        {"shipping_method": "", "carrier": "", "url_template": None},
        {"shipping_method": "Post", "carrier": "PP", "url_template": "https://t.example/{number}"},
    ]
    answer = await shop.api("POST", CHECK, {"tracking_rules": rules})
    assert answer.status_code == 200, answer.text
    found = [(p["field"], p["row"], p["column"]) for p in answer.json()["problems"]]
    assert found == [
        ("tracking_rules", 0, "url_template"),
        ("tracking_rules", 1, "carrier"),
    ]
    twice = [
        {"shipping_method": "DHL", "carrier": "DHL", "url_template": None},
        {"shipping_method": "dhl", "carrier": "DHL 2", "url_template": None},
    ]
    answer = await shop.api("POST", CHECK, {"tracking_rules": twice})
    [problem] = answer.json()["problems"]
    assert (problem["field"], problem["row"]) == ("tracking_rules", None)
    assert "two rules" in problem["message"]


async def test_the_promo_redemption_link_is_checked_as_its_save_checks_it(shop: Shop) -> None:
    bad = "https://shop.example.com/cart?promo={code}&x=a b"
    answer = await shop.api("POST", CHECK, {"redemption_url_template": bad})
    [problem] = answer.json()["problems"]
    refused = await shop.api(
        "PUT", "/api/ecommerce/promos", {"offer": "all", "redemption_url_template": bad}
    )
    assert refused.status_code == 422
    assert problem["field"] == "redemption_url_template"
    assert problem["message"] == refused.json()["error"]["message"]


async def test_a_stored_rule_the_check_refuses_is_read_with_its_problem(shop: Shop) -> None:
    await _stored_rules(shop, [{"shipping_method": "", "carrier": "UPS"}, OLD_RULE])
    page = await shop.api("GET", "/api/ecommerce")
    assert page.status_code == 200, page.text
    settings = page.json()["settings"]
    assert settings["tracking_rules"][1] == OLD_RULE
    [problem] = settings["problems"]
    assert (problem["field"], problem["row"], problem["column"]) == (
        "tracking_rules",
        1,
        "url_template",
    )
    assert "must make a full link" in problem["message"]
    # Another field saves; the rule and its problem stay until the admin fixes it.
    saved = await shop.api("PATCH", "/api/ecommerce/settings", {"store_email": "a@grocer.example"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["settings"]["problems"] == settings["problems"]
    fixed = dict(OLD_RULE, url_template="https://www.dhl.com/track?n={number}")
    saved = await shop.api("PATCH", "/api/ecommerce/settings", {"tracking_rules": [fixed]})
    assert saved.status_code == 200, saved.text
    assert saved.json()["settings"]["problems"] == []
