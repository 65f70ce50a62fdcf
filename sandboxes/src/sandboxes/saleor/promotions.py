"""Catalogue promotions in the sandbox (`SaleorSandbox.promotions`): what lowers a variant's
price in a channel, and the webhooks Saleor sends about them. Checked against Saleor 3.20.119.

* A promotion has rules, each for some channels and some products or variants (its
  `cataloguePredicate`: the product and variant ids only here), with a reward: a percentage (half
  up to the currency, `prices.percentage_discount`) or a fixed amount (never below zero) off the
  variant's price.
* A variant's discounted price is its price less the best single discount of the active
  promotions' rules that apply to it (saleor/discount/utils/promotion.py
  `get_best_promotion_discount`). Saleor does not compute it when a promotion changes: it marks
  the listings dirty and a periodic task recomputes them (`recalculate_discounted_price_for_
  products_task`, every 30 s by default: `BEAT_PRICE_RECALCULATION_SCHEDULE`). So does the
  sandbox: prices change only when the test calls `recalculate` (the task's run).
* Webhooks (all need MANAGE_DISCOUNTS): `promotionCreate` PROMOTION_CREATED, and
  PROMOTION_STARTED when it has started already (`post_save_actions`); `promotionUpdate`
  PROMOTION_UPDATED; `promotionDelete` PROMOTION_DELETED; a rule's mutations
  PROMOTION_RULE_CREATED / _UPDATED / _DELETED; the periodic `handle_promotion_toggle`
  PROMOTION_STARTED and PROMOTION_ENDED once their dates pass (`toggle`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from .context import Info, api_context
from .models import Node, ProductVariant, utcnow
from .money import currency_step
from .versions import has_discounted_price_updated

if TYPE_CHECKING:
    from .sandbox import SaleorSandbox


class RewardValueType(StrEnum):
    FIXED = "FIXED"
    PERCENTAGE = "PERCENTAGE"


class PromotionType(StrEnum):
    CATALOGUE = "CATALOGUE"
    ORDER = "ORDER"


class PromotionRule(Node):
    graphql_type: ClassVar[str] = "PromotionRule"
    name: str = ""
    promotion_id: int = 0
    predicate_type: PromotionType = PromotionType.CATALOGUE  # its promotion's type
    channel_ids: list[int] = Field(default_factory=list)
    product_ids: list[int] = Field(default_factory=list)
    variant_ids: list[int] = Field(default_factory=list)
    reward_value_type: RewardValueType = RewardValueType.PERCENTAGE
    reward_value: Decimal = Decimal(0)

    def applies_to(self, variant: ProductVariant, channel_id: int) -> bool:
        return channel_id in self.channel_ids and (
            variant.product_id in self.product_ids or variant.id in self.variant_ids
        )

    def discount(self, price: Decimal, currency: str) -> Decimal:
        if self.reward_value_type is RewardValueType.FIXED:
            return min(self.reward_value, price)
        step = currency_step(currency)
        return (price * self.reward_value / 100).quantize(step, ROUND_HALF_UP)


class Promotion(Node):
    graphql_type: ClassVar[str] = "Promotion"
    name: str
    type: PromotionType = PromotionType.CATALOGUE
    start_date: datetime = Field(default_factory=utcnow)
    end_date: datetime | None = None
    rules: list[PromotionRule] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # When its start or end was last announced (`last_notification_scheduled_at`): by
    # `promotionCreate`, `promotionUpdate` or the periodic `handle_promotion_toggle`.
    notified_at: datetime | None = None

    def starting(self, now: datetime) -> bool:
        """saleor/discount/tasks.py `get_starting_promotions` (3.20.119 and main)."""
        started = self.start_date <= now
        return started and (self.notified_at is None or self.notified_at < self.start_date)

    def ending(self, now: datetime) -> bool:
        """saleor/discount/tasks.py `get_ending_promotions`."""
        end = self.end_date
        return (
            end is not None and end <= now and (self.notified_at is None or self.notified_at < end)
        )

    def active(self, now: datetime) -> bool:
        return self.start_date <= now and (self.end_date is None or now < self.end_date)


class SandboxPromotions:
    def __init__(self, sandbox: SaleorSandbox) -> None:
        self.sandbox = sandbox
        self.promotions: dict[int, Promotion] = {}

    async def create(
        self,
        name: str,
        rules: list[dict[str, Any]],
        *,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
        type: PromotionType = PromotionType.CATALOGUE,
    ) -> Promotion:
        """`promotionCreate` with its rules (each `PromotionRule`'s fields, `channels` by slug):
        PROMOTION_CREATED, then PROMOTION_STARTED when it has started and not yet ended
        (saleor/graphql/discount/mutations/promotion/promotion_create.py `has_started`, 3.20.119
        as HEAD: one created already over starts nothing)."""
        store = self.sandbox.store
        promotion = Promotion(
            id=store.next_id(),
            name=name,
            type=type,
            start_date=start_date or utcnow(),
            end_date=end_date,
        )
        promotion.rules = [self._rule(promotion, fields) for fields in rules]
        self.promotions[promotion.id] = promotion
        await self.sandbox.emit("PROMOTION_CREATED", promotion)
        now = utcnow()
        if promotion.start_date <= now and (end_date is None or now < end_date):
            promotion.notified_at = now
            await self.sandbox.emit("PROMOTION_STARTED", promotion)
        return promotion

    async def update(self, promotion: Promotion, **changes: Any) -> Promotion:
        """`promotionUpdate` (name, dates): PROMOTION_UPDATED, then PROMOTION_STARTED or
        PROMOTION_ENDED when a date it sets starts or ends it and that was not announced yet
        (saleor/graphql/discount/mutations/promotion/promotion_update.py `get_toggle_type`,
        `send_promotion_toggle_webhook`: at 3.20.119 as on main)."""
        previous_end = promotion.end_date
        for key, value in changes.items():
            setattr(promotion, key, value)
        now = promotion.updated_at = utcnow()
        await self.sandbox.emit("PROMOTION_UPDATED", promotion)
        toggle = _toggle_type(promotion, changes, previous_end, now)
        if toggle is not None:
            await self.sandbox.emit(toggle, promotion)
            promotion.notified_at = now
        return promotion

    async def delete(self, promotion: Promotion) -> None:
        """`promotionDelete`: PROMOTION_DELETED, rendered before the delete."""
        await self.sandbox.emit("PROMOTION_DELETED", promotion)
        del self.promotions[promotion.id]

    async def add_rule(self, promotion: Promotion, **fields: Any) -> PromotionRule:
        """`promotionRuleCreate`: PROMOTION_RULE_CREATED."""
        rule = self._rule(promotion, fields)
        promotion.rules.append(rule)
        await self.sandbox.emit("PROMOTION_RULE_CREATED", rule)
        return rule

    async def toggle(self, now: datetime | None = None) -> None:
        """`handle_promotion_toggle`: PROMOTION_STARTED and PROMOTION_ENDED for the promotions
        whose start or end passed since they were last announced."""
        now = now or utcnow()
        for promotion in list(self.promotions.values()):
            starting, ending = promotion.starting(now), promotion.ending(now)
            if starting:
                await self.sandbox.emit("PROMOTION_STARTED", promotion)
            if ending:
                await self.sandbox.emit("PROMOTION_ENDED", promotion)
            if starting or ending:
                promotion.notified_at = now

    async def recalculate(self, now: datetime | None = None) -> None:
        """The periodic recalculation of every variant's discounted price in each channel; since
        3.23, PRODUCT_VARIANT_DISCOUNTED_PRICE_UPDATED for each variant whose price it changed
        (saleor/product/tasks.py `recalculate_discounted_price_for_products_task` at 3.23.0)."""
        now = now or utcnow()
        rules = [
            rule
            for promotion in self.promotions.values()
            if promotion.type is PromotionType.CATALOGUE and promotion.active(now)
            for rule in promotion.rules
        ]
        changed: list[ProductVariant] = []
        for variant in self.sandbox.store.variants.values():
            before = [listing.discounted_price for listing in variant.channel_listings]
            for listing in variant.channel_listings:
                discounts = [
                    rule.discount(listing.price, listing.currency)
                    for rule in rules
                    if rule.applies_to(variant, listing.channel_id)
                ]
                best = max(discounts, default=Decimal(0))
                listing.discounted_price = max(listing.price - best, Decimal(0))
            if [listing.discounted_price for listing in variant.channel_listings] != before:
                changed.append(variant)
        if has_discounted_price_updated(self.sandbox.version):
            for variant in changed:
                await self.sandbox.emit("PRODUCT_VARIANT_DISCOUNTED_PRICE_UPDATED", variant)

    def rule_of(self, rule_id: int) -> PromotionRule | None:
        return next((r for p in self.promotions.values() for r in p.rules if r.id == rule_id), None)

    def _rule(self, promotion: Promotion, fields: dict[str, Any]) -> PromotionRule:
        store = self.sandbox.store
        channels = [store.channel_by_slug(slug).id for slug in fields.pop("channels", [])]
        return PromotionRule(
            id=store.next_id(),
            promotion_id=promotion.id,
            predicate_type=promotion.type,
            channel_ids=channels,
            **fields,
        )


def promotion_resolvers() -> dict[str, dict[str, Callable[..., Any]]]:
    """Promotion and PromotionRule as webhook payloads read them."""

    def channels(rule: PromotionRule, info: Info) -> list[Any]:
        known = api_context(info).store.channels
        return [known[pk] for pk in rule.channel_ids if pk in known]

    return {
        "Promotion": {
            "id": lambda promotion, info: promotion.global_id,
            "type": lambda promotion, info: promotion.type.value,
        },
        "PromotionRule": {
            "id": lambda rule, info: rule.global_id,
            "channels": channels,
            "predicateType": lambda rule, info: rule.predicate_type.value,
            "rewardValueType": lambda rule, info: rule.reward_value_type.value,
        },
    }


__all__ = [
    "Promotion",
    "PromotionRule",
    "PromotionType",
    "RewardValueType",
    "SandboxPromotions",
    "promotion_resolvers",
]


def _toggle_type(
    promotion: Promotion, changes: dict[str, Any], previous_end: datetime | None, now: datetime
) -> str | None:
    """`PromotionUpdate.get_toggle_type`: the event a date set by the update calls for."""
    start, end = changes.get("start_date"), changes.get("end_date")
    notified = promotion.notified_at
    if start and start <= now and (notified is None or notified < start) and (not end or end > now):
        return "PROMOTION_STARTED"
    if end and end <= now and (notified is None or notified < end or previous_end is None):
        return "PROMOTION_ENDED"
    return None
