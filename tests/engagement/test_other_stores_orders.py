"""Orders of another store on the same Mailchimp account were counted as the customer's: the
collector reads `GET /ecommerce/orders?campaign_id=`, which lists the whole account's orders
(spec: "Get information about an account's orders"), and kept every one whatever its store.
Only the orders of the installation's own Mailchimp stores count."""

from __future__ import annotations

import json

from addon.engagement import repository
from addon.engagement.metadata import SUMMARY_KEY
from tests.engagement.conftest import ALICE, Engagement
from tests.sandbox_mailchimp.helpers import order_body, product_body


async def test_other_stores_orders_are_not_this_customers_saleor_orders(e: Engagement) -> None:
    """The account also holds another shop (a second Saleor, a staging one, a Shopify store);
    it has an order of Alice's address attributed to the same campaign."""
    campaign = e.send("Spring sale", e.at(days=-2))
    await e.order("o-1", ALICE, campaign, 42.5)  # this Saleor's store
    mc, account = e.shop.mailchimp, e.shop.account
    other = await mc.call(account, "POST", "/ecommerce/stores", body={
        "id": "someone-elses-shop", "list_id": e.shop.list_id, "name": "Other shop",
        "currency_code": "USD", "platform": "Shopify", "domain": "other.example",
        "email_address": "shop@other.example", "money_format": "$",
    })  # fmt: skip
    assert other.status == 200, other.body
    made = await mc.call(
        account, "POST", "/ecommerce/stores/someone-elses-shop/products", body=product_body()
    )
    assert made.status == 200, made.body
    body = order_body("X-900", campaign_id=campaign, order_total=500.0)
    body["customer"] = {**body["customer"], "id": "x-cust", "email_address": ALICE}
    made = await mc.call(account, "POST", "/ecommerce/stores/someone-elses-shop/orders", body=body)
    assert made.status == 200, made.body

    await e.collect()

    async with e.services.db.session() as session:
        alice = await repository.customer_engagement(
            session, e.installation_id, e.customers[ALICE].global_id
        )
    assert alice is not None
    assert [o.order_id for o in alice.attributed_orders] == ["o-1"]
    summary = json.loads(e.private(ALICE)[SUMMARY_KEY])
    assert (summary["attributed_orders"], summary["attributed_revenue"]) == (1, {"USD": "42.50"})
