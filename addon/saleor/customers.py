"""A staff page's customer, by id: the one read of a customer's e-mail address that the
customer panel's endpoints share (subscriptions, erasure), with one mapping of Saleor's
failures to the app's errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from addon.errors import ErrorCode, NotFound, UpstreamUnavailable
from addon.saleor.client import SaleorClient, SaleorError, SaleorPermissionDenied, SaleorQueryError

__all__ = ["account_confirmed", "customer_email"]


async def customer_email(
    saleor: SaleorClient, api_url: str, token: SecretStr, customer_id: str
) -> str:
    """The customer's address as Saleor holds it; `NotFound` when there is no such customer,
    `UpstreamUnavailable` when Saleor refuses the app or cannot answer."""
    try:
        user = await _user(saleor, api_url, token, customer_id)
    except SaleorQueryError as exc:  # an id Saleor cannot even resolve: no such customer
        raise NotFound(
            "This customer does not exist in Saleor.", code=ErrorCode.UNKNOWN_CUSTOMER
        ) from exc
    if not user or not user.get("email"):
        raise NotFound("This customer does not exist in Saleor.", code=ErrorCode.UNKNOWN_CUSTOMER)
    return str(user["email"]).strip()


async def address_holder(
    saleor: SaleorClient, api_url: str, token: SecretStr, email: str
) -> str | None:
    """The id of the customer Saleor has with this address now, if any (`SaleorError` when
    Saleor cannot answer)."""
    data = await saleor.execute(api_url, token, "user_by_email", {"email": email})
    user = data.get("user")
    return str(user["id"]) if user else None


async def account_confirmed(
    saleor: SaleorClient,
    api_url: str,
    token: SecretStr,
    user_id: str,
    email: str,
    *,
    normalize: Callable[[str], str],
) -> bool:
    """Whether the signed-in customer `user_id` confirmed `email`, the address their token
    names (`User.isConfirmed`, and the address still theirs: Saleor's, put in the form `email`
    is in by `normalize`, e.g. an internationalised domain Saleor holds in its ASCII form): a
    token is issued to an unconfirmed account too, when the store allows it
    (`subscriptions_user`). False when
    Saleor shows the app no such customer (deleted since, a staff user); `UpstreamUnavailable`
    when Saleor refuses the app or cannot answer."""
    try:
        user = await _user(saleor, api_url, token, user_id)
    except SaleorQueryError:  # an id Saleor cannot resolve: no such customer
        return False
    if not user or user.get("isConfirmed") is not True:
        return False
    try:
        return normalize(str(user.get("email") or "")) == email
    except ValueError:  # not an address the app takes
        return False


async def _user(
    saleor: SaleorClient, api_url: str, token: SecretStr, user_id: str
) -> dict[str, Any] | None:
    """The customer's `subscriptions_user` read (None: Saleor shows the app no such user);
    `SaleorQueryError` for an id Saleor cannot resolve, `UpstreamUnavailable` when Saleor
    refuses the app or cannot answer."""
    try:
        data = await saleor.execute(api_url, token, "subscriptions_user", {"id": user_id})
    except SaleorPermissionDenied as exc:
        raise UpstreamUnavailable(
            f"Saleor refused the app: {exc}", code=ErrorCode.SALEOR_UNAVAILABLE
        ) from exc
    except SaleorQueryError:
        raise
    except SaleorError as exc:
        raise UpstreamUnavailable(
            f"Saleor did not return the customer: {exc}", code=ErrorCode.SALEOR_UNAVAILABLE
        ) from exc
    user = data.get("user")
    return dict(user) if user else None
