"""Where each capability plugs into the app: its HTTP routers and its job handlers.

A capability adds one line to each list below (and nothing else here).
"""

from __future__ import annotations

from fastapi import APIRouter

from addon.jobs.worker import HandlerRegistry


def routers() -> list[APIRouter]:
    from addon.activity.endpoints import router as activity
    from addon.connection.endpoints import router as connection
    from addon.ecommerce.endpoints import router as ecommerce
    from addon.health.endpoints import router as health
    from addon.initial_sync.endpoints import router as initial_sync
    from addon.installations.endpoints import router as installations
    from addon.installations.saleor_endpoints import router as saleor
    from addon.subscriptions.capability import newsletter_routers
    from addon.ui.endpoints import router as ui

    return [
        health,
        saleor,
        installations,
        connection,
        activity,
        ui,
        *newsletter_routers(),
        ecommerce,
        initial_sync,
    ]


def register_job_handlers(registry: HandlerRegistry) -> None:
    """Register every capability's job kinds (lifecycle events need none: they apply on receipt)."""
    from addon.ecommerce import sync as ecommerce_sync
    from addon.initial_sync import jobs as initial_sync_jobs
    from addon.installations import lifecycle
    from addon.subscriptions.capability import register_newsletter_jobs

    register_newsletter_jobs(registry)
    ecommerce_sync.register(registry)
    initial_sync_jobs.register(registry)
    lifecycle.register(registry)
