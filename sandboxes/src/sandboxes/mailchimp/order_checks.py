"""What Mailchimp refuses in an order or a cart besides its shape: a campaign not sent to the
store's audience, a link that is not a full URL, a free-shipping code not sent as one."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from .bodies import BodyIn
from .errors import bad_request, field_invalid
from .routing import ApiRequest
from .state import StoreData


class PromoIn(BodyIn):
    """An order's promo (OpenAPI `Promos_inner_1`): all three required, `type` an enum."""

    code: str
    amount_discounted: float
    type: Literal["fixed", "percentage"]


def check_campaign(request: ApiRequest, data: StoreData, campaign_id: str) -> None:
    """An order's or a cart's campaign must be one sent to the store's audience. Mailchimp
    refuses any other with 400 and "A campaign with the provided ID does not exist in the
    account for this list." as its `detail`, no field error (mailchimp/mc-magento#879: a
    campaign of another audience refused; mailchimp/mc-woocommerce#348; ibericode's MC4WP
    reads the detail to retry without the campaign)."""
    if campaign_id and request.account.campaigns.get(campaign_id) != data.info.list_id:
        raise bad_request(
            "A campaign with the provided ID does not exist in the account for this list."
        )


def _free_shipping(rule: dict[str, Any]) -> bool:
    """A free-shipping promo rule: the spec's `E_commerce_Promo_Rule_1.type` says "For free
    shipping set type to fixed", so a `shipping` rule of a fixed 0 is free shipping."""
    return bool(
        rule.get("target") == "shipping" and rule.get("type") == "fixed" and not rule.get("amount")
    )


def check_order_url(request: ApiRequest) -> None:
    """An order's `order_url`, when the body gives one, must be a full link: Mailchimp refused
    a path alone ("order_url: That is not a valid URL: /view-order/5374/",
    mailchimp/mc-woocommerce#217), which Mailchimp for WooCommerce then checked before sending
    (`setOrderURL`: `wp_http_validate_url`) and never sends empty (`toArray`:
    `mailchimp_array_remove_empty`). An empty one is refused too, the stricter side: nothing
    says Mailchimp takes it. Checked as PHP's FILTER_VALIDATE_URL checks the essentials: a
    scheme (here http or https), a host, a valid port, printable ASCII without white space."""
    url = request.json_object().get("order_url")
    if url is None:
        return
    if not _full(url):
        raise field_invalid("order_url", f"That is not a valid URL: {url}")


def _full(url: object) -> bool:
    if not isinstance(url, str) or not url.isascii() or not url.isprintable():
        return False
    if any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # `port` raises for one out of range
    except ValueError:  # an unclosed IPv6 bracket, a port that is not a number
        return False
    return parts.scheme in ("http", "https") and bool(host)


def _link(url: str) -> str:
    if url and not _full(url):
        raise PydanticCustomError("url", "That is not a valid URL: {url}", {"url": url})
    return url


# A product's and a variant's page and picture, a product image's, a cart's checkout link: the
# spec types each as an order's `order_url` (a string titled URL, no format), so each is held
# to the check Mailchimp makes of that one (`check_order_url`), the stricter reading. An empty
# one is taken: nothing says Mailchimp refuses it, and the app clears a page or picture Saleor
# no longer gives so (`payloads.CLEARED_WHEN_ABSENT`).
Link = Annotated[str, AfterValidator(_link)]


def check_promos(data: StoreData, promos: list[PromoIn]) -> None:
    """An order's promo with a code of a free-shipping rule of the store: the spec's
    `Promos_inner_1` says "For free shipping set amount_discounted to 0" and "For free shipping
    set type to fixed". Not documented as a refusal, chosen as the stricter side (a code the
    store does not hold cannot be told apart, so it is not checked)."""
    free = {
        code.get("code")
        for held in data.promo_rules.values()
        if _free_shipping(held.rule)
        for code in held.codes.values()
    }
    for index, promo in enumerate(promos):
        if promo.code not in free:
            continue
        if promo.amount_discounted != 0:
            raise field_invalid(
                f"promos.{index}.amount_discounted", "For free shipping set amount_discounted to 0"
            )
        if promo.type != "fixed":
            raise field_invalid(f"promos.{index}.type", "For free shipping set type to fixed")
