"""What a push needs to know about its installation, channel and store (read once per job)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pydantic import SecretStr

from addon.audiences.service import confirmation_required, default_audience_id
from addon.ecommerce import payloads, restore_tokens
from addon.ecommerce.marketing import NO_TRACKING_RULES, ProductOptions, TrackingOptions
from addon.ecommerce.marketing_settings import ProductField, TrackingRule
from addon.ecommerce.models import EcommerceSettings
from addon.ecommerce.stores_repository import SettingsRepository, StoreRepository
from addon.installations.repository import InstallationRepository
from addon.saleor.versions import SaleorVersion, parse_version
from addon.services import Services


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
    # The fields marketers segment on (`marketing.py`): products' vendor and type, shipment
    # tracking, the store's language and time zone when its channel gives none.
    product_options: ProductOptions = field(default_factory=ProductOptions)
    tracking: TrackingOptions = NO_TRACKING_RULES
    default_locale: str | None = None
    default_timezone: str | None = None
    # Signs the carts' restore links (`restore_tokens.py`); None for pushes that send no cart.
    restore_key: SecretStr | None = None
    # Mailchimp lost the channel's store (`store_state.py`): pushes wait for its re-creation.
    store_missing: bool = False
    # Saleor has no channel of this slug (`channel_presence.py`): pushes wait; and the
    # channel's Saleor id, when known, to name its new slug.
    channel_missing: bool = False
    channel_id: str | None = None
    # The store is being sent the channel's records again (`resend.py`): created with
    # `is_syncing`, its automations paused.
    resending: bool = False
    # Orders placed before this may be in the store under their UUID (`sale_payloads.order_id`).
    uuid_orders_before: datetime | None = None
    # What the installation's Saleor reported (None: not known yet): which order documents it
    # runs (`versions.order_document`).
    saleor_version: SaleorVersion | None = None


def product_options(settings: EcommerceSettings) -> ProductOptions:
    """The settings' product options (a stored value the models no longer take: the default)."""
    options = ProductOptions(url_template=settings.product_url_template)
    try:
        vendor = ProductField.model_validate(settings.product_vendor or {})
    except ValueError:
        vendor = options.vendor
    try:
        type_ = ProductField.model_validate(settings.product_type or {})
    except ValueError:
        type_ = options.type
    return ProductOptions(url_template=options.url_template, vendor=vendor, type=type_)


def tracking_options(settings: EcommerceSettings) -> TrackingOptions:
    rules = []
    for raw in settings.tracking_rules or []:
        try:
            rules.append(TrackingRule.model_validate(raw))
        except ValueError:
            continue  # only ever stored validated: one that no longer validates is skipped
    return TrackingOptions(tuple(rules), order_url_template=settings.order_url_template)


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
        context = Context(
            installation_id=installation.id,
            api_url=installation.saleor_api_url,
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
            product_options=product_options(settings),
            tracking=tracking_options(settings),
            default_locale=settings.default_locale,
            default_timezone=settings.default_timezone,
            store_missing=store.missing_since is not None,
            channel_missing=store.channel_missing_since is not None,
            channel_id=store.channel_id,
            resending=store.resend_started_at is not None,
            uuid_orders_before=store.uuid_orders_before,
            saleor_version=parse_version(installation.saleor_version),
        )
    if restore_tokens.PLACEHOLDER in (context.checkout_url_template or ""):
        # Outside the read session: the key may be made on first use, in its own transaction.
        context.restore_key = await restore_tokens.key_for(services, installation_id)
    return context
