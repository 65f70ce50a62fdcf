"""HTTP: the public storefront API, the admin's customer API, Mailchimp's audience webhook."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import PlainTextResponse
from starlette.routing import Match
from starlette.types import Scope

from addon.db.ids import DbId
from addon.dependencies import ServicesDep, SessionDep, service_dependency
from addon.errors import ErrorCode, NotFound, Unauthorized, Unprocessable, error_responses
from addon.installations.dashboard_auth import DashboardContext, require_dashboard
from addon.installations.models import Installation
from addon.installations.repository import InstallationRepository
from addon.installations.signing_keys import KeyState, SigningKeys
from addon.openapi import raises
from addon.saleor.customers import current_account
from addon.saleor.jws import verify_customer_token
from addon.subscriptions.admin import AdminSubscriptionService
from addon.subscriptions.cors import STOREFRONT_PREFIX, StorefrontRoute
from addon.subscriptions.mailchimp_hooks import check_secret, receive_event
from addon.subscriptions.own_webhooks import WEBHOOK_PATH
from addon.subscriptions.ratelimit import StorefrontLimits
from addon.subscriptions.schemas import (
    AccountHolder,
    AdminChange,
    ChangeAccepted,
    CustomerSubscriptions,
    MySubscriptions,
    MySubscriptionsUpdate,
    Offer,
    SubscribeAccepted,
    SubscribeRequest,
    normalize_email,
)
from addon.subscriptions.storefront import StorefrontService

# StorefrontRoute answers 403 ORIGIN_NOT_ALLOWED to browsers from origins the store does not allow.
storefront = APIRouter(
    prefix=STOREFRONT_PREFIX, route_class=StorefrontRoute, responses=error_responses(403)
)
admin = APIRouter(prefix="/api/subscriptions/customers")
mailchimp_webhook = APIRouter(prefix=WEBHOOK_PATH)


@raises(404, 429)
async def storefront_installation(
    request: Request,
    services: ServicesDep,
    saleor_api_url: Annotated[str, Query(max_length=512)],
) -> Installation:
    """The installation the storefront names, after the per-address rate limit.

    The limits and the customer's token are checked in short transactions of their own, before
    the request's transaction starts (see subscriptions.ratelimit), so the installation is read
    outside it too; the endpoints use only its id.
    """
    client = request.client.host if request.client else "unknown"
    await StorefrontLimits(services).check_address(client)
    async with services.db.session() as read:
        installation = await InstallationRepository(read).get_by_api_url(saleor_api_url)
    if installation is None or not installation.is_active:
        raise NotFound(
            "No store with this Saleor API URL uses the app.", code=ErrorCode.UNKNOWN_STORE
        )
    return installation


StoreDep = Annotated[Installation, Depends(storefront_installation)]


@raises(401, 502, required_headers=("authorization",))
async def signed_in_customer(
    services: ServicesDep,
    installation: StoreDep,
    authorization: Annotated[str | None, Header()] = None,
) -> AccountHolder:
    """The customer whose Saleor access token came as `Authorization: Bearer`, at their address
    as Saleor holds it now, and whether they confirmed their account (`AccountHolder`)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "Sign in first: send the customer's Saleor access token as a Bearer token.",
            code=ErrorCode.MISSING_AUTHENTICATION,
        )
    signing_keys = SigningKeys(services.db, services.settings, services.saleor)
    customer = await signing_keys.verify_token(
        KeyState.of(installation),
        lambda jwks: verify_customer_token(jwks, token.strip(), installation.saleor_api_url),
        when_expired="sign in again",
    )
    # Read from Saleor on each request, before the request's transaction (as the keys above):
    # the token keeps the address it was issued with, one the customer has since given up
    # (`confirmEmailChange`) included, and says nothing of a confirmation.
    account = (
        await current_account(
            services.saleor, installation.saleor_api_url, installation.app_token, customer.user_id
        )
        if customer.user_id is not None
        else None
    )
    if account is not None and not account.active:
        # Saleor itself refuses a deactivated account's tokens (saleor/core/jwt.py
        # `get_user_from_payload`); one issued before stays valid until it expires.
        raise Unauthorized(
            "This account is deactivated: sign in again.", code=ErrorCode.INVALID_TOKEN
        )
    try:
        # Saleor shows the app no such customer (deleted since, a staff user): the token's
        # address, proving nothing, as before the account was read.
        email = normalize_email(account.email if account else customer.email)
    except ValueError as exc:
        raise Unprocessable(
            "Your account's e-mail address cannot be used for newsletters; change it first.",
            code=ErrorCode.INVALID_EMAIL,
        ) from exc
    confirmed = account is not None and account.confirmed
    return AccountHolder(email=email, user_id=customer.user_id, confirmed=confirmed)


Customer = Annotated[AccountHolder, Depends(signed_in_customer)]
Storefront = Annotated[StorefrontService, service_dependency(StorefrontService)]


class _PreflightRoute(StorefrontRoute):
    """The preflight of every storefront path, for OPTIONS alone: its catch-all path must not
    make another method's request to a path no route has "not allowed" (405) instead of not
    found (404), as Starlette answers a route matching the path but not the method."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        return (Match.NONE, {}) if match is Match.PARTIAL else (match, child)


async def preflight(path: str) -> Response:
    del path
    return Response(status_code=204)


# A path no route can match (e.g. with a line break) is not found.
storefront.add_api_route(
    "/{path:path}",
    preflight,
    methods=["OPTIONS"],
    status_code=204,
    responses=error_responses(404),
    route_class_override=_PreflightRoute,
)


@storefront.get("/newsletter")
async def read_offer(installation: StoreDep, service: Storefront) -> Offer:
    return await service.offer(installation)


@storefront.post("/subscribe", status_code=202, responses=error_responses(409, 429))
async def subscribe(
    body: SubscribeRequest,
    installation: StoreDep,
    services: ServicesDep,
    service: Storefront,
) -> SubscribeAccepted:
    await StorefrontLimits(services).check_email(installation.id, body.email)
    return await service.subscribe(installation, body)


@storefront.get("/me/subscriptions")
async def read_mine(
    customer: Customer, installation: StoreDep, service: Storefront
) -> MySubscriptions:
    return await service.mine(installation, customer)


@storefront.put("/me/subscriptions", status_code=202, responses=error_responses(409, 429))
async def change_mine(
    body: MySubscriptionsUpdate,
    customer: Customer,
    installation: StoreDep,
    services: ServicesDep,
    service: Storefront,
) -> ChangeAccepted:
    # Read in a session of its own: the request's holds the database's write turn once used,
    # which the count's own transaction then waits for.
    async with services.db.session() as session:
        adds = await StorefrontService(session, services).adds_anything(
            installation, customer, body
        )
    if adds:
        # Leaving and withdrawing are never held back (`adds_anything`).
        who = customer.user_id or customer.email
        await StorefrontLimits(services).check_account(installation.id, who)
    return await service.change_mine(installation, customer, body)


# --- admin (the customer panel in the dashboard) ---------------------------------------------

UsersAdmin = Annotated[DashboardContext, Depends(require_dashboard("MANAGE_USERS"))]
Admin = Annotated[AdminSubscriptionService, service_dependency(AdminSubscriptionService)]


@admin.get("/{customer_id}", responses=error_responses(404, 502))
async def read_customer(
    customer_id: str, auth: UsersAdmin, service: Admin
) -> CustomerSubscriptions:
    return await service.read(auth.installation, customer_id)


@admin.post("/{customer_id}", status_code=202, responses=error_responses(400, 404, 409, 502))
async def change_customer(
    customer_id: str,
    body: AdminChange,
    auth: UsersAdmin,
    service: Admin,
) -> ChangeAccepted:
    return await service.change(auth.installation, customer_id, body)


# --- Mailchimp's audience webhook -------------------------------------------------------------


# What Mailchimp gets back: a plain "ok".
_RECEIVED: dict[int | str, dict[str, Any]] = {
    200: {"description": "Received.", "content": {"text/plain": {"schema": {"type": "string"}}}}
}


# `{secret:path}`: a secret holding `%2F` (decoded before routing: a segment more) reaches the
# handler and is answered as any wrong secret, not with a 404 of the router's the POST does not
# declare. The app's secrets are URL-safe tokens: none holds a slash.
@mailchimp_webhook.get(
    "/{installation_id}/{secret:path}",
    response_class=PlainTextResponse,
    responses={**_RECEIVED, **error_responses(404)},
)
async def mailchimp_check(installation_id: DbId, secret: str, session: SessionDep) -> Response:
    """Mailchimp checks the URL with a GET when the webhook is registered."""
    await check_secret(session, installation_id, secret)
    return Response("ok", media_type="text/plain")


@mailchimp_webhook.post(
    "/{installation_id}/{secret:path}",
    response_class=PlainTextResponse,
    responses={**_RECEIVED, **error_responses(400, 410)},
)
async def mailchimp_event(
    installation_id: DbId, secret: str, request: Request, session: SessionDep
) -> Response:
    await receive_event(session, installation_id, secret, await request.body())
    return Response("ok", media_type="text/plain")
