"""A customer by id, as Saleor holds them now: a staff page's (the one read of a customer's
e-mail address that the customer panel's endpoints share: subscriptions, erasure) and the
account page's signed-in customer, with one mapping of Saleor's failures to the app's errors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

from addon.errors import ErrorCode, NotFound, UpstreamUnavailable
from addon.saleor.client import SaleorClient, SaleorError, SaleorPermissionDenied, SaleorQueryError

__all__ = ["CurrentAccount", "current_account", "customer_email"]


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


class CurrentAccount(BaseModel):
    """A signed-in customer's account as Saleor holds it now (`subscriptions_user`): their
    address, and whether they confirmed the account (`User.isConfirmed`)."""

    model_config = ConfigDict(frozen=True)

    email: str
    confirmed: bool
    active: bool = True  # False: staff deactivated it (`User.isActive`)


async def current_account(
    saleor: SaleorClient,
    api_url: str,
    token: SecretStr,
    user_id: str,
) -> CurrentAccount | None:
    """The signed-in customer `user_id`'s address as Saleor holds it now, and whether they
    confirmed their account (`User.isConfirmed`). For the account page to read on each request:
    an access token keeps the address it was issued with for its whole life, though the customer
    confirmed a change of address since (`confirmEmailChange`), and says nothing of the
    confirmation (Saleor issues tokens to an unconfirmed account too, when the store allows it).
    None when Saleor shows the app no such customer (deleted since, a staff user);
    `UpstreamUnavailable` when Saleor refuses the app or cannot answer."""
    try:
        user = await _user(saleor, api_url, token, user_id)
    except SaleorQueryError:  # an id Saleor cannot resolve: no such customer
        return None
    if not user or not user.get("email"):
        return None
    return CurrentAccount(
        email=str(user["email"]).strip(),
        confirmed=user.get("isConfirmed") is True,
        active=user.get("isActive") is not False,
    )


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
