"""Live e-commerce sync: Saleor webhooks → ledger records → Mailchimp pushes.

Design (the sync ledger and the jobs table together):

* Every Saleor entity pushed to a channel's Mailchimp store has one ledger row
  (`SyncRecord`: installation, channel, kind, Saleor id) holding the Mailchimp id, the hashes of
  what was last pushed, status, attempts, next attempt time and the last error.
* A webhook only says *what* changed. Its handler marks the record pending and enqueues one
  `ecommerce.push` job whose `coalesce_key` and `lane` are both `ledger:<channel>:<kind>:<id>`.
  Coalescing merges every change of one entity that arrives before the push runs into one job
  (checkouts are delayed by the debounce window, so a burst of updates becomes one cart push);
  the lane keeps two pushes of one entity from ever running at the same time.
* The push refetches the entity from Saleor by id, so a redelivered or out-of-order webhook
  can only ever push the current state; content that hashes like the last push is skipped.
  Create versus update comes from the ledger and is corrected by Mailchimp's answer (400
  "already exists" → update; 404 on update → create). Parts are hashed separately (a product's
  fields and each variant; an order's fields and its lines), so a change sends only the part
  that changed.
* Dependencies are pushed inline before what needs them: the channel's store before anything,
  the products of an order's or cart's lines before the order or cart. Lanes cannot express
  "this product before that order" across entities; pushing the missing dependency first can.
* Failures are counted on the record: transient errors and 429s back off and retry (the job is
  rescheduled), and after `ECOMMERCE_MAX_ATTEMPTS` the record and its job are quarantined with
  Mailchimp's reason. Other records have their own jobs, so they keep flowing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.service import confirmation_required, default_audience_id
from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.ecommerce import payloads, store_state
from addon.ecommerce.fingerprints import cart_body, fingerprint, order_body
from addon.ecommerce.models import EntityKind, Fingerprint, MailchimpStore, SyncStatus
from addon.ecommerce.repository import LedgerRepository, SettingsRepository, StoreRepository
from addon.ecommerce.schemas import (
    ChannelRef,
    PushRequest,
    SaleorChannel,
    SaleorCheckout,
    SaleorOrder,
    SaleorProduct,
    SaleorUser,
)
from addon.ecommerce.subjects import ORDER_LABEL_SEPARATOR
from addon.installations.repository import InstallationRepository
from addon.installations.webhooks import webhook_job_kind
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.retry import Failure, RetryPolicy
from addon.jobs.schemas import ClaimedJob, WebhookJob
from addon.mailchimp import (
    BadRequest,
    CartInput,
    CartPatch,
    InvalidCredentials,
    MailchimpClient,
    MailchimpError,
    NotFound,
    ProductPatch,
    ProductVariantPatch,
    StorePatch,
)
from addon.saleor.client import SaleorError
from addon.services import Services

logger = logging.getLogger(__name__)

PUSH_JOB = "ecommerce.push"


def ledger_key(channel: str, kind: EntityKind, saleor_id: str) -> str:
    return f"ledger:{channel}:{kind.value}:{saleor_id}"


async def enqueue_push(
    session: Any,
    installation_id: int,
    channel: str,
    kind: EntityKind,
    saleor_id: str,
    *,
    delay: float = 0.0,
) -> None:
    """Mark the record pending and queue (or merge into) its push."""
    await LedgerRepository(session).mark_pending(installation_id, channel, kind, saleor_id)
    key = ledger_key(channel, kind, saleor_id)
    request = PushRequest(channel=channel, kind=kind, saleor_id=saleor_id)
    await JobRepository(session).enqueue(
        installation_id,
        PUSH_JOB,
        request.model_dump(mode="json"),
        coalesce_key=key,
        lane=key,
        run_after=utcnow() + timedelta(seconds=delay),
    )


# --- webhooks: decide what to push ------------------------------------------------------------


class _Ref(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str


class _ChannelSlug(BaseModel):
    model_config = ConfigDict(extra="ignore")
    slug: str


class _InChannel(_Ref):
    channel: _ChannelSlug


class _VariantRef(_Ref):
    product: _Ref


class _EventBody(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    product: _Ref | None = None
    product_variant: _VariantRef | None = Field(None, alias="productVariant")
    user: _Ref | None = None
    order: _InChannel | None = None
    checkout: _InChannel | None = None


# The payload of an e-commerce webhook job: only the entity's id (and channel) matter, the push
# reads the entity itself from Saleor.
EcommerceEvent = WebhookJob[_EventBody]


async def _tracked_channels(session: Any, installation_id: int) -> list[str]:
    """Channels to push to; none while e-commerce tracking is off."""
    settings = await SettingsRepository(session).find(installation_id)
    if settings is None or not settings.tracking_enabled:
        return []
    return [store.channel_slug for store in await StoreRepository(session).tracked(installation_id)]


async def on_products(job: ClaimedJob, event: EcommerceEvent, services: Services) -> None:
    body = event.body
    product = body.product or (body.product_variant.product if body.product_variant else None)
    if product is None:
        return
    async with services.db.transaction() as session:
        for channel in await _tracked_channels(session, job.installation_id):
            await enqueue_push(
                session, job.installation_id, channel, EntityKind.PRODUCT, product.id
            )


async def on_customers(job: ClaimedJob, event: EcommerceEvent, services: Services) -> None:
    body = event.body
    if body.user is None:
        return
    async with services.db.transaction() as session:
        for channel in await _tracked_channels(session, job.installation_id):
            await enqueue_push(
                session, job.installation_id, channel, EntityKind.CUSTOMER, body.user.id
            )


async def on_orders(job: ClaimedJob, event: EcommerceEvent, services: Services) -> None:
    order = event.body.order
    if order is None:
        return
    async with services.db.transaction() as session:
        if order.channel.slug in await _tracked_channels(session, job.installation_id):
            await enqueue_push(
                session, job.installation_id, order.channel.slug, EntityKind.ORDER, order.id
            )


async def on_checkouts(job: ClaimedJob, event: EcommerceEvent, services: Services) -> None:
    checkout = event.body.checkout
    if checkout is None:
        return
    async with services.db.transaction() as session:
        settings = await SettingsRepository(session).find(job.installation_id)
        if settings is None or not settings.abandoned_carts_enabled:
            return
        if checkout.channel.slug in await _tracked_channels(session, job.installation_id):
            await enqueue_push(
                session,
                job.installation_id,
                checkout.channel.slug,
                EntityKind.CART,
                checkout.id,
                delay=services.settings.ecommerce_cart_debounce_seconds,
            )


# --- pushing ------------------------------------------------------------------------------------


# What may carry a campaign id: orders and carts.
Attributed = TypeVar("Attributed", payloads.TrackedOrderInput, CartInput)


class DependencyFailed(Exception):
    """Something the record needs (its store, a product) could not be pushed."""


@dataclass
class Context:
    installation_id: int
    api_url: str
    token: SecretStr
    domain: str
    channel: str
    store_id: str
    list_id: str
    store_name: str
    store_currency: str
    carts_enabled: bool
    product_url_template: str | None
    checkout_url_template: str | None
    store_email: str | None
    opt_in: payloads.OptInPolicy


@dataclass
class Known:
    """What the ledger says Mailchimp holds for one record (read outside any transaction)."""

    mailchimp_id: str | None = None
    fingerprint: Fingerprint = field(default_factory=lambda: Fingerprint(None))
    status: SyncStatus = SyncStatus.PENDING
    label: str | None = None

    @property
    def children(self) -> dict[str, str]:
        return self.fingerprint.children

    def holds(self, fingerprint: Fingerprint) -> bool:
        """Mailchimp holds exactly this content: nothing to send."""
        return self.status is SyncStatus.SYNCED and self.fingerprint == fingerprint


LABEL_LENGTH = 255


def _label(text: str | None) -> str | None:
    """What the ledger shows an admin for a record: trimmed to fit its column."""
    text = " ".join((text or "").split())
    if not text:
        return None
    return text if len(text) <= LABEL_LENGTH else text[: LABEL_LENGTH - 1] + "…"


def order_label(order: SaleorOrder) -> str:
    """The number and the buyer, e.g. "#1042 — ann@example.com" (Activity names both)."""
    email = order.user_email or (order.user.email if order.user else None)
    return f"#{order.number}{ORDER_LABEL_SEPARATOR}{email}" if email else f"#{order.number}"


# A variant no longer sold: hidden rather than deleted, so the orders that reference it
# still resolve in Mailchimp.
HIDDEN = ProductVariantPatch(inventory_quantity=0, visibility="hidden")


def _already_exists(exc: BadRequest) -> bool:
    return "already exists" in f"{exc.detail} {exc.title}".lower()


def _campaign_rejected(exc: BadRequest) -> bool:
    return "campaign_id" in exc.field_errors


class Pusher:
    """Pushes one record (and, first, what it depends on) for one installation."""

    def __init__(self, services: Services, context: Context, client: MailchimpClient) -> None:
        self.services = services
        self.ctx = context
        self.client = client

    # ledger I/O: short sessions, never across a Mailchimp call

    async def known(self, kind: EntityKind, saleor_id: str) -> Known:
        async with self.services.db.session() as session:
            record = await LedgerRepository(session).get(
                self.ctx.installation_id, self.ctx.channel, kind, saleor_id
            )
            if record is None:
                return Known()
            return Known(
                record.mailchimp_id,
                record.fingerprint,
                record.status,
                record.label,
            )

    async def remember_label(
        self, kind: EntityKind, saleor_id: str, known: Known, label: str | None
    ) -> None:
        """Record the label as soon as the entity is read from Saleor, so a record that then
        fails to reach Mailchimp (and ends in quarantine) is recognisable too."""
        label = _label(label)
        if label is None or label == known.label:
            return
        async with self.services.db.transaction() as session:
            record = await LedgerRepository(session).get_or_create(
                self.ctx.installation_id, self.ctx.channel, kind, saleor_id
            )
            record.label = label
        known.label = label

    async def save(
        self,
        kind: EntityKind,
        saleor_id: str,
        status: SyncStatus,
        *,
        mailchimp_id: str | None,
        fingerprint: Fingerprint | None = None,
        pushed: bool = True,
    ) -> None:
        async with self.services.db.transaction() as session:
            await LedgerRepository(session).settle(
                self.ctx.installation_id,
                self.ctx.channel,
                kind,
                saleor_id,
                status,
                mailchimp_id=mailchimp_id,
                fingerprint=fingerprint,
                pushed=pushed,
            )

    async def saleor(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        return await self.services.saleor.execute(
            self.ctx.api_url, self.ctx.token, document, variables
        )

    # stores

    async def push_store(self) -> None:
        data = await self.saleor("ecommerce_channels", {})
        channels = [SaleorChannel.model_validate(c) for c in data.get("channels") or []]
        channel = next((c for c in channels if c.slug == self.ctx.channel), None)
        if channel is None:
            raise DependencyFailed(f"The channel {self.ctx.channel!r} no longer exists in Saleor.")
        domain = urlsplit(self.ctx.product_url_template or "").netloc or self.ctx.domain
        body = payloads.store_input(
            self.ctx.store_id,
            self.ctx.list_id,
            channel,
            domain=domain,
            email_address=self.ctx.store_email,
        )
        digest = fingerprint(body)
        known = await self.known(EntityKind.STORE, self.ctx.channel)
        await self.remember_label(EntityKind.STORE, self.ctx.channel, known, channel.name)
        if known.holds(digest):
            return
        patch = StorePatch.model_validate(
            body.model_dump(exclude={"id", "list_id"}, exclude_none=True)
        )
        if known.mailchimp_id is None:
            try:
                await self.client.create_store(body)
            except BadRequest as exc:
                if not _already_exists(exc):
                    raise
                await self.client.update_store(self.ctx.store_id, patch)
        else:
            # A 404 here means the store was deleted in Mailchimp, with everything in it:
            # push_job marks it missing for the admin's re-create (store_state.py) rather
            # than re-creating an empty store under records the ledger calls synced.
            await self.client.update_store(self.ctx.store_id, patch)
        await self.save(
            EntityKind.STORE,
            self.ctx.channel,
            SyncStatus.SYNCED,
            mailchimp_id=self.ctx.store_id,
            fingerprint=digest,
        )
        async with self.services.db.transaction() as session:
            store = await StoreRepository(session).get(self.ctx.installation_id, self.ctx.channel)
            if store is not None:
                store.name = channel.name
                store.currency_code = channel.currency_code
        self.ctx.store_name, self.ctx.store_currency = channel.name, channel.currency_code

    async def ensure_store(self, seen: ChannelRef | None = None) -> None:
        """The store first; pushed again when the channel's name or currency changed."""
        known = await self.known(EntityKind.STORE, self.ctx.channel)
        changed = seen is not None and (
            (seen.name and seen.name != self.ctx.store_name)
            or (seen.currency_code and seen.currency_code != self.ctx.store_currency)
        )
        if known.status is not SyncStatus.SYNCED or changed:
            try:
                await self.push_store()
            except MailchimpError as exc:
                raise DependencyFailed(
                    f"The Mailchimp store of channel {self.ctx.channel!r} could not be "
                    f"created or updated: {exc}"
                ) from exc

    # products

    async def push_product(self, product_id: str) -> set[str]:
        """Bring one product up to date; return the Mailchimp ids of its visible variants."""
        data = await self.saleor(
            "ecommerce_product", {"id": product_id, "channel": self.ctx.channel}
        )
        raw = data.get("product")
        product = SaleorProduct.model_validate(raw) if raw else None
        body = (
            payloads.product_input(product, self.ctx.channel, self.ctx.product_url_template)
            if product
            else None
        )
        known = await self.known(EntityKind.PRODUCT, product_id)
        if product is not None:
            await self.remember_label(EntityKind.PRODUCT, product_id, known, product.name)
        if body is None:
            # Deleted (or no longer sold in this channel): hide it rather than delete it, so
            # the orders that reference it still resolve in Mailchimp.
            if known.mailchimp_id is not None:
                for variant_id in known.children:
                    await self._hide_variant(known.mailchimp_id, variant_id)
            await self.save(
                EntityKind.PRODUCT,
                product_id,
                SyncStatus.REMOVED,
                mailchimp_id=known.mailchimp_id,
                pushed=bool(known.children),
            )
            return set()
        top = payloads.top_level(body, "variants")
        pushing = fingerprint(body)
        digest, variants = pushing.content_hash, pushing.children
        if known.holds(pushing):
            return set(variants)
        pushed_top, pushed_variants = known.fingerprint.content_hash, known.children
        if known.mailchimp_id is None:
            try:
                await self.client.create_product(self.ctx.store_id, body)
                pushed_top, pushed_variants = digest, variants
            except BadRequest as exc:
                if not _already_exists(exc):
                    raise
                pushed_top, pushed_variants = None, {}
        if pushed_top != digest:
            patch = ProductPatch.model_validate({k: v for k, v in top.items() if k != "id"})
            try:
                await self.client.update_product(self.ctx.store_id, body.id, patch)
            except NotFound:
                await self.client.create_product(self.ctx.store_id, body)
                pushed_variants = variants
        for variant in body.variants:
            if pushed_variants.get(variant.id) != variants[variant.id]:
                await self.client.upsert_product_variant(self.ctx.store_id, body.id, variant)
        for gone in set(pushed_variants) - set(variants):
            await self._hide_variant(body.id, gone)
        await self.save(
            EntityKind.PRODUCT,
            product_id,
            SyncStatus.SYNCED,
            mailchimp_id=body.id,
            fingerprint=pushing,
        )
        return set(variants)

    async def _hide_variant(self, product_id: str, variant_id: str) -> None:
        with contextlib.suppress(NotFound):
            await self.client.update_product_variant(
                self.ctx.store_id, product_id, variant_id, HIDDEN
            )

    async def ensure_products(self, lines: list[tuple[str, str]]) -> set[str]:
        """Push the products of (product id, variant id) lines that Mailchimp lacks; return the
        Mailchimp ids of the variants that lines may reference."""
        available: set[str] = set()
        for product_id in dict.fromkeys(product for product, _ in lines):
            wanted = {payloads.mailchimp_id(v) for p, v in lines if p == product_id}
            known = await self.known(EntityKind.PRODUCT, product_id)
            if known.status is SyncStatus.SYNCED and wanted <= set(known.children):
                available |= set(known.children)
                continue
            try:
                available |= await self.push_product(product_id)
            except MailchimpError as exc:
                raise DependencyFailed(
                    f"Product {payloads.mailchimp_id(product_id)} could not be sent to "
                    f"Mailchimp first: {exc}"
                ) from exc
        return available

    # customers

    async def push_customer(self, user_id: str) -> None:
        data = await self.saleor("ecommerce_customer", {"id": user_id})
        known = await self.known(EntityKind.CUSTOMER, user_id)
        if not data.get("user"):
            # Mailchimp keeps the customer: its orders still reference it.
            await self.save(
                EntityKind.CUSTOMER,
                user_id,
                SyncStatus.REMOVED,
                mailchimp_id=known.mailchimp_id,
                pushed=False,
            )
            return
        user = SaleorUser.model_validate(data["user"])
        await self.remember_label(EntityKind.CUSTOMER, user_id, known, user.email)
        body = payloads.customer_input(user, self.ctx.opt_in)
        digest = fingerprint(body)
        if known.holds(digest):
            return
        # PUT is an upsert keyed by the user's id: a changed e-mail follows the customer.
        await self.client.upsert_customer(self.ctx.store_id, body)
        await self.save(
            EntityKind.CUSTOMER,
            user_id,
            SyncStatus.SYNCED,
            mailchimp_id=body.id,
            fingerprint=digest,
        )

    # orders

    async def push_order(self, order_id: str) -> None:
        data = await self.saleor("ecommerce_order", {"id": order_id})
        known = await self.known(EntityKind.ORDER, order_id)
        raw = data.get("order")
        order = SaleorOrder.model_validate(raw) if raw else None
        if order is not None:
            await self.remember_label(EntityKind.ORDER, order_id, known, order_label(order))
        if order is None or order.status == "DRAFT" or order.channel.slug != self.ctx.channel:
            if order is None and known.mailchimp_id is not None:
                await self._delete(self.client.delete_order, known.mailchimp_id)
            await self.save(EntityKind.ORDER, order_id, SyncStatus.REMOVED, mailchimp_id=None)
            return
        await self.ensure_store(order.channel)
        refs = [(ln.variant.product.id, ln.variant.id) for ln in order.lines if ln.variant]
        available = await self.ensure_products(refs)
        body = order_body(order, available, self.ctx.opt_in)
        if body is None:
            await self.save(EntityKind.ORDER, order_id, SyncStatus.REMOVED, mailchimp_id=None)
            return
        pushing = fingerprint(body)
        if known.holds(pushing):
            await self._convert_cart(order)
            return
        store = self.ctx.store_id
        if known.mailchimp_id is not None and known.children != pushing.children:
            # Mailchimp's order PATCH cannot address lines; re-create the order instead.
            await self._delete(self.client.delete_order, body.id)
            await self._create_order(body)
        elif known.mailchimp_id is None:
            try:
                await self._create_order(body)
            except BadRequest as exc:
                if not _already_exists(exc):
                    raise
                await self.client.update_order(store, body.id, payloads.order_patch(body))
        elif known.fingerprint.content_hash != pushing.content_hash:
            try:
                await self.client.update_order(store, body.id, payloads.order_patch(body))
            except NotFound:
                await self._create_order(body)
        await self.save(
            EntityKind.ORDER,
            order_id,
            SyncStatus.SYNCED,
            mailchimp_id=body.id,
            fingerprint=pushing,
        )
        await self._convert_cart(order)

    async def _create_order(self, body: payloads.TrackedOrderInput) -> None:
        await self._create_without_stale_campaign(self.client.create_order, body)

    async def _create_without_stale_campaign(
        self, create: Callable[[str, Attributed], Awaitable[object]], body: Attributed
    ) -> None:
        """Create an order or cart; a stale or foreign campaign id must never cost it."""
        try:
            await create(self.ctx.store_id, body)
        except BadRequest as exc:
            if body.campaign_id is None or not _campaign_rejected(exc):
                raise
            await create(self.ctx.store_id, body.model_copy(update={"campaign_id": None}))

    async def _convert_cart(self, order: SaleorOrder) -> None:
        """The checkout became this order: its abandoned cart must go."""
        if not order.checkout_id:
            return
        known = await self.known(EntityKind.CART, order.checkout_id)
        if known.mailchimp_id is not None:
            await self._delete(self.client.delete_cart, known.mailchimp_id)
        if known.mailchimp_id is not None or known.status is not SyncStatus.REMOVED:
            await self.save(
                EntityKind.CART, order.checkout_id, SyncStatus.REMOVED, mailchimp_id=None
            )

    async def _delete(
        self, delete: Callable[[str, str], Awaitable[None]], mailchimp_id: str
    ) -> None:
        """Delete an order or cart; one already gone is as good."""
        with contextlib.suppress(NotFound):
            await delete(self.ctx.store_id, mailchimp_id)

    # carts

    async def push_cart(self, checkout_id: str) -> None:
        known = await self.known(EntityKind.CART, checkout_id)
        data = await self.saleor("ecommerce_checkout", {"id": checkout_id})
        raw = data.get("checkout")
        checkout = SaleorCheckout.model_validate(raw) if raw and self.ctx.carts_enabled else None
        body = None
        if checkout is not None:
            email = checkout.email or (checkout.user.email if checkout.user else None)
            await self.remember_label(EntityKind.CART, checkout_id, known, email)
        if checkout is not None and checkout.channel.slug == self.ctx.channel:
            await self.ensure_store(checkout.channel)
            refs = [(ln.variant.product.id, ln.variant.id) for ln in checkout.lines]
            available = await self.ensure_products(refs)
            body = cart_body(checkout, available, self.ctx.checkout_url_template, self.ctx.opt_in)
        if body is None:
            # Gone (completed or deleted), no e-mail, or empty: nothing to recover.
            if known.mailchimp_id is not None:
                await self._delete(self.client.delete_cart, known.mailchimp_id)
            await self.save(
                EntityKind.CART,
                checkout_id,
                SyncStatus.REMOVED,
                mailchimp_id=None,
                pushed=known.mailchimp_id is not None,
            )
            return
        pushing = fingerprint(body)
        if known.holds(pushing):
            return
        store = self.ctx.store_id
        top = payloads.top_level(body, "lines", "customer", "campaign_id")
        patch = CartPatch.model_validate({k: v for k, v in top.items() if k != "id"})
        if known.mailchimp_id is not None and known.children != pushing.children:
            # Cart PATCH cannot address lines: replace the cart (two calls however many
            # lines changed), which also restarts the abandonment clock, as it should.
            await self._delete(self.client.delete_cart, body.id)
            await self._create_cart(body)
        elif known.mailchimp_id is None:
            try:
                await self._create_cart(body)
            except BadRequest as exc:
                if not _already_exists(exc):
                    raise
                await self._delete(self.client.delete_cart, body.id)
                await self._create_cart(body)
        else:
            try:
                await self.client.update_cart(store, body.id, patch)
            except NotFound:
                await self._create_cart(body)
        await self.save(
            EntityKind.CART,
            checkout_id,
            SyncStatus.SYNCED,
            mailchimp_id=body.id,
            fingerprint=pushing,
        )

    async def _create_cart(self, body: CartInput) -> None:
        await self._create_without_stale_campaign(self.client.create_cart, body)

    async def push(self, request: PushRequest) -> None:
        if request.kind is EntityKind.STORE:
            await self.push_store()
            return
        await self.ensure_store()
        if request.kind is EntityKind.PRODUCT:
            await self.push_product(request.saleor_id)
        elif request.kind is EntityKind.CUSTOMER:
            await self.push_customer(request.saleor_id)
        elif request.kind is EntityKind.ORDER:
            await self.push_order(request.saleor_id)
        else:
            await self.push_cart(request.saleor_id)


async def load_context(services: Services, installation_id: int, channel: str) -> Context | None:
    """What a push needs, or None when there is nothing to do (tracking off, channel untracked)."""
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(installation_id)
        settings = await SettingsRepository(session).find(installation_id)
        store = await StoreRepository(session).get(installation_id, channel)
        if installation is None or settings is None or not settings.tracking_enabled:
            return None
        if store is None or not store.tracked:
            return None
        opt_in = payloads.OptInPolicy(
            list_id=store.list_id,
            default_list_id=await default_audience_id(session, installation_id),
            confirmation_required=await confirmation_required(
                session, installation_id, store.list_id
            ),
        )
        return _context(installation.saleor_api_url, installation, settings, store, opt_in)


def _context(
    api_url: str,
    installation: Any,
    settings: Any,
    store: MailchimpStore,
    opt_in: payloads.OptInPolicy,
) -> Context:
    return Context(
        installation_id=installation.id,
        api_url=api_url,
        token=installation.app_token,
        domain=installation.saleor_domain,
        channel=store.channel_slug,
        store_id=store.store_id,
        list_id=store.list_id,
        store_name=store.name,
        store_currency=store.currency_code,
        carts_enabled=settings.abandoned_carts_enabled,
        product_url_template=settings.product_url_template,
        checkout_url_template=settings.checkout_url_template,
        store_email=settings.store_email,
        opt_in=opt_in,
    )


async def push_job(job: ClaimedJob, request: PushRequest, services: Services) -> None:
    """Bring one ledger record up to date. Failures are the worker's to retry (PUSH_RETRY);
    `record_failure` shows them on the record."""
    context = await load_context(services, job.installation_id, request.channel)
    if context is None:
        return
    if await store_state.is_missing(services, job.installation_id, request.channel):
        # Deleted in Mailchimp: wait for the admin's re-create (which resends everything).
        await store_state.park(services, job.installation_id, *request_key(request))
        return
    try:
        async with mailchimp_for(services, job.installation_id) as client:
            try:
                await Pusher(services, context, client).push(request)
            except (NotFound, DependencyFailed) as exc:
                if not store_state.is_store_404(
                    exc, context.store_id
                ) or not await store_state.confirm_missing(
                    services, client, job.installation_id, request.channel, context.store_id
                ):
                    raise
                await store_state.park(services, job.installation_id, *request_key(request))
                return
    except (NotConnected, InvalidCredentials):
        # Nothing to do until Mailchimp is connected (again); a resync catches up.
        return


def request_key(request: PushRequest) -> tuple[str, EntityKind, str]:
    return request.channel, request.kind, request.saleor_id


# Transient errors and 429s back off and retry; after ECOMMERCE_MAX_ATTEMPTS the job and its
# record are quarantined with Mailchimp's reason. Other records have their own jobs.
PUSH_RETRY = RetryPolicy(
    max_attempts=lambda settings: settings.ecommerce_max_attempts,
    expected=(MailchimpError, SaleorError, DependencyFailed),
)


async def record_failure(
    session: AsyncSession, job: ClaimedJob, request: PushRequest, failure: Failure
) -> None:
    """The worker's decision about a failed push, shown on its ledger record."""
    record = await LedgerRepository(session).get_or_create(
        job.installation_id, request.channel, request.kind, request.saleor_id
    )
    record.attempts = failure.attempts
    record.last_error = failure.reason
    record.status = SyncStatus.QUARANTINED if failure.gave_up else SyncStatus.PENDING
    record.next_attempt_at = failure.retry_at


def register(registry: HandlerRegistry) -> None:
    for slug, handler in (
        ("ecommerce-products", on_products),
        ("ecommerce-customers", on_customers),
        ("ecommerce-orders", on_orders),
        ("ecommerce-checkouts", on_checkouts),
    ):
        registry.register(webhook_job_kind(slug), handler, payload=EcommerceEvent)
    registry.register(
        PUSH_JOB, push_job, payload=PushRequest, retry=PUSH_RETRY, on_failure=record_failure
    )
