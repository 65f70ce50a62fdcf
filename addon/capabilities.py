"""The composition root: where each capability plugs into the app (its HTTP routers, its job
handlers, its answers to other capabilities' ports, its hooks on shared services). Only the app,
the CLI and the dev stack import this.

A capability adds one line to each list below (and nothing else here).
"""

from __future__ import annotations

import logging

import httpx
from fastapi import APIRouter
from sqlalchemy import select

from addon.config import Settings
from addon.installations.lifecycle import watch_saleor_calls
from addon.installations.models import Installation
from addon.jobs.models import Job
from addon.jobs.registry import HandlerRegistry
from addon.services import Ports, Services

logger = logging.getLogger(__name__)

# One condition object for every registry of the process: the claim statements built on it are
# cached by its identity (`addon.jobs.statements.claim_statement`).
ACTIVE_INSTALLATIONS = Job.installation_id.in_(
    select(Installation.id).where(Installation.is_active)
)


def create_services(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> Services:
    """One process's services with every capability plugged in; `transport` routes outbound
    HTTP (tests, sandboxes)."""
    services = Services.bare(settings, transport=transport)
    register_job_handlers(services.handlers)
    plug_ports(services.ports)
    watch_saleor_calls(services)  # a refused Saleor call queues a lifecycle check
    return services


def routers() -> list[APIRouter]:
    from addon.activity.endpoints import router as activity
    from addon.connection.endpoints import router as connection
    from addon.ecommerce.endpoints import router as ecommerce
    from addon.ecommerce.health_api import router as cart_health
    from addon.ecommerce.promo_api import router as promos
    from addon.ecommerce.storefront_api import router as cart_storefront
    from addon.engagement.endpoints import router as engagement
    from addon.erasure.endpoints import router as erasure
    from addon.health.endpoints import router as health
    from addon.health.metrics import router as metrics
    from addon.initial_sync.endpoints import router as initial_sync
    from addon.installations.endpoints import router as installations
    from addon.installations.saleor_endpoints import router as saleor
    from addon.subscriptions.capability import newsletter_routers
    from addon.ui.endpoints import router as ui

    return [
        health,
        metrics,
        saleor,
        installations,
        connection,
        activity,
        ui,
        *newsletter_routers(),
        ecommerce,
        cart_health,
        cart_storefront,
        promos,
        initial_sync,
        erasure,
        engagement,
    ]


def register_job_handlers(registry: HandlerRegistry[Services]) -> None:
    """Register every capability's job kinds (lifecycle events need none: they apply on receipt),
    pause the jobs of an inactive installation (the queue knows no installation), and have a
    refusal that a deactivation may explain wait for the lifecycle check."""
    from addon.ecommerce import sync as ecommerce_sync
    from addon.engagement import jobs as engagement_jobs
    from addon.engagement import service as engagement_service
    from addon.erasure import deletions as erasure_deletions
    from addon.erasure import jobs as erasure_jobs
    from addon.erasure import saleor_metadata as erasure_metadata
    from addon.initial_sync import jobs as initial_sync_jobs
    from addon.installations import lifecycle, missed, token_doubt, uninstall, webhook_upkeep
    from addon.subscriptions import email_change
    from addon.subscriptions.capability import register_newsletter_jobs

    register_newsletter_jobs(registry)
    email_change.register(registry)
    erasure_jobs.register(registry)
    erasure_metadata.register(registry)
    erasure_deletions.register(registry)
    ecommerce_sync.register(registry)
    initial_sync_jobs.register(registry)
    engagement_jobs.register(registry)
    engagement_service.register(registry)
    lifecycle.register(registry)
    missed.register(registry)
    webhook_upkeep.register(registry)
    uninstall.register(registry)
    registry.claim_only(ACTIVE_INSTALLATIONS)
    # A Saleor refusal while the app's token is in doubt (deactivated?) waits, uncounted.
    registry.defer_failures(token_doubt.defer_refusal)


async def start_up(services: Services) -> None:
    """What a capability does once when a process starts, after the migrations (`addon serve`
    and `addon worker`), once the SECRET_KEY is known to read the stored secrets. Each step only
    hastens or restores what the worker does anyway, so one that fails is logged and the process
    starts."""
    from addon.ecommerce.cart_sweep import queue_cart_sweeps
    from addon.ecommerce.catalog_revision import queue_catalog_refresh
    from addon.installations.key_check import check_secret_key
    from addon.installations.uninstall import queue_unfinished_uninstalls
    from addon.installations.webhook_catch_up import queue_outdated_upkeeps

    # Not a step that may fail: with a SECRET_KEY that reads no stored secret, every job would
    # fail into quarantine (`key_check.py`).
    await check_secret_key(services.db)
    try:
        await queue_outdated_upkeeps(services)
    except Exception:
        logger.exception("Could not queue the webhook upkeep at start-up")
    try:
        await queue_unfinished_uninstalls(services)
    except Exception:
        logger.exception("Could not queue the uninstalled installations' last jobs at start-up")
    try:
        await queue_cart_sweeps(services)
    except Exception:
        logger.exception("Could not queue the daily cart sweeps at start-up")
    try:
        await queue_catalog_refresh(services)
    except Exception:
        logger.exception("Could not queue the stores' catalogue refresh at start-up")


def plug_ports(ports: Ports) -> None:
    """Answer each question a capability asks of another it may not import."""
    from addon.connection.letting_go import LET_GO
    from addon.connection.reconnect import OWED_TO_ACCOUNT
    from addon.ecommerce.channel_state import (
        LATEST_INITIAL_SYNC,
        MOVE_INITIAL_SYNCS,
        SYNC_HOLDS_STORE,
    )
    from addon.ecommerce.farewell import farewell
    from addon.ecommerce.resume import queue_on_resume
    from addon.erasure.jobs import OWED_ERASURES
    from addon.erasure.known import known_customers
    from addon.initial_sync.release import release_flags
    from addon.initial_sync.repository import holds_store, latest_status, move_channel
    from addon.installations.resume_ports import KNOWN_CUSTOMERS, ON_RESUME
    from addon.installations.uninstall import MAILCHIMP_FAREWELL
    from addon.subscriptions.apply import OWED_UNSUBSCRIBES
    from addon.subscriptions.events_waiting import WAITING_ADDRESS_CHANGES

    ports.plug(LATEST_INITIAL_SYNC, latest_status)
    ports.plug(MOVE_INITIAL_SYNCS, move_channel)
    ports.plug(SYNC_HOLDS_STORE, holds_store)
    ports.plug(MAILCHIMP_FAREWELL, farewell)
    ports.plug(ON_RESUME, (queue_on_resume,))
    ports.plug(KNOWN_CUSTOMERS, known_customers)
    ports.plug(OWED_TO_ACCOUNT, (OWED_ERASURES, OWED_UNSUBSCRIBES, WAITING_ADDRESS_CHANGES))
    ports.plug(LET_GO, release_flags)
