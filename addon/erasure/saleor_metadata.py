"""The app's metadata on a customer erased from the customer panel, deleted from Saleor.

An erasure from the panel keeps the customer in Saleor (the store's), but what the app wrote on
them is about the person it erased: their status, groups and address in each audience
(`subscriptions.metadata`, public and private) and their campaign engagement and Mailchimp tags
(`engagement.metadata`, private: opens, clicks, revenue). So once the erasure has forgotten
them, a job of the contact's lane (after any write-back queued before it) deletes those keys
(`deleteMetadata`, `deletePrivateMetadata`), once no engagement collection is writing. The
storefront's own keys (the consent it recorded, `mailchimp.consent.*`) stay: they are the
store's record, not the app's.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from addon.db.types import utcnow
from addon.engagement.metadata import SUMMARY_KEY, TAGS_PREFIX
from addon.engagement.models import EngagementSettings, RunState
from addon.installations.repository import InstallationRepository
from addon.installations.token_doubt import wait_if_token_in_doubt
from addon.jobs.models import Job
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.saleor.client import SaleorError, SaleorPermissionDenied, SaleorQueryError
from addon.services import Services
from addon.subscriptions.metadata import EMAIL_PREFIX, GROUPS_PREFIX, STATUS_PREFIX

logger = logging.getLogger(__name__)

METADATA_JOB = "erasure.saleor_metadata"
# A collection running may write the customer's engagement after it was forgotten: the
# deletion waits for it, looking again every minute, for up to a day (then goes ahead).
COLLECTION_RETRY_SECONDS = 60.0
COLLECTION_WAIT = timedelta(days=1)
# What the app writes on a customer: these keys, and those starting with these prefixes.
_WRITTEN_PREFIXES = (STATUS_PREFIX, GROUPS_PREFIX, EMAIL_PREFIX, TAGS_PREFIX)
_WRITTEN_KEYS = frozenset({SUMMARY_KEY})


class MetadataErasure(BaseModel):
    """The customer whose app metadata goes (a Saleor id: no address)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    saleor_user_id: str


def written_by_app(key: str) -> bool:
    return key in _WRITTEN_KEYS or key.startswith(_WRITTEN_PREFIXES)


async def enqueue_metadata_erasure(
    session: AsyncSession, installation_id: int, saleor_user_id: str, lane: str
) -> None:
    await JobRepository(session).enqueue(
        installation_id,
        METADATA_JOB,
        MetadataErasure(saleor_user_id=saleor_user_id).model_dump(),
        coalesce_key=f"{METADATA_JOB}:{saleor_user_id}",
        lane=lane,
    )


async def _collecting(session: AsyncSession, job: ClaimedJob) -> bool:
    """Whether an engagement collection runs (its writer may still send a page read before the
    erasure forgot the customer), and this job has not waited for it `COLLECTION_WAIT` yet."""
    state = await session.scalar(
        select(EngagementSettings.state).where(
            EngagementSettings.installation_id == job.installation_id
        )
    )
    created = await session.scalar(select(Job.created_at).where(Job.id == job.id))
    fresh = created is not None and utcnow() - created < COLLECTION_WAIT
    return state is RunState.RUNNING and fresh


async def handle_metadata_erasure(
    job: ClaimedJob, payload: MetadataErasure, services: Services
) -> None:
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(job.installation_id)
        collecting = await _collecting(session, job)
    if installation is None:
        return
    if collecting:
        raise RetryLater("waits for the engagement collection running", COLLECTION_RETRY_SECONDS)
    api_url, token = installation.saleor_api_url, installation.app_token
    variables: dict[str, Any] = {"id": payload.saleor_user_id}
    try:
        try:
            data = await services.saleor.execute(
                api_url, token, "erasure_customer_metadata", variables
            )
        except SaleorQueryError:
            return  # an id Saleor cannot resolve: no such customer
        user = data.get("user")
        if not user:
            return  # deleted since: its metadata went with it
        public = sorted(e["key"] for e in user.get("metadata") or [] if written_by_app(e["key"]))
        private = sorted(
            e["key"] for e in user.get("privateMetadata") or [] if written_by_app(e["key"])
        )
        if not public and not private:
            return
        deleted = await services.saleor.execute(
            api_url,
            token,
            "erasure_delete_metadata",
            {**variables, "public": public, "private": private},
        )
    except SaleorPermissionDenied as exc:
        await wait_if_token_in_doubt(services, job.installation_id, exc)  # deactivated?
        # A staff account's private metadata needs MANAGE_STAFF, which the app does not ask
        # for (nor did it write there: `subscriptions.writeback`).
        logger.info("Saleor refused the app the metadata of an erased customer: %s", exc)
        return
    for field in ("deleteMetadata", "deletePrivateMetadata"):
        errors = [e for e in (deleted.get(field) or {}).get("errors") or [] if e]
        if any(e.get("code") != "NOT_FOUND" for e in errors):  # NOT_FOUND: deleted since
            raise SaleorError(f"Saleor refused {field}: {errors[0].get('message')}")
    logger.info(
        "Deleted %d public and %d private metadata keys of an erased customer",
        len(public),
        len(private),
    )


def register(registry: HandlerRegistry[Services]) -> None:
    registry.register(METADATA_JOB, handle_metadata_erasure, payload=MetadataErasure)
