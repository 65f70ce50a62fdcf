"""Can abandoned-cart e-mails fire for a channel? Its health, from the app's own state and from
what Mailchimp last reported about the channel's store (`StoreCheck`, `store_checks.py`).

The app's side comes first and reuses the channel card's readiness (`channel_state.next_action`):
a channel whose card asks for something (tracking off, store not created, no finished initial
sync) cannot send carts, so its health is never "healthy", and the card's own action is the fix.
Then Mailchimp's side: a store marked `is_syncing` has its automations paused ("Whether to
disable automations because the store is currently syncing": the spec's `is_syncing`), and
e-mails need the store's abandoned-cart automation built and sending
(`automations.abandoned_cart`). Without a check of Mailchimp yet the state is `not_checked`,
never healthy. The E-commerce page's panel and the Activity page both read `health_of`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.audiences.service import confirmation_required
from addon.connection.models import ConnectionStatus
from addon.connection.repository import ConnectionRepository
from addon.db.types import utcnow
from addon.ecommerce import store_state
from addon.ecommerce.cart_models import StoreCheck
from addon.ecommerce.channel_state import ChannelFacts, LatestInitialSync, RunStatus, next_action
from addon.ecommerce.models import EntityKind, MailchimpStore, SyncRecord, SyncStatus
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.stores_repository import SettingsRepository, StoreRepository

# Mailchimp's Automations (Customer Journeys) page, where an abandoned-cart series is built for
# a store ("Launch the Automation Builder": the help article below).
AUTOMATIONS_URL = "https://admin.mailchimp.com/customer-journey/"
CONSENT_SOURCE = "https://mailchimp.com/help/create-an-abandoned-cart-series/"
# Mailchimp's own words (the article above), shown beside every channel's health.
CONSENT_RULE = (
    "Customers who provide their email address in your connected store, but don't opt-in to "
    "receive marketing emails from you, are added to your Mailchimp audience as non-subscribed "
    "contacts. For compliance reasons, these recipients will only receive the first email in "
    "the abandoned cart series."
)


class HealthState(StrEnum):
    NOT_CHECKED = "not_checked"  # Mailchimp not asked yet: never shown as healthy
    CARTS_NOT_FLOWING = "carts_not_flowing"  # the app does not send this channel's carts
    STORE_SYNCING = "store_syncing"  # Mailchimp pauses the store's automations
    NO_AUTOMATION = "no_automation"  # no abandoned-cart automation sending for the store
    # Carts go out without `checkout_url`, which Mailchimp's abandoned-cart automations need.
    NO_CHECKOUT_URL = "no_checkout_url"
    HEALTHY = "healthy"


class HealthAction(BaseModel):
    code: str = Field(description="What the page does: a next_action code, or open_url.")
    label: str
    url: str | None = None


class HealthProblem(BaseModel):
    state: HealthState
    message: str
    action: HealthAction | None = None


class ChannelHealth(BaseModel):
    channel: str
    name: str
    state: HealthState
    problems: list[HealthProblem] = Field(default_factory=list)
    carts_sent_last_24h: int = 0
    carts_quarantined: int = 0
    automation_status: str | None = None
    is_syncing: bool | None = None
    checked_at: datetime | None = None
    consent_note: str | None = Field(
        None, description="How consent limits this channel's carts (the audience's opt-in)."
    )
    site_id: str | None = None
    script_url: str | None = None
    script_fragment: str | None = None
    script_verified_at: datetime | None = None


class CartHealth(BaseModel):
    consent_rule: str = CONSENT_RULE
    consent_source: str = CONSENT_SOURCE
    channels: list[ChannelHealth]


def _app_side(
    facts: ChannelFacts, carts_enabled: bool, checkout_url_template: str | None
) -> HealthProblem | None:
    action = next_action(facts)
    if action.code != "none":
        return HealthProblem(
            state=HealthState.CARTS_NOT_FLOWING,
            message=f"Carts of {facts.name} are not sent to Mailchimp. {action.hint}",
            action=HealthAction(code=action.code, label=action.label or "Fix"),
        )
    if not carts_enabled:
        return HealthProblem(
            state=HealthState.CARTS_NOT_FLOWING,
            message="Abandoned-cart tracking is off, so no cart reaches Mailchimp.",
            action=HealthAction(code="enable_carts", label="Turn on abandoned-cart tracking"),
        )
    if not checkout_url_template:
        # The spec's cart `checkout_url`: "This parameter is required for Abandoned Cart
        # automations." Without the setting carts are sent without it (`cart_payloads`).
        return HealthProblem(
            state=HealthState.NO_CHECKOUT_URL,
            message="Carts are sent without a link back to the checkout, and Mailchimp's "
            "abandoned-cart e-mails need one: set the checkout URL under Storefront links and "
            "carts.",
            action=HealthAction(code="set_checkout_url", label="Set the checkout URL"),
        )
    return None


def _mailchimp_side(check: StoreCheck, running: bool) -> list[HealthProblem]:
    problems = []
    if check.is_syncing:
        problems.append(
            HealthProblem(
                state=HealthState.STORE_SYNCING,
                message="Mailchimp marks the store as syncing and holds its automations until "
                "the initial sync has finished.",
                action=None
                if running
                else HealthAction(code="start_initial_sync", label="Finish the initial sync"),
            )
        )
    builder = HealthAction(
        code="open_url", label="Open Mailchimp's automation builder", url=AUTOMATIONS_URL
    )
    if not check.cart_automation_supported:
        problems.append(
            HealthProblem(
                state=HealthState.NO_AUTOMATION,
                message="Mailchimp does not offer the abandoned-cart automation for this store.",
            )
        )
    elif not check.cart_automation_id:
        problems.append(
            HealthProblem(
                state=HealthState.NO_AUTOMATION,
                message="The store has no abandoned-cart automation in Mailchimp: build one "
                "for it in the automation builder.",
                action=builder,
            )
        )
    elif check.cart_automation_status != "sending":
        status = {"paused": "paused", "save": "a draft"}.get(
            check.cart_automation_status or "", "not sending"
        )
        problems.append(
            HealthProblem(
                state=HealthState.NO_AUTOMATION,
                message=f"The store's abandoned-cart automation is {status}: start it in "
                "Mailchimp.",
                action=builder,
            )
        )
    return problems


async def _cart_counts(
    session: AsyncSession, installation_id: int, since: datetime
) -> tuple[dict[str, int], dict[str, int]]:
    """Carts sent since `since`, and carts quarantined, per channel."""
    base = select(SyncRecord.channel_slug, func.count()).where(
        SyncRecord.installation_id == installation_id, SyncRecord.kind == EntityKind.CART
    )
    sent = await session.execute(
        base.where(SyncRecord.pushed_at >= since).group_by(SyncRecord.channel_slug)
    )
    stuck = await session.execute(
        base.where(SyncRecord.status == SyncStatus.QUARANTINED).group_by(SyncRecord.channel_slug)
    )
    return (
        {slug: int(n) for slug, n in sent.all()},
        {slug: int(n) for slug, n in stuck.all()},
    )


async def channel_facts(
    session: AsyncSession,
    installation_id: int,
    stores: Sequence[MailchimpStore],
    latest_initial_sync: LatestInitialSync,
) -> dict[str, ChannelFacts]:
    """The facts the channel cards derive their state from, for tracked channels (read from
    the app's database alone: the Activity page calls no other service)."""
    settings = await SettingsRepository(session).get_or_create(installation_id)
    connection = await ConnectionRepository(session).get(installation_id)
    records = {
        r.channel_slug: r
        for r in await LedgerRepository(session).select(installation_id, kinds=[EntityKind.STORE])
    }
    facts = {}
    for store in stores:
        facts[store.channel_slug] = ChannelFacts(
            name=store.name or store.channel_slug,
            connected=bool(connection and connection.status is ConnectionStatus.CONNECTED),
            revoked=bool(connection and connection.status is ConnectionStatus.REVOKED),
            has_audience=True,  # a tracked channel has its store's audience
            tracked=store.tracked,
            tracking_enabled=settings.tracking_enabled,
            store_status=store_state.store_status(store, records.get(store.channel_slug)),
            initial_sync=await latest_initial_sync(session, installation_id, store.channel_slug),
        )
    return facts


async def health_of(
    session: AsyncSession, installation_id: int, latest_initial_sync: LatestInitialSync
) -> CartHealth:
    """Every tracked channel's abandoned-cart health, from the last check of Mailchimp."""
    stores = await StoreRepository(session).tracked(installation_id)
    settings = await SettingsRepository(session).get_or_create(installation_id)
    facts = await channel_facts(session, installation_id, stores, latest_initial_sync)
    checks = {
        c.channel_slug: c
        for c in (await session.execute(StoreCheck.of_installation(installation_id))).scalars()
    }
    sent, stuck = await _cart_counts(session, installation_id, utcnow() - timedelta(hours=24))
    channels = []
    for store in stores:
        slug = store.channel_slug
        fact = facts[slug]
        check = checks.get(slug)
        if check is not None and check.store_id != store.store_id:
            check = None  # a check of the channel's previous store says nothing of this one
        problems: list[HealthProblem] = []
        app_problem = _app_side(
            fact, settings.abandoned_carts_enabled, settings.checkout_url_template
        )
        if app_problem is not None:
            problems.append(app_problem)
        if check is not None:
            problems.extend(_mailchimp_side(check, fact.initial_sync is RunStatus.RUNNING))
        state = problems[0].state if problems else HealthState.HEALTHY
        if check is None and not problems:
            state = HealthState.NOT_CHECKED
        note = None
        if await confirmation_required(session, installation_id, store.list_id):
            note = (
                "The audience asks new subscribers to confirm by e-mail, so shoppers are sent "
                "as non-subscribed contacts until they confirm: they get only the first e-mail "
                "of an abandoned-cart series."
            )
        channels.append(
            ChannelHealth(
                channel=slug,
                name=fact.name,
                state=state,
                problems=problems,
                carts_sent_last_24h=sent.get(slug, 0),
                carts_quarantined=stuck.get(slug, 0),
                automation_status=check.cart_automation_status if check else None,
                is_syncing=check.is_syncing if check else None,
                checked_at=check.checked_at if check else None,
                consent_note=note,
                site_id=check.site_foreign_id if check else None,
                script_url=check.script_url if check else None,
                script_fragment=check.script_fragment if check else None,
                script_verified_at=check.script_verified_at if check else None,
            )
        )
    return CartHealth(channels=channels)
