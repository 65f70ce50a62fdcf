"""``SaleorSandbox``: an in-process Saleor instance for tests and offline demos.

It installs apps the way Saleor does (manifest, auth token handshake, webhooks), serves JWKS and
a GraphQL API over an ASGI app (:attr:`SaleorSandbox.app`), keeps a store of channels,
customers, products, checkouts and orders, and delivers webhooks signed exactly like Saleor's.
Outbound requests (to the app) go through the ``transport`` given at construction, so the whole
exchange can run in memory with :class:`~sandboxes.transport.HostRoutingTransport`.

Typical use::

    saleor = SaleorSandbox(transport=HostRoutingTransport({"app.test": app}))
    transport.add("saleor.test", saleor.app)
    installed = await saleor.install_app("http://app.test/api/manifest")
    customer = await saleor.create_customer("ann@example.com")   # emits CUSTOMER_CREATED
"""

from __future__ import annotations

import inspect
import json
import secrets
import time
from collections.abc import Awaitable, Sequence
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from types import CoroutineType
from typing import Any, TypeGuard

import httpx
import jwt
from graphql import DocumentNode, ExecutionResult, GraphQLError, execute, parse, validate
from starlette.applications import Starlette

from .asgi import build_asgi_app
from .executor import SandboxExecutor
from .fulfillments import FulfillmentEvent, create_fulfillment, set_tracking_number
from .generator import generate_store
from .ids import InvalidGlobalId, pk_from_global_id
from .keys import KeyRing, SigningKey
from .models import (
    Address,
    Channel,
    Checkout,
    Customer,
    Fulfillment,
    GrantedRefund,
    Order,
    OrderChargeStatus,
    OrderDiscount,
    OrderLine,
    OrderStatus,
    Product,
    ProductVariant,
    SandboxApp,
    TransactionEvent,
    TransactionEventType,
    TransactionItem,
    WebhookConfig,
    utcnow,
)
from .payment_actions import (
    capture_legacy_payment,
    create_transaction,
    grant_refund,
    refund_legacy_payment,
    report_event,
    request_refund,
)
from .schema import (
    ALL_PERMISSIONS,
    ApiContext,
    EventRoot,
    Viewer,
    default_resolver,
    sandbox_schema,
)
from .store import LineSpec, SaleorStore, VariantSpec, mark_paid
from .versions import (
    CURRENT_VERSION,
    PLAYABLE_VERSIONS,
    schema_version,
    sends_own_lifecycle_events,
)
from .vouchers import SandboxVouchers
from .webhooks import (
    Delivery,
    event_type_name,
    events_from_query,
    payload_field,
    required_permission,
)

DEFAULT_MANAGE_PERMISSIONS: tuple[str, ...] = tuple(
    p for p in ALL_PERMISSIONS if p.startswith("MANAGE_")
)
"""Every ``MANAGE_*`` permission (the default ``user_permissions`` of dashboard tokens)."""

SALEOR_VERSION = CURRENT_VERSION  # the version a sandbox plays unless told otherwise


class InstallationFailed(Exception):
    """The app installation failed; ``message`` is what Saleor would show in the dashboard."""

    def __init__(self, message: str, *, status_code: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code


class SaleorSandbox:
    """An in-memory Saleor: apps, webhooks, JWKS, tokens, GraphQL API and store."""

    def __init__(
        self,
        api_url: str = "http://saleor.test/graphql/",
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        signing_key: SigningKey | None = None,
        key_size: int = 2048,
        timeout: float = 10.0,
        version: str = CURRENT_VERSION,
    ) -> None:
        if version not in PLAYABLE_VERSIONS:
            raise ValueError(f"The sandbox plays Saleor {', '.join(PLAYABLE_VERSIONS)}")
        self.version = version
        """The Saleor it plays (see :mod:`.versions`): its schema, events and version."""
        self.api_url = api_url
        self.transport = transport
        self.timeout = timeout
        self._key_size = key_size
        self.keys = KeyRing(signing_key or SigningKey.generate(key_size))
        self.store = SaleorStore()
        self.deliveries: list[Delivery] = []
        self.app: Starlette = build_asgi_app(self)
        self.vouchers = SandboxVouchers(self)
        """Vouchers and orders placed with their codes (`vouchers.py`)."""

    # -- identity --------------------------------------------------------------------------

    @property
    def domain(self) -> str:
        """``host[:port]`` of the API URL (the ``Saleor-Domain`` header)."""
        return httpx.URL(self.api_url).netloc.decode("ascii")

    @property
    def jwks_url(self) -> str:
        """``<origin of api_url>/.well-known/jwks.json``."""
        url = httpx.URL(self.api_url)
        return str(url.copy_with(path="/.well-known/jwks.json", query=None))

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, timeout=self.timeout)

    # -- keys and signatures -------------------------------------------------------------------

    @property
    def kid(self) -> str:
        """The ``kid`` of the current signing key."""
        return self.keys.current.kid

    def rotate_keys(
        self, keep_previous: bool = False, new_key: SigningKey | None = None
    ) -> SigningKey:
        """Switch to a new signing key (new ``kid``); keep publishing the old one if asked."""
        key = new_key or SigningKey.generate(self._key_size)
        self.keys.rotate(key, keep_previous=keep_previous)
        return key

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JWKS document served at ``/.well-known/jwks.json``."""
        return self.keys.jwks()

    def sign(self, body: bytes) -> str:
        """The ``Saleor-Signature`` of ``body``: detached JWS, unencoded payload (RFC 7797)."""
        return self.keys.current.sign_detached(body)

    # -- tokens ------------------------------------------------------------------------------

    def _staff_user(self, email: str) -> Customer:
        user = self.store.find_customer_by_email(email)
        if user is None:
            user = self.store.create_customer(email, "Admin", "User", is_staff=True)
        return user

    def mint_dashboard_token(
        self,
        app: SandboxApp,
        user_permissions: Sequence[str] = DEFAULT_MANAGE_PERMISSIONS,
        email: str = "admin@example.com",
        expires_in: int = 300,
        is_staff: bool = True,
    ) -> str:
        """The JWT Saleor's dashboard passes to an app's iframe (``type: thirdparty``)."""
        user = self._staff_user(email)
        now = int(time.time())
        claims = {
            "iat": now,
            "owner": "saleor",
            "iss": self.api_url,
            "exp": now + expires_in,
            "token": user.jwt_token_key,
            "email": user.email,
            "type": "thirdparty",
            "user_id": user.global_id,
            "is_staff": is_staff,
            "app": app.global_id,
            "permissions": list(app.permissions),
            "user_permissions": list(user_permissions),
        }
        return self.keys.current.encode_jwt(claims)

    def mint_customer_token(self, customer: Customer, expires_in: int = 300) -> str:
        """A storefront access token (``type: access``) for ``customer``."""
        now = int(time.time())
        claims = {
            "iat": now,
            "owner": "saleor",
            "iss": self.api_url,
            "exp": now + expires_in,
            "token": customer.jwt_token_key,
            "email": customer.email,
            "type": "access",
            "user_id": customer.global_id,
            "is_staff": False,
            "permissions": [],
        }
        return self.keys.current.encode_jwt(claims)

    def _decode_jwt(self, token: str) -> dict[str, Any] | None:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return None
        keys = [k for k in (self.keys.current, self.keys.previous) if k is not None]
        key = next((k for k in keys if k.kid == kid), None)
        if key is None:
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.private_key.public_key(),
                algorithms=["RS256"],
                issuer=self.api_url,
                options={"require": ["exp", "iat"]},
            )
        except jwt.PyJWTError:
            return None
        return claims

    def viewer_for_token(self, token: str | None) -> Viewer:
        """Who a bearer token authenticates (anonymous if unknown, expired or inactive)."""
        if not token:
            return Viewer()
        for app in self.store.apps.values():
            if app.auth_token and secrets.compare_digest(app.auth_token, token):
                return Viewer.for_app(app) if app.is_active else Viewer()
        claims = self._decode_jwt(token) if token.count(".") == 2 else None
        if claims is None:
            return Viewer()
        try:
            user_pk = pk_from_global_id(str(claims.get("user_id", "")), "User")
        except InvalidGlobalId:
            return Viewer()
        user = self.store.customers.get(user_pk)
        if user is None or not user.is_active or user.jwt_token_key != claims.get("token"):
            return Viewer()
        if claims.get("type") == "thirdparty":
            try:
                app_pk = pk_from_global_id(str(claims.get("app", "")), "App")
            except InvalidGlobalId:
                return Viewer()
            token_app = self.store.apps.get(app_pk)
            # Saleor checks the user, not the app, of a `thirdparty` token: it works while the
            # app is deactivated (saleor/core/auth_backend.py, `load_user_from_request`).
            if token_app is None:
                return Viewer()
            granted = set(token_app.permissions) & set(claims.get("user_permissions") or [])
            return Viewer(user=user, is_staff=True, permissions=frozenset(granted))
        if claims.get("type") == "access":
            return Viewer(user=user, is_staff=user.is_staff)
        return Viewer()

    # -- GraphQL ------------------------------------------------------------------------------

    async def handle_graphql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
        *,
        token: str | None = None,
        viewer: Viewer | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Execute a GraphQL request; return ``(http_status, response_body)`` as Saleor would."""
        try:
            document, errors = _checked(query, self.version)
        except GraphQLError as exc:
            return 400, {"errors": [_format_error(exc)]}
        if errors:
            return 400, {"errors": [_format_error(e) for e in errors]}
        context = ApiContext(
            self.store, viewer or self.viewer_for_token(token), saleor_version=self.version
        )
        result = execute(
            sandbox_schema(self.version),
            document,
            variable_values=variables,
            operation_name=operation_name,
            context_value=context,
            field_resolver=default_resolver,
            is_awaitable=_is_coroutine,
            executor_class=SandboxExecutor,
        )
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [_format_error(e) for e in result.errors]
        for event_type, obj in context.pending_events:
            await self.emit(event_type, obj)
        return 200, body

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        app: SandboxApp | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """Run a GraphQL document in-process as ``app`` (or with ``token``); return the body."""
        viewer = Viewer.for_app(app) if app is not None else None
        _, body = await self.handle_graphql(query, variables, token=token, viewer=viewer)
        return body

    # -- apps ----------------------------------------------------------------------------------

    async def install_app(
        self, manifest_url: str, permissions: list[str] | None = None, activate: bool = True
    ) -> SandboxApp:
        """Install the app whose manifest is at ``manifest_url``, as Saleor does.

        Raises :class:`InstallationFailed` if the manifest cannot be fetched or is invalid, or
        if the app rejects the auth token (non-2xx; its ``error.message`` is carried along).
        """
        async with self._client() as client:
            try:
                response = await client.get(manifest_url, follow_redirects=False)
            except httpx.HTTPError as exc:
                raise InstallationFailed(f"Unable to fetch manifest data: {exc}") from exc
            if response.status_code != 200:
                raise InstallationFailed(
                    "Unable to fetch manifest data.", status_code=response.status_code
                )
            try:
                manifest = response.json()
            except ValueError as exc:
                raise InstallationFailed("Incorrect structure of manifest.") from exc
            app = self._app_from_manifest(manifest, manifest_url, permissions, activate)
            self.store.apps[app.id] = app
            try:
                await self._send_app_token(client, app)
            except BaseException:
                self.store.apps.pop(app.id, None)
                raise
        await self.emit("APP_INSTALLED", app)
        return app

    def _app_from_manifest(
        self,
        manifest: Any,
        manifest_url: str,
        permissions: list[str] | None,
        activate: bool,
    ) -> SandboxApp:
        if not isinstance(manifest, dict):
            raise InstallationFailed("Incorrect structure of manifest.")
        missing = [f for f in ("id", "version", "name", "tokenTargetUrl") if not manifest.get(f)]
        if missing:
            raise InstallationFailed(f"Field required: {', '.join(missing)}.", code="REQUIRED")
        granted = list(
            permissions if permissions is not None else manifest.get("permissions") or []
        )
        unknown = [p for p in granted if p not in ALL_PERMISSIONS]
        if unknown:
            raise InstallationFailed(
                f"Given permissions don't exist: {', '.join(unknown)}.", code="INVALID_PERMISSION"
            )
        token_target = str(manifest["tokenTargetUrl"])
        if not _is_absolute(token_target):
            raise InstallationFailed(
                "Incorrect format of tokenTargetUrl.", code="INVALID_URL_FORMAT"
            )
        app_pk = self.store.next_id()
        webhooks = []
        for spec in manifest.get("webhooks") or []:
            target = str(spec.get("targetUrl", ""))
            if not _is_absolute(target):
                raise InstallationFailed("Invalid target url.", code="INVALID_URL_FORMAT")
            query = spec.get("query")
            if query:
                # Saleor validates each subscription against its own schema at installation
                # (saleor/app/manifest_validations.py: `SubscriptionQuery(query).is_valid`, else
                # "Subscription query is not valid: ..."), so a manifest naming a type this
                # version lacks (e.g. CustomerDeleted before 3.23.5) does not install.
                problems = _subscription_problems(str(query), self.version)
                if problems:
                    raise InstallationFailed(
                        "Subscription query is not valid: " + problems, code="INVALID"
                    )
            async_events = list(spec.get("asyncEvents") or [])
            if not async_events and not spec.get("syncEvents") and query:
                async_events = events_from_query(query)
            webhooks.append(
                WebhookConfig(
                    id=self.store.next_id(),
                    app_id=app_pk,
                    name=str(spec.get("name", "")),
                    target_url=target,
                    is_active=bool(spec.get("isActive", True)),
                    async_events=async_events,
                    sync_events=list(spec.get("syncEvents") or []),
                    query=query,
                    custom_headers=dict(spec.get("customHeaders") or {}),
                )
            )
        return SandboxApp(
            id=app_pk,
            name=str(manifest["name"]),
            identifier=str(manifest["id"]),
            version=str(manifest["version"]),
            permissions=granted,
            manifest_url=manifest_url,
            manifest=manifest,
            app_url=manifest.get("appUrl"),
            token_target_url=token_target,
            about_app=manifest.get("about"),
            homepage_url=manifest.get("homepageUrl"),
            support_url=manifest.get("supportUrl"),
            data_privacy_url=manifest.get("dataPrivacyUrl"),
            author=manifest.get("author"),
            is_active=activate,
            auth_token=secrets.token_urlsafe(22)[:30],
            webhooks=webhooks,
        )

    async def _send_app_token(self, client: httpx.AsyncClient, app: SandboxApp) -> None:
        assert app.token_target_url is not None
        headers = {
            "Content-Type": "application/json",
            "Saleor-Domain": self.domain,
            "Saleor-Api-Url": self.api_url,
            # major.minor only (saleor/app/installation_utils.py, send_app_token)
            "Saleor-Schema-Version": schema_version(self.version),
        }
        body = json.dumps({"auth_token": app.auth_token}).encode()
        try:
            response = await client.post(app.token_target_url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise InstallationFailed(
                "Failed to connect to app. Try later or contact with app support."
            ) from exc
        if response.is_success:
            return
        message = f"Client error '{response.status_code}' for url '{app.token_target_url}'"
        code: str | None = None
        try:
            error = response.json()["error"]
            message = str(error["message"])
            code = str(error.get("code")) if error.get("code") is not None else None
        except (ValueError, KeyError, TypeError):
            pass
        raise InstallationFailed(message, status_code=response.status_code, code=code)

    async def set_app_active(self, app: SandboxApp, active: bool) -> list[Delivery]:
        """``appActivate`` / ``appDeactivate``: set the state, then send APP_STATUS_CHANGED as
        the version played does (see :meth:`_lifecycle_event`)."""
        current = self.store.apps[app.id]
        current.is_active = active
        return await self._lifecycle_event("APP_STATUS_CHANGED", current)

    async def uninstall_app(self, app: SandboxApp) -> list[Delivery]:
        """``appDelete``: deactivate the app (its token stops authenticating), send APP_DELETED
        as the version played does, then remove the app and its webhooks."""
        current = self.store.apps[app.id]
        current.is_active = False  # saved before the event fires, as Saleor's appDelete does
        deliveries = await self._lifecycle_event("APP_DELETED", current)
        self.store.apps.pop(current.id, None)
        return deliveries

    async def _lifecycle_event(self, event_type: str, app: SandboxApp) -> list[Delivery]:
        """Since 3.23.5 (saleor/saleor#19160) an app's lifecycle event goes to that app's own
        webhooks only, whatever its state; before, like any event, to the active apps holding
        MANAGE_APPS, and so never to an app just deactivated or deleted."""
        if sends_own_lifecycle_events(self.version):
            return await self.emit(event_type, app, include_app=app, only_app=app)
        return await self.emit(event_type, app)

    def get_app(self, app_id: int | str) -> SandboxApp:
        """An installed app by pk or global ID."""
        pk = app_id if isinstance(app_id, int) else pk_from_global_id(app_id, "App")
        return self.store.apps[pk]

    # -- webhooks ------------------------------------------------------------------------------

    def _recipients(
        self,
        event_type: str,
        include_app: SandboxApp | None,
        only_app: SandboxApp | None = None,
    ) -> list[tuple[SandboxApp, WebhookConfig]]:
        needed = required_permission(event_type)
        targets = []
        for app in list(self.store.apps.values()):
            if only_app is not None and app.id != only_app.id:
                continue
            forced = include_app is not None and app.id == include_app.id
            if not forced and (not app.is_active or (needed and needed not in app.permissions)):
                continue
            for hook in app.webhooks:
                events = hook.async_events
                if hook.is_active and (event_type in events or "ANY_EVENTS" in events):
                    targets.append((app, hook))
        return targets

    async def emit(
        self,
        event_type: str,
        root_object: Any,
        *,
        include_app: SandboxApp | None = None,
        issuing_principal: SandboxApp | Customer | None = None,
        only_app: SandboxApp | None = None,
    ) -> list[Delivery]:
        """Deliver ``event_type`` about ``root_object`` to every subscribed webhook.

        ``root_object`` is the event's subject (an app, order, customer, ...). Apps need the
        event's permission and must be active, except ``include_app``, which always receives
        it (used for lifecycle events about the app itself); with ``only_app``, no other app
        receives it.
        """
        deliveries = []
        for app, hook in self._recipients(event_type, include_app, only_app):
            body, errors = await self.render_payload(
                hook, app, event_type, root_object, issuing_principal
            )
            headers = {
                "Content-Type": "application/json",
                "Saleor-Event": event_type.lower(),
                "Saleor-Domain": self.domain,
                "Saleor-Api-Url": self.api_url,
                "Saleor-Signature": self.sign(body),
                **hook.custom_headers,
            }
            delivery = Delivery(
                event_type=event_type,
                app_id=app.id,
                webhook_id=hook.id,
                target_url=hook.target_url,
                headers=headers,
                body=body,
                error="; ".join(errors) if errors else None,
            )
            deliveries.append(await self._send(delivery))
        return deliveries

    async def render_payload(
        self,
        hook: WebhookConfig,
        app: SandboxApp,
        event_type: str,
        root_object: Any,
        issuing_principal: SandboxApp | Customer | None = None,
    ) -> tuple[bytes, list[str]]:
        """The webhook body: JSON of the subscription's ``event`` data (and any errors)."""
        if not hook.query:
            return b"{}", ["webhooks without a subscription query are not supported"]
        root = EventRoot(
            type_name=event_type_name(event_type),
            issued_at=utcnow(),
            recipient=app,
            payload=_event_payload(event_type, root_object),
            issuing_principal=issuing_principal,
            version=self.version,
        )
        context = ApiContext(self.store, Viewer.for_app(app), saleor_version=self.version)
        result = execute(
            sandbox_schema(self.version),
            _subscription_document(hook.query),
            root_value=root,
            context_value=context,
            field_resolver=default_resolver,
            is_awaitable=_is_coroutine,
            executor_class=SandboxExecutor,
        )
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        data = (result.data or {}).get("event")
        errors = [e.message for e in result.errors or []]
        return json.dumps(data).encode(), errors

    async def _send(self, delivery: Delivery) -> Delivery:
        async with self._client() as client:
            try:
                response = await client.post(
                    delivery.target_url, content=delivery.body, headers=delivery.headers
                )
            except httpx.HTTPError as exc:
                sent = delivery.model_copy(update={"error": f"{type(exc).__name__}: {exc}"})
            else:
                sent = delivery.model_copy(
                    update={"status_code": response.status_code, "response_body": response.content}
                )
        self.deliveries.append(sent)
        return sent

    async def redeliver(self, delivery: Delivery) -> Delivery:
        """Send exactly the same request again (Saleor retries failed deliveries)."""
        fresh = delivery.model_copy(
            update={"status_code": None, "response_body": b"", "error": None, "sent_at": utcnow()}
        )
        return await self._send(fresh)

    # -- store operations that emit events --------------------------------------------------------

    async def add_channel(
        self,
        slug: str,
        name: str | None = None,
        currency_code: str = "USD",
        default_country: str = "US",
    ) -> Channel:
        channel = self.store.add_channel(slug, name, currency_code, default_country)
        await self.emit("CHANNEL_CREATED", channel)
        return channel

    async def create_customer(
        self, email: str, first_name: str = "", last_name: str = "", **fields: Any
    ) -> Customer:
        customer = self.store.create_customer(email, first_name, last_name, **fields)
        await self.emit("CUSTOMER_CREATED", customer)
        return customer

    async def update_customer(self, customer: Customer, **changes: Any) -> Customer:
        updated = self.store.update_customer(customer, **changes)
        await self.emit("CUSTOMER_UPDATED", updated)
        return updated

    async def delete_customer(self, customer: Customer) -> Customer:
        removed = self.store.delete_customer(customer)
        await self.emit("CUSTOMER_DELETED", removed)
        return removed

    async def confirm_email_change(self, customer: Customer, new_email: str) -> Customer:
        """The customer confirmed a new address (``confirmEmailChange``): CUSTOMER_UPDATED, then
        ACCOUNT_EMAIL_CHANGED (saleor/graphql/account/mutations/account/confirm_email_change.py,
        ``post_save_action``; the address is lower-cased there). A staff user's
        ``customerUpdate`` sends CUSTOMER_UPDATED only: :meth:`update_customer`.

        ``newEmail`` of ACCOUNT_EMAIL_CHANGED stays null, as in Saleor: the event's data holds
        only the user (saleor/plugins/webhook/plugin.py ``_trigger_account_event``) and
        ``AccountEmailChanged`` resolves no ``new_email`` from it; ``user.email`` is the new one.
        """
        updated = self.store.update_customer(customer, email=new_email.lower())
        await self.emit("CUSTOMER_UPDATED", updated)
        await self.emit("ACCOUNT_EMAIL_CHANGED", updated)
        return updated

    async def delete_account(self, customer: Customer) -> Customer:
        """The customer deleted their own account (``accountDelete``): ACCOUNT_DELETED, whose
        ``user`` still carries the id and e-mail (saleor/graphql/account/mutations/account/
        account_delete.py restores the id after ``user.delete()``)."""
        removed = self.store.delete_customer(customer)
        await self.emit("ACCOUNT_DELETED", removed)
        return removed

    async def update_customer_metadata(
        self, customer: Customer, metadata: dict[str, str], private: bool = False
    ) -> Customer:
        current = self.store.get_customer(customer.id)
        if private:
            current.private_metadata = {**current.private_metadata, **metadata}
        else:
            current.metadata = {**current.metadata, **metadata}
        await self.emit("CUSTOMER_METADATA_UPDATED", current)
        return current

    async def create_product(
        self, name: str, variants: Sequence[VariantSpec] = (), **fields: Any
    ) -> Product:
        product = self.store.create_product(name, variants, **fields)
        await self.emit("PRODUCT_CREATED", product)
        for variant in product.variants:
            await self.emit("PRODUCT_VARIANT_CREATED", variant)
        return product

    async def update_product(self, product: Product, **changes: Any) -> Product:
        updated = self.store.update_product(product, **changes)
        await self.emit("PRODUCT_UPDATED", updated)
        return updated

    async def update_variant(self, variant: ProductVariant, **changes: Any) -> ProductVariant:
        updated = self.store.update_variant(variant, **changes)
        await self.emit("PRODUCT_VARIANT_UPDATED", updated)
        return updated

    async def delete_product(self, product: Product) -> Product:
        removed = self.store.delete_product(product)
        await self.emit("PRODUCT_DELETED", removed)
        return removed

    async def create_checkout(
        self,
        channel: str | None = None,
        lines: Sequence[LineSpec] = (),
        email: str | None = None,
        customer: Customer | None = None,
        **fields: Any,
    ) -> Checkout:
        checkout = self.store.create_checkout(channel, lines, email, customer, **fields)
        await self.emit("CHECKOUT_CREATED", checkout)
        return checkout

    async def update_checkout(self, checkout: Checkout, **changes: Any) -> Checkout:
        """See :meth:`SaleorStore.update_checkout` (``add_lines``, ``set_quantities``, fields)."""
        updated = self.store.update_checkout(checkout, **changes)
        await self.emit("CHECKOUT_UPDATED", updated)
        return updated

    async def complete_checkout(
        self, checkout: Checkout, paid: bool = True, *, legacy_payment: bool = False
    ) -> Order:
        """``checkoutComplete``: create the order (see :meth:`_order_created`)."""
        order = self.store.complete_checkout(checkout, paid=paid, legacy_payment=legacy_payment)
        return await self._order_created(order)

    async def create_order(
        self, channel: str | None = None, lines: Sequence[OrderLine] = (), **fields: Any
    ) -> Order:
        """An order (``paid`` by a transaction by default; ``legacy_payment=True`` for a legacy
        payment); see :meth:`_order_created`."""
        return await self._order_created(self.store.create_order(channel, lines, **fields))

    async def _order_created(self, order: Order) -> Order:
        """ORDER_CREATED; for an order charged in full also ORDER_PAID, ORDER_FULLY_PAID and
        ORDER_UPDATED (saleor/order/actions.py ``order_created`` → ``order_charged``)."""
        events = ["ORDER_CREATED"]
        if order.charge_status in (OrderChargeStatus.FULL, OrderChargeStatus.OVERCHARGED):
            events += ["ORDER_PAID", "ORDER_FULLY_PAID", "ORDER_UPDATED"]
        return await self._emit_all(events, order)

    async def update_order(self, order: Order, **changes: Any) -> Order:
        updated = self.store.update_order(order, **changes)
        await self.emit("ORDER_UPDATED", updated)
        return updated

    async def _emit_all(self, events: Sequence[str], order: Order) -> Order:
        for event in events:
            await self.emit(event, order)
        return order

    async def mark_order_paid(self, order: Order, *, legacy_payment: bool = False) -> Order:
        """``orderMarkAsPaid``: charge what is due, with a transaction (Saleor's
        TRANSACTION_FLOW) or, with ``legacy_payment``, a manual payment (PAYMENT_FLOW)."""
        current = self.store.get_order(order.id)
        return await self._emit_all(
            mark_paid(current, self.store.next_id, legacy_payment=legacy_payment), current
        )

    async def fulfill_order(
        self,
        order: Order,
        tracking_number: str = "",
        quantities: dict[int, int] | None = None,
    ) -> Order:
        """``orderFulfill`` (of every line, or of ``quantities``: order line pk → quantity):
        one fulfilment with the tracking number, FULFILLMENT_CREATED, then ORDER_UPDATED and,
        once every line is fulfilled, ORDER_FULFILLED (saleor/order/actions.py
        ``order_fulfilled``)."""
        current = self.store.get_order(order.id)
        fulfillment = create_fulfillment(self.store.next_id, current, tracking_number, quantities)
        await self.emit("FULFILLMENT_CREATED", FulfillmentEvent(fulfillment, current))
        events = ["ORDER_UPDATED"]
        if current.status is OrderStatus.FULFILLED:
            events.append("ORDER_FULFILLED")
        return await self._emit_all(events, current)

    async def update_tracking_number(
        self, order: Order, fulfillment: Fulfillment, tracking_number: str
    ) -> Order:
        """``fulfillmentUpdateTracking``: FULFILLMENT_TRACKING_NUMBER_UPDATED and ORDER_UPDATED
        (saleor/order/actions.py ``fulfillment_tracking_updated``)."""
        current = self.store.get_order(order.id)
        updated = set_tracking_number(current, fulfillment.id, tracking_number)
        await self.emit("FULFILLMENT_TRACKING_NUMBER_UPDATED", FulfillmentEvent(updated, current))
        return await self._emit_all(["ORDER_UPDATED"], current)

    async def cancel_order(self, order: Order) -> Order:
        """``orderCancel``: ORDER_CANCELLED and ORDER_UPDATED, the order's stock allocations
        released (saleor/order/actions.py ``cancel_order``). Saleor refuses orders with
        fulfilments that are not cancelled, refunded or returned, and cancelled, draft or
        expired orders (``Order.can_cancel``)."""
        current = self.store.get_order(order.id)
        fulfilled = any(line.quantity_fulfilled for line in current.lines)
        final = (OrderStatus.CANCELED, OrderStatus.DRAFT, OrderStatus.EXPIRED)
        if fulfilled or current.status in final:
            raise ValueError("This order can't be canceled.")
        for line in current.lines:  # `deallocate_stock_for_orders`: no product webhook
            variant = self.store.variants.get(line.variant_id) if line.variant_id else None
            if variant is not None:
                variant.quantity_allocated -= line.quantity_allocated
            line.quantity_allocated = 0
        updated = self.store.update_order(current, status=OrderStatus.CANCELED)
        return await self._emit_all(["ORDER_CANCELLED", "ORDER_UPDATED"], updated)

    # -- payments (see payment_actions) ----------------------------------------------------

    async def create_transaction(
        self,
        order: Order,
        *,
        charged: Decimal = Decimal("0"),
        authorized: Decimal = Decimal("0"),
    ) -> TransactionItem:
        """A payment app's ``transactionCreate`` on the order (charge and/or authorization)."""
        current = self.store.get_order(order.id)
        item, events = create_transaction(
            self.store.next_id, current, charged=charged, authorized=authorized
        )
        await self._emit_all(events, current)
        return item

    async def report_transaction_event(
        self,
        order: Order,
        transaction: TransactionItem,
        event_type: TransactionEventType,
        amount: Decimal,
        psp_reference: str | None = None,
    ) -> TransactionEvent:
        """A payment app's ``transactionEventReport`` (e.g. REFUND_SUCCESS of a pending refund:
        pass the refund request's PSP reference)."""
        current = self.store.get_order(order.id)
        event, events = report_event(
            self.store.next_id, current, transaction, event_type, amount, psp_reference
        )
        await self._emit_all(events, current)
        return event

    async def refund_transaction(
        self,
        order: Order,
        amount: Decimal | None = None,
        *,
        transaction: TransactionItem | None = None,
        granted_refund: GrantedRefund | None = None,
        settle: bool = True,
    ) -> TransactionEvent:
        """Staff refund through the transaction API (``transactionRequestAction`` REFUND, or
        ``transactionRequestRefundForGrantedRefund``); default: all that was charged. The app
        settles at once unless ``settle=False`` (then the refund is pending). Returns the
        REFUND_REQUEST event."""
        current = self.store.get_order(order.id)
        request, events = request_refund(
            self.store.next_id,
            current,
            amount,
            item=transaction,
            granted_refund=granted_refund,
            settle=settle,
        )
        await self._emit_all(events, current)
        return request

    async def grant_refund(self, order: Order, amount: Decimal, reason: str = "") -> GrantedRefund:
        """``orderGrantRefundCreate`` (no webhook: no money moved yet)."""
        return grant_refund(self.store.next_id, self.store.get_order(order.id), amount, reason)

    async def capture_payment(
        self, order: Order, amount: Decimal, *, total: Decimal | None = None
    ) -> Order:
        """A legacy payment of ``total`` (default: the order total) capturing ``amount``."""
        current = self.store.get_order(order.id)
        events = capture_legacy_payment(
            self.store.next_id, current, amount, total=total or current.total_gross
        )
        return await self._emit_all(events, current)

    async def refund_payment(self, order: Order, amount: Decimal | None = None) -> Order:
        """Legacy ``paymentRefund`` of the order's last payment (default: all captured)."""
        current = self.store.get_order(order.id)
        return await self._emit_all(
            refund_legacy_payment(self.store.next_id, current, amount), current
        )

    async def order_refund(self, order: Order, amount: Decimal) -> Order:
        """Legacy ``orderRefund``: refunds the last payment and records a REFUNDED fulfilment."""
        current = self.store.get_order(order.id)
        events = refund_legacy_payment(self.store.next_id, current, amount, as_fulfillment=True)
        return await self._emit_all(events, current)

    def order_line(
        self, variant: ProductVariant | int, quantity: int = 1, **kwargs: Any
    ) -> OrderLine:
        """Build an order line priced from the variant's channel listing (no event)."""
        return self.store.order_line_for(variant, quantity, **kwargs)

    def discount(self, amount: Decimal, **fields: Any) -> OrderDiscount:
        """Build an order-level discount (no event)."""
        return self.store.new_discount(amount, **fields)

    def address(self, **fields: Any) -> Address:
        """Build an address with a fresh pk (no event)."""
        return self.store.new_address(**fields)

    def generate_store(
        self,
        products: int = 20,
        customers: int = 50,
        orders: int = 100,
        checkouts: int = 0,
        seed: int = 0,
        channels: Sequence[tuple[str, str]] = (("default-channel", "USD"),),
        start: datetime | None = None,
    ) -> None:
        """Fill the store with deterministic fake data (no webhook events are sent)."""
        generate_store(
            self.store,
            products=products,
            customers=customers,
            orders=orders,
            checkouts=checkouts,
            seed=seed,
            channels=channels,
            start=start,
        )


def _event_payload(event_type: str, root_object: Any) -> dict[str, Any]:
    if isinstance(root_object, FulfillmentEvent):
        return {"fulfillment": root_object.fulfillment, "order": root_object.order}
    name = payload_field(event_type)
    payload: dict[str, Any] = {name: root_object}
    if isinstance(root_object, Product):
        payload["category"] = None
    return payload


def _is_coroutine(value: Any) -> TypeGuard[Awaitable[Any]]:
    """graphql-core's awaitable check for this sandbox: every resolver here is synchronous, so
    the only awaitables an execution meets are coroutines (graphql-core's own, for an
    asynchronous part). Its default also looks for `__await__` on every field's value, about a
    tenth of the time spent rendering a page of orders."""
    return type(value) is CoroutineType


@lru_cache(maxsize=256)
def _checked(query: str, version: str) -> tuple[DocumentNode, tuple[GraphQLError, ...]]:
    """A query's document and its validation errors against the version's schema: the same
    text always gives the same answer, and an app sends the same few documents again and
    again, so each is parsed and validated once (a parse error is raised, not kept)."""
    document = parse(query)
    return document, tuple(validate(sandbox_schema(version), document))


@lru_cache(maxsize=64)
def _subscription_document(query: str) -> DocumentNode:
    """A webhook's subscription document, parsed once: every delivery to the webhook executes
    the same text (graphql-core's executor does not change the document it runs)."""
    return parse(query)


def _subscription_problems(query: str, version: str) -> str:
    try:
        document = parse(query)
    except GraphQLError as exc:
        return exc.message
    return "; ".join(e.message for e in validate(sandbox_schema(version), document))


def _is_absolute(url: str) -> bool:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.host)


def _format_error(error: GraphQLError) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    extensions = dict(formatted.get("extensions") or {})
    extensions.setdefault("exception", {"code": "GraphQLError"})
    formatted["extensions"] = extensions
    return formatted


__all__ = [
    "DEFAULT_MANAGE_PERMISSIONS",
    "InstallationFailed",
    "LineSpec",
    "SaleorSandbox",
    "VariantSpec",
]
