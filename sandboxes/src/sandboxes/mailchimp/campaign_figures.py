"""What a sent campaign's activity adds up to in the sandbox: the opens, clicks and bounces
its report and summary show, their rates over the delivered, and the orders attributed to it
(the rules, and where the real API states them, are in `campaigns.py`'s docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .campaign_state import CampaignData
from .state import AccountData


@dataclass
class Figures:
    opens: int = 0
    unique_opens: int = 0
    clicks: int = 0
    unique_clicks: int = 0
    subscriber_clicks: int = 0
    hard: int = 0
    soft: int = 0
    last_open: float | None = None
    last_click: float | None = None


def figures(campaign: CampaignData) -> Figures:
    f = Figures()
    for events in campaign.activity.values():
        opened = clicked = False
        urls: set[str] = set()
        bounces = {e.bounce_type for e in events if e.action == "bounce"}
        # One bounced address per recipient, hard if any of its bounces was (`campaigns.py`).
        f.hard += "hard" in bounces
        f.soft += bool(bounces) and "hard" not in bounces
        for event in events:
            if event.action == "open":
                f.opens += 1
                opened = True
                f.last_open = max(f.last_open or event.at, event.at)
            elif event.action == "click":
                f.clicks += 1
                clicked = True
                urls.add(event.url)
                f.last_click = max(f.last_click or event.at, event.at)
        f.unique_opens += opened
        f.subscriber_clicks += clicked
        f.unique_clicks += len(urls)
    return f


def rate(part: int, campaign: CampaignData, f: Figures) -> float:
    delivered = len(campaign.recipients) - f.hard - f.soft
    return round(part / delivered, 4) if delivered > 0 else 0.0


def ecommerce_totals(account: AccountData, campaign_id: str) -> dict[str, Any]:
    """What the orders the store pushed with this campaign's id add up to (the e-commerce
    module keeps them; nothing is stored twice). As the spec (`E_Commerce_Report`) defines
    them: `total_spent` "the sum of all order totals with no deductions", `total_revenue` "the
    sum of all order totals minus shipping and tax totals"."""
    orders = [
        o for store in account.stores.values() for o in store.orders.values()
        if o.campaign_id == campaign_id
    ]  # fmt: skip
    total = round(sum(o.order_total for o in orders), 2)
    revenue = round(sum(o.order_total - o.shipping_total - o.tax_total for o in orders), 2)
    currency = orders[0].currency_code if orders else next(
        (s.info.currency_code for s in account.stores.values()), "USD"
    )  # fmt: skip
    return {
        "total_orders": len(orders),
        "total_spent": total,
        "total_revenue": revenue,
        "currency_code": currency,
    }
