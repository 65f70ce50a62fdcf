"""What queues vouchers' pushes: Saleor's voucher webhooks, and the re-sending of every voucher
(`ecommerce.promos_resync`: after the initial sync of a channel and when the admin changes the
choice of vouchers). The push itself is `promo_sync.PromoPusher`, run by `ecommerce.push`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from addon.db.types import utcnow
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.payloads import mailchimp_id
from addon.ecommerce.promo_models import PromoOffer
from addon.ecommerce.promo_usage import PromoRepository, queue_voucher_pushes
from addon.ecommerce.repository import LedgerRepository
from addon.installations.models import Installation
from addon.installations.repository import InstallationRepository
from addon.installations.token_doubt import wait_if_token_in_doubt
from addon.installations.webhook_kinds import webhook_job_kind
from addon.jobs.completion import complete_in
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob, NoPayload, RetryLater, WebhookJob
from addon.saleor.client import SaleorPermissionDenied
from addon.saleor.paging import Pager
from addon.services import Services

RESYNC_JOB = "ecommerce.promos_resync"
PERMISSION_JOB = "ecommerce.promos_permission"
MAX_PAGES = 100  # 10 000 vouchers
# Looking up a VOUCHER_CODES_CREATED event's voucher (`_vouchers_of_codes`): candidates are
# read 50 a page (each with its 10 newest codes), at most this many pages per search ...
CANDIDATE_PAGES = 2
# ... and at most this many codes of one event are searched.
MAX_SEARCHES = 3
# While Saleor refuses to show vouchers (no MANAGE_DISCOUNTS), how often the app looks again.
PERMISSION_CHECK_SECONDS = 3600.0


class _Ref(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str


class _Code(_Ref):
    code: str | None = None


class _VoucherBody(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    voucher: _Ref | None = None
    voucher_codes: list[_Code] | None = Field(None, alias="voucherCodes")


VoucherEvent = WebhookJob[_VoucherBody]


async def queue_resync(session: Any, installation_id: int) -> None:
    """Queue one re-sending of every voucher (coalesced: many triggers, one run)."""
    await JobRepository(session).enqueue(
        installation_id, RESYNC_JOB, {}, coalesce_key=RESYNC_JOB, lane=RESYNC_JOB
    )


async def wait_for_permission(session: Any, installation_id: int) -> None:
    """Saleor refused to show vouchers (installed before the app asked for MANAGE_DISCOUNTS):
    look again every `PERMISSION_CHECK_SECONDS`, and once Saleor shows them (the admin granted
    the permission) send every voucher. Coalesced: one waiting look however many refusals."""
    await JobRepository(session).enqueue(
        installation_id,
        PERMISSION_JOB,
        {},
        coalesce_key=PERMISSION_JOB,
        lane=PERMISSION_JOB,
        run_after=utcnow() + timedelta(seconds=PERMISSION_CHECK_SECONDS),
    )


async def permission_job(job: ClaimedJob, payload: NoPayload, services: Services) -> None:
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(job.installation_id)
        offer = (await PromoRepository(session).settings(job.installation_id)).offer
    if installation is None or offer is PromoOffer.NONE:
        return  # nothing offered: a later choice re-sends every voucher anyway
    try:
        await services.saleor.execute(
            installation.saleor_api_url,
            installation.app_token,
            "promo_vouchers",
            {"after": None},
            notify_refusal=False,
        )
    except SaleorPermissionDenied:
        raise RetryLater("Saleor does not show vouchers yet", PERMISSION_CHECK_SECONDS) from None
    async with services.db.transaction() as session:
        await queue_resync(session, job.installation_id)
        await complete_in(session)


async def queue_resync_if_offered(session: Any, installation_id: int) -> None:
    """An initial sync starts: its vouchers are sent too, when the admin offers any."""
    if (await PromoRepository(session).settings(installation_id)).offer is not PromoOffer.NONE:
        await queue_resync(session, installation_id)


async def _vouchers_of_codes(
    services: Services, installation_id: int, codes: list[_Code]
) -> list[str]:
    """VOUCHER_CODES_CREATED names codes only (Saleor's VoucherCode has no link to its
    voucher), and adding codes alone fires nothing else, so the voucher is found by Saleor's
    search: usually one query per event. One mutation (voucherCreate, voucherUpdate's
    `addCodes`) creates an event's codes, all of one voucher, so the first voucher seen holding
    any of them holds them all; another code is searched only when a search finds no holder
    (its code deleted meanwhile, or too many vouchers match it)."""
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(installation_id)
    if installation is None:
        return []
    # The longest codes first: a substring search for them matches the fewest other vouchers.
    unaccounted = sorted({c.code for c in codes if c.code}, key=lambda c: (-len(c), c))
    wanted = set(unaccounted)
    for code in unaccounted[:MAX_SEARCHES]:
        try:
            candidates = await _candidates(services, installation, code, wanted)
        except SaleorPermissionDenied as refusal:
            # No MANAGE_DISCOUNTS, unless the app was deactivated (then this waits for it).
            await wait_if_token_in_doubt(services, installation_id, refusal)
            return []
        holders = [voucher for voucher, held in candidates.items() if held & wanted]
        if not holders and len(candidates) == 1:
            # The only voucher the search matches holds the code (more codes were added since
            # than its newest page shows).
            holders = list(candidates)
        if holders:
            return holders
    return []


async def _candidates(
    services: Services, installation: Installation, code: str, wanted: set[str]
) -> dict[str, set[str]]:
    """The vouchers whose name or codes contain `code`, each with its newest codes (Saleor
    pages them newest first, so an event's codes are among them). Read until one holds one of
    the event's codes (`wanted`), at most `CANDIDATE_PAGES` pages: more than 100 vouchers
    containing one code (codes are unique, so all but one contain it only as a substring of a
    name or a longer code) is a search too vague to pay for; another code is tried instead."""
    found: dict[str, set[str]] = {}
    async for page in Pager(
        services.saleor,
        installation.saleor_api_url,
        installation.app_token,
        "promo_voucher_by_code",
        "vouchers",
        {"code": code},
        max_pages=CANDIDATE_PAGES,
        notify_refusal=False,
    ):
        for node in page.nodes:
            held = (node.get("codes") or {}).get("edges") or []
            found[node["id"]] = {c["node"]["code"] for c in held}
        if any(held & wanted for held in found.values()):
            break
    return found


async def on_vouchers(job: ClaimedJob, event: VoucherEvent, services: Services) -> None:
    body = event.body
    installation_id = job.installation_id
    async with services.db.session() as session:
        offer = (await PromoRepository(session).settings(installation_id)).offer
    voucher_ids: list[str] = []
    if body.voucher is not None:
        voucher_ids = [body.voucher.id]
    elif body.voucher_codes and event.event.upper() == "VOUCHER_CODES_DELETED":
        # The event names codes, not their voucher: it is the one whose record holds them
        # (deleted ones only matter where Mailchimp holds them), or one whose push is under
        # way: its record learns the codes it sent only when its push (or code batch) is
        # done, so that push is followed by another, which deletes them.
        gone = {mailchimp_id(c.id) for c in body.voucher_codes}
        async with services.db.session() as session:
            records = await LedgerRepository(session).select(
                installation_id, kinds=[EntityKind.PROMO_RULE]
            )
        voucher_ids = list(
            dict.fromkeys(
                r.saleor_id
                for r in records
                if r.status is SyncStatus.PENDING or gone & set(r.children or {})
            )
        )
    elif body.voucher_codes and offer is not PromoOffer.NONE:
        voucher_ids = await _vouchers_of_codes(services, installation_id, body.voucher_codes)
    async with services.db.transaction() as session:
        if voucher_ids:
            await queue_voucher_pushes(
                session, installation_id, voucher_ids, held_only=offer is PromoOffer.NONE
            )
        await complete_in(session)


async def resync_job(job: ClaimedJob, payload: NoPayload, services: Services) -> None:
    """Queue the push of every voucher Saleor has and every one Mailchimp holds (a voucher no
    longer offered is removed by its push)."""
    installation_id = job.installation_id
    async with services.db.session() as session:
        installation = await InstallationRepository(session).get(installation_id)
        offer = (await PromoRepository(session).settings(installation_id)).offer
        held = [
            r.saleor_id
            for r in await LedgerRepository(session).select(
                installation_id, kinds=[EntityKind.PROMO_RULE]
            )
            if r.mailchimp_id is not None and r.status is not SyncStatus.REMOVED
        ]
    if installation is None:
        return
    voucher_ids: list[str] = list(dict.fromkeys(held))
    denied = False
    if offer is not PromoOffer.NONE:
        try:
            async for page in Pager(
                services.saleor,
                installation.saleor_api_url,
                installation.app_token,
                "promo_vouchers",
                "vouchers",
                {},
                max_pages=MAX_PAGES,
                notify_refusal=False,
            ):
                for node in page.nodes:
                    if node["id"] not in voucher_ids:
                        voucher_ids.append(node["id"])
        except SaleorPermissionDenied as refusal:
            # The vouchers of the pages read before are pushed all the same.
            await wait_if_token_in_doubt(services, installation_id, refusal)  # deactivated?
            denied = True
    async with services.db.transaction() as session:
        await queue_voucher_pushes(session, installation_id, voucher_ids, held_only=False)
        if denied:
            await wait_for_permission(session, installation_id)


def register(registry: HandlerRegistry) -> None:
    registry.register(webhook_job_kind("ecommerce-vouchers"), on_vouchers, payload=VoucherEvent)
    registry.register(RESYNC_JOB, resync_job, payload=NoPayload)
    registry.register(PERMISSION_JOB, permission_job, payload=NoPayload)
