"""Where each capability plugs its job handlers into the worker."""

from __future__ import annotations

from addon.jobs.worker import HandlerRegistry


def register_job_handlers(registry: HandlerRegistry) -> None:
    """Register every capability's job kinds (later capabilities add theirs here)."""
    del registry  # nothing yet: lifecycle events are applied on receipt
