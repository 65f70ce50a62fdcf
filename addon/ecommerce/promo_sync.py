"""Vouchers → Mailchimp promo rules and codes through the sync ledger (the same path as products
and orders): webhook → `ecommerce.push` of the voucher's record (kind `promo_rule`, one per
channel) → `PromoPusher`.

A voucher's record holds its rule's hash and, as children, each code's hash (keyed by the
code's Mailchimp id): the rule's push reconciles the codes, so a change sends only the codes
that changed, and deleted codes are deleted. More code operations than `BATCH_FROM` go as one
Mailchimp batch, whose results a poll job (`ecommerce.promo_codes`) writes into the record.
A voucher not (or no longer) offered by the admin's choice, deleted, or not sold in the channel
has its rule deleted (with its codes) from Mailchimp.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from addon.connection.service import NotConnected, mailchimp_for
from addon.db.types import utcnow
from addon.ecommerce import promo_payloads
from addon.ecommerce.catalog import CatalogPusher, already_exists
from addon.ecommerce.models import EntityKind, Fingerprint
from addon.ecommerce.payloads import content_hash
from addon.ecommerce.promo_schemas import SaleorVoucher, VoucherCode
from addon.ecommerce.promo_usage import PromoRepository
from addon.ecommerce.push_queue import ledger_key
from addon.ecommerce.repository import LedgerRepository
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob, RetryLater
from addon.mailchimp import BadRequest, NotFound
from addon.mailchimp.models import BatchOperation
from addon.mailchimp.promos import (
    PromoClient,
    PromoCodeInput,
    PromoCodePatch,
    PromoRulePatch,
    create_code_op,
    delete_code_op,
    update_code_op,
)
from addon.saleor.client import SaleorPermissionDenied
from addon.services import Services

logger = logging.getLogger(__name__)

CODES_JOB = "ecommerce.promo_codes"
BATCH_FROM = 50  # more code operations than this go as one Mailchimp batch
POLL_SECONDS = 5.0
MAX_CODE_PAGES = 200  # 20 000 codes: Saleor serves 100 a page


class CodesBatch(BaseModel):
    """A batch of one voucher's code operations: operation id → code id and its new hash
    ("" for a deletion)."""

    model_config = ConfigDict(extra="forbid")

    channel: str
    voucher_id: str
    batch_id: str
    operations: dict[str, tuple[str, str]]


def _fingerprint(rule: Any, codes: list[PromoCodeInput]) -> Fingerprint:
    return Fingerprint(content_hash(rule.body()), {c.id: content_hash(c.body()) for c in codes})


class PromoPusher(CatalogPusher):
    """Pushes one voucher's promo rule and codes to one channel's store."""

    @property
    def promos(self) -> PromoClient:
        return PromoClient(self.client)

    async def read_voucher(self, voucher_id: str) -> SaleorVoucher | None:
        """The voucher with all its codes (a page of 100 at a time); None when gone."""
        raw: dict[str, Any] | None = None
        codes: list[dict[str, Any]] = []
        after = None
        for _ in range(MAX_CODE_PAGES):
            data = await self.services.saleor.execute(
                self.ctx.api_url,
                self.ctx.token,
                "promo_voucher",
                {"id": voucher_id, "after": after},
                notify_refusal=False,
            )
            page = data.get("voucher")
            if not page:
                return None
            raw = raw or page
            connection = page.get("codes") or {}
            codes += connection.get("edges") or []
            info = connection.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                break
            after = info.get("endCursor")
        assert raw is not None
        return SaleorVoucher.model_validate({**raw, "codes": {"edges": codes}})

    async def push_rule(self, voucher_id: str) -> None:
        known = await self.known(EntityKind.PROMO_RULE, voucher_id)
        async with self.services.db.session() as session:
            settings = await PromoRepository(session).settings(self.ctx.installation_id)
            offer, flag_key = settings.offer, settings.flag_key
            template = settings.redemption_url_template
        try:
            voucher = await self.read_voucher(voucher_id)
        except SaleorPermissionDenied:
            # Installed before the app asked for MANAGE_DISCOUNTS: nothing can be read until
            # the admin grants it (docs/promo-codes.md); nothing is changed in Mailchimp.
            logger.warning("No MANAGE_DISCOUNTS: voucher %s not sent", voucher_id)
            await self.removed(EntityKind.PROMO_RULE, voucher_id, known.mailchimp_id, pushed=False)
            return
        if voucher is not None:
            label = voucher.name or next((c.node.code for c in voucher.codes.edges), None)
            await self.remember_label(EntityKind.PROMO_RULE, voucher_id, known, label)
        rule = None
        if voucher is not None and promo_payloads.offered(voucher, offer, flag_key):
            rule = promo_payloads.rule_input(voucher, self.ctx.channel)
        if voucher is None or rule is None:
            if known.mailchimp_id is not None:
                with contextlib.suppress(NotFound):
                    await self.promos.delete_rule(self.ctx.store_id, known.mailchimp_id)
            await self.removed(
                EntityKind.PROMO_RULE, voucher_id, pushed=known.mailchimp_id is not None
            )
            return
        await self.ensure_store()
        codes = await self._codes(voucher, template)
        pushing = _fingerprint(rule, codes)
        if known.holds(pushing):
            return
        sent = dict(known.children)
        if known.mailchimp_id is None:
            try:
                await self.promos.create_rule(self.ctx.store_id, rule)
            except BadRequest as exc:
                if not already_exists(exc):
                    raise
                await self._update_rule(rule)
                sent = {}  # its codes unknown: each is created, or updated if held
        elif known.fingerprint.content_hash != pushing.content_hash:
            try:
                await self._update_rule(rule)
            except NotFound:
                await self.promos.create_rule(self.ctx.store_id, rule)
                sent = {}
        held = await self._send_codes(voucher_id, rule.id, codes, sent, pushing)
        await self.synced(
            EntityKind.PROMO_RULE, voucher_id, rule.id, Fingerprint(pushing.content_hash, held)
        )

    async def _update_rule(self, rule: Any) -> None:
        patch = PromoRulePatch.model_validate(rule.model_dump(exclude={"id"}))
        await self.promos.update_rule(self.ctx.store_id, rule.id, patch)

    async def _codes(self, voucher: SaleorVoucher, template: str | None) -> list[PromoCodeInput]:
        raw: list[VoucherCode] = [edge.node for edge in voucher.codes.edges]
        async with self.services.db.session() as session:
            usage = await PromoRepository(session).usage(
                self.ctx.installation_id, self.ctx.channel, [c.code for c in raw if c.code]
            )
        # Without a template: the storefront's address (as the store's `domain`), else Saleor's.
        domain = urlsplit(self.ctx.product_url_template or "").netloc or self.ctx.domain
        fallback = f"https://{domain}/"
        codes = []
        for code in raw:
            url = promo_payloads.redemption_url(
                template, code.code or "", self.ctx.channel, fallback
            )
            body = promo_payloads.code_input(code, url, usage.get(code.code or "", 0))
            if body is not None:
                codes.append(body)
        return codes

    async def _send_codes(
        self,
        voucher_id: str,
        rule_id: str,
        codes: list[PromoCodeInput],
        sent: dict[str, str],
        pushing: Fingerprint,
    ) -> dict[str, str]:
        """Create, update and delete the codes that differ from what Mailchimp holds; return
        the children Mailchimp confirmed (a batch's are added when its results are in)."""
        wanted = pushing.children
        changed = [c for c in codes if sent.get(c.id) != wanted[c.id]]
        gone = [code_id for code_id in sent if code_id not in wanted]
        held = {k: v for k, v in sent.items() if k in wanted and v == wanted[k]}
        if len(changed) + len(gone) > BATCH_FROM:
            await self._batch(voucher_id, rule_id, changed, gone, sent, wanted)
            return held
        store, promos = self.ctx.store_id, self.promos
        for code in changed:
            if code.id in sent:
                patch = PromoCodePatch.model_validate(code.model_dump(exclude={"id"}))
                try:
                    await promos.update_code(store, rule_id, code.id, patch)
                except NotFound:
                    await promos.create_code(store, rule_id, code)
            else:
                try:
                    await promos.create_code(store, rule_id, code)
                except BadRequest as exc:
                    if not already_exists(exc):
                        raise
                    patch = PromoCodePatch.model_validate(code.model_dump(exclude={"id"}))
                    await promos.update_code(store, rule_id, code.id, patch)
            held[code.id] = wanted[code.id]
        for code_id in gone:
            with contextlib.suppress(NotFound):
                await promos.delete_code(store, rule_id, code_id)
        return held

    async def _batch(
        self,
        voucher_id: str,
        rule_id: str,
        changed: list[PromoCodeInput],
        gone: list[str],
        sent: dict[str, str],
        wanted: dict[str, str],
    ) -> None:
        """Thousands of codes: one Mailchimp batch, its results applied by `CODES_JOB`."""
        store = self.ctx.store_id
        operations: list[BatchOperation] = []
        meaning: dict[str, tuple[str, str]] = {}
        for code in changed:
            op_id = f"code:{code.id}"
            if code.id in sent:
                patch = PromoCodePatch.model_validate(code.model_dump(exclude={"id"}))
                operations.append(
                    update_code_op(store, rule_id, code.id, patch, operation_id=op_id)
                )
            else:
                operations.append(create_code_op(store, rule_id, code, operation_id=op_id))
            meaning[op_id] = (code.id, wanted[code.id])
        for code_id in gone:
            op_id = f"gone:{code_id}"
            operations.append(delete_code_op(store, rule_id, code_id, operation_id=op_id))
            meaning[op_id] = (code_id, "")
        batch = await self.client.create_batch(operations)
        job = CodesBatch(
            channel=self.ctx.channel, voucher_id=voucher_id, batch_id=batch.id, operations=meaning
        )
        async with self.services.db.transaction() as session:
            # In the voucher's lane: its next push waits for these results rather than
            # sending the same codes again.
            await JobRepository(session).enqueue(
                self.ctx.installation_id,
                CODES_JOB,
                job.model_dump(mode="json"),
                lane=ledger_key(self.ctx.channel, EntityKind.PROMO_RULE, voucher_id),
                run_after=utcnow() + timedelta(seconds=POLL_SECONDS),
            )


async def codes_job(job: ClaimedJob, request: CodesBatch, services: Services) -> None:
    """Apply a finished code batch to the voucher's record: each code Mailchimp took (or held
    already) is recorded; the others are sent again by the voucher's next push."""
    try:
        async with mailchimp_for(services, job.installation_id) as client:
            batch = await client.get_batch(request.batch_id)
            if batch.status != "finished":
                raise RetryLater("the promo code batch is still running", POLL_SECONDS)
            results = (
                await client.download_batch_results(batch.response_body_url)
                if batch.response_body_url
                else []
            )
    except NotConnected:
        return
    settled: dict[str, str | None] = {}  # code id → its hash now (None: gone)
    failed = 0
    for result in results:
        found = request.operations.get(result.operation_id or "")
        if found is None:
            continue
        code_id, digest = found
        body = result.response if isinstance(result.response, dict) else {}
        exists = "already exists" in f"{body.get('detail', '')} {body.get('title', '')}".lower()
        if 200 <= result.status_code < 300:
            settled[code_id] = digest or None
        elif not digest and result.status_code == 404:
            settled[code_id] = None  # deleting what is gone already
        elif digest and exists:
            settled[code_id] = ""  # held with unknown content: the next push patches it
        else:
            failed += 1
    async with services.db.transaction() as session:
        record = await LedgerRepository(session).get(
            job.installation_id, request.channel, EntityKind.PROMO_RULE, request.voucher_id
        )
        if record is None:
            return
        children = dict(record.children or {})
        for code_id, now in settled.items():
            if now is None:
                children.pop(code_id, None)
            else:
                children[code_id] = now
        record.children = children
        if failed:
            # Left out of the record: the voucher's next push sends them again.
            record.last_error = f"{failed} promo code(s) were refused by Mailchimp's batch."


def register(registry: HandlerRegistry) -> None:
    registry.register(CODES_JOB, codes_job, payload=CodesBatch)
