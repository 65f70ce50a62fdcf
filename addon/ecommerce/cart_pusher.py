"""Pushing an abandoned cart (`CartPusher.push_cart`): a checkout with an e-mail and lines
whose products are on offer, re-read from Saleor; one an order was made of, one paid but not
completed, or one its restore link copied goes from Mailchimp instead (`cart_payment.py`,
`restore.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.ecommerce import cart_payloads, cart_payment, payloads, restore
from addon.ecommerce.cart_audience import CartNotSent, post_joining
from addon.ecommerce.cart_payment import CART_PAID_NOTE
from addon.ecommerce.channel_presence import another_channel, ensure_listed
from addon.ecommerce.checkout_schemas import SaleorCheckout
from addon.ecommerce.customer_stores import buyers_belong
from addon.ecommerce.failures import without_address
from addon.ecommerce.fingerprints import cart_body, fingerprint
from addon.ecommerce.models import EntityKind, Fingerprint
from addon.ecommerce.publication import purchasable
from addon.ecommerce.record_states import CART_CONVERTED, CART_CONVERTED_NOTE, converted_cart
from addon.ecommerce.sale_sender import SaleSender
from addon.mailchimp import CartInput, ForgottenEmailNotSubscribed, subscriber_hash
from addon.privacy.erased import Erased, erased_among
from addon.subscriptions.checkout_consent import CheckoutConsent, queue_checkout_consent
from addon.subscriptions.metadata import Consent
from addon.subscriptions.schemas import app_form

Sent = TypeVar("Sent")
# Whether the app erased an address (`addon.privacy.erased`).
ErasedCheck = Callable[[str], Awaitable[bool]]


async def opted_out_if_forgotten(
    send: Callable[[payloads.Customered], Awaitable[Sent]], body: payloads.Customered
) -> tuple[payloads.Customered, Sent]:
    """`send(body)`; where Mailchimp refuses its customer's `opt_in_status: true` because it
    forgot the address (permanently deleted its member: "Forgotten Email Not Subscribed"), the
    body once more with the opt-in off, which it takes (a new customer joins no audience it
    forgot): the order or cart is business all the same, and the consent goes through the
    subscriptions capability. The addresses the app erased never carry one
    (`payloads.OptInPolicy`): this is for those forgotten in Mailchimp by someone else (its
    UI, another app). Returns the body sent, with the answer. A refusal left is raised
    without the address (`failures.without_address`)."""
    address = payloads.customer_of(body).email_address
    try:
        return body, await send(body)
    except ForgottenEmailNotSubscribed as exc:
        without_address(exc, address)
        if not payloads.customer_of(body).opt_in_status:
            raise
    body = payloads.without_opt_in(body)
    try:
        return body, await send(body)
    except ForgottenEmailNotSubscribed as exc:
        without_address(exc, address)
        raise


class CartPusher(SaleSender):
    """What `Pusher` pushes carts with."""

    async def _erased(self, addresses: list[str]) -> Erased:
        async with self.services.db.session() as session:
            return await erased_among(session, self.ctx.installation_id, addresses)

    async def _was_erased(self, address: str) -> bool:
        return bool(await self._erased([address]))

    async def _answered(self, asked: frozenset[str], erased: Erased, address: str) -> bool:
        """Whether the app erased `address`: from `erased`, the answer read for the subscriber
        hashes `asked`; the database asked for another address."""
        digest = subscriber_hash(address)
        return digest in erased if digest in asked else await self._was_erased(address)

    async def _post_cart(self, store_id: str, cart: CartInput, erased: ErasedCheck) -> None:
        """POST the cart; its shopper added to the audience first where Mailchimp asks
        (`cart_audience.py`)."""
        post = partial(self.client.create_cart, store_id)
        await post_joining(self.client, self.ctx.list_id, cart, post, erased)

    async def _opt_in(
        self, addresses: list[str | None]
    ) -> tuple[payloads.OptInPolicy, ErasedCheck]:
        """The channel's opt-in policy for a payload naming `addresses`, knowing which of
        them the app erased (`payloads.OptInPolicy`), and what tells whether an address was
        erased: the answer read here for these (a cart's creation asks it of its address
        again, `cart_audience.post_joining`), the database for another. Nothing to ask where
        the policy never opts in (an audience that asks for confirmation)."""
        if self.ctx.opt_in.confirmation_required:
            return self.ctx.opt_in, self._was_erased
        asked = [a for a in addresses if a]
        erased = await self._erased(asked)
        hashes = frozenset(subscriber_hash(a) for a in asked)
        return self.ctx.opt_in.knowing(erased), partial(self._answered, hashes, erased)

    async def push_cart(self, checkout_id: str) -> None:
        known = await self.known(EntityKind.CART, checkout_id)
        data = await self.saleor("ecommerce_checkout", {"id": checkout_id})
        raw = data.get("checkout")
        checkout = SaleorCheckout.model_validate(raw) if raw and self.ctx.carts_enabled else None
        body = None
        erased: ErasedCheck = self._was_erased
        if checkout is not None:
            email = checkout.email or (checkout.user.email if checkout.user else None)
            await self.remember_label(EntityKind.CART, checkout_id, known, email)
        # An order was made of it: `orderCreateFromCheckout(removeCheckout: false)` keeps the
        # checkout, which is no abandoned cart any more (its record says so, `_convert_cart`).
        converted = CART_CONVERTED in known.children
        if converted:
            checkout = None
        settled = checkout is not None and raw is not None and cart_payment.paid(raw)
        if settled:
            checkout = None  # paid, not completed: `cart_payment.py`
        if checkout is not None and await restore.was_restored(
            self.services, self.ctx.installation_id, checkout_id
        ):
            # Its restore link made a copy, whose cart is the shopper's now: this one goes, or
            # the shopper would be in two abandoned-cart series for one cart.
            checkout = None
        if checkout is not None and (
            checkout.channel.slug != self.ctx.channel
            or another_channel(self.ctx, checkout.channel.id)
        ):
            # A checkout keeps its channel: only a new slug of the channel moves it.
            await ensure_listed(self.services, self.ctx)
        if checkout is not None and checkout.channel.slug == self.ctx.channel:
            await self.ensure_store(checkout.channel)
            # Lines of products customers cannot buy in the channel (`publication.py`) are
            # left out: their variants are not among those the cart may reference.
            now = utcnow()
            refs = [
                (ln.variant.product.id, ln.variant.id)
                for ln in checkout.lines
                if purchasable(ln.variant.product.channel_listings, self.ctx.channel, now)
            ]
            available = await self.ensure_products(refs)
            user = checkout.user.email if checkout.user else None
            opt_in, erased = await self._opt_in([checkout.email, user])
            body = cart_body(
                checkout, available, self.ctx.checkout_url_template, opt_in, self.ctx.restore_key
            )
        if body is None:
            # Gone (completed or deleted), no e-mail, or empty: nothing to recover.
            if known.mailchimp_id is not None:
                await self._delete(self.client.delete_cart, known.mailchimp_id)
            await self.removed(
                EntityKind.CART,
                checkout_id,
                pushed=known.mailchimp_id is not None,
                note=CART_CONVERTED_NOTE if converted else CART_PAID_NOTE if settled else None,
                fingerprint=converted_cart() if converted else None,
            )
            return
        pushing = fingerprint(body)
        if known.holds(pushing):
            return
        await self.shopper(checkout.user.id if checkout is not None and checkout.user else None)

        async def send(cart: CartInput) -> Fingerprint:
            sending = fingerprint(cart)
            patch = cart_payloads.cart_patch(cart)
            await self._send_cart(
                known,
                sending,
                cart,
                lambda: self.client.update_cart(self.ctx.store_id, cart.id, patch),
                partial(self._post_cart, erased=erased),
            )
            # Nothing more may fail the push once the cart is taken: its retry would meet
            # "already exists" and replace it, restarting its abandonment clock.
            return sending

        try:
            body, pushing = await opted_out_if_forgotten(send, body)
        except CartNotSent as not_sent:
            # Its shopper cannot join the audience: Mailchimp holds no cart of it (a cart
            # replaced was deleted first), and the record says why.
            await self.removed(
                EntityKind.CART,
                checkout_id,
                pushed=known.mailchimp_id is not None,
                note=not_sent.note,
            )
            return
        # A registered shopper's record goes to this channel's store (`customer_stores.py`).
        buyer = checkout.user.id if checkout is not None and checkout.user else None
        belongs = partial(
            buyers_belong,
            installation_id=self.ctx.installation_id,
            channel=self.ctx.channel,
            user_ids=[buyer],
        )
        consent = _checkout_consent(checkout, body) if checkout is not None else None

        async def also(session: AsyncSession) -> None:
            await belongs(session)
            if consent is not None:
                await queue_checkout_consent(session, self.ctx.installation_id, consent)

        await self.synced(EntityKind.CART, checkout_id, body.id, pushing, also=also)


def _checkout_consent(checkout: SaleorCheckout, body: CartInput) -> CheckoutConsent | None:
    """The checkout's own consent, where the cart went with its opt-in: Mailchimp applies that
    only to a contact it adds for the cart (`cart_audience.py`), so the subscriptions capability
    applies it to one that exists (`addon.subscriptions.checkout_consent`). An account's own
    consent is its registration's, applied there."""
    email = body.customer.email_address
    if not body.customer.opt_in_status or not email:
        return None
    # The checkout's consent is for the address typed into it: a signed-in shopper's cart
    # names their account's, which may be another (the order applies it to its own address).
    # (in the form the app keys contacts by: Saleor holds an internationalised domain in its
    # ASCII form, the cart names the Unicode one)
    if app_form(checkout.email or "") != app_form(email):
        return None
    if not Consent.from_metadata(checkout.consent or {}).subscribe:
        return None
    # The checkout is read again when the job runs: the consent as it is then, all of it.
    return CheckoutConsent(checkout_id=checkout.id, email=email)
