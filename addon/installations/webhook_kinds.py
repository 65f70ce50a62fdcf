"""The job kind a webhook delivery becomes (apart from `webhooks.py`, so that what queues work
from the installation's own service can name it without an import cycle)."""

from __future__ import annotations


def webhook_job_kind(slug: str) -> str:
    """The job kind of deliveries to `webhooks/<slug>.graphql`; its owner registers a handler."""
    return f"webhook.{slug}"
