"""Vouchers → Mailchimp promo rules and codes through the sync ledger (the same path as products
and orders): webhook → `ecommerce.push` of the voucher's record (kind `promo_rule`, one per
channel) → `PromoPusher`.

A voucher's record holds its rule's hash and, as children, each code's hash (keyed by the
code's Mailchimp id): the rule's push reconciles the codes, so a change sends only the codes
that changed, and deleted codes are deleted. More code operations than `BATCH_FROM` go as one
Mailchimp batch, whose results a poll job (`ecommerce.promo_codes`) writes into the record: the
record stays pending until then, and a code refused for a passing reason (or missing from the
results) has the voucher's push queued again with the worker's backoff, up to
`ECOMMERCE_MAX_ATTEMPTS`; a code Mailchimp refuses as data quarantines the voucher's record with
Mailchimp's reason (the ledger's rule: no retry until it changes or an admin retries).
A voucher not (or no longer) offered by the admin's choice, deleted, or not sold in the channel
has its rule deleted (with its codes) from Mailchimp.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from typing import Any

from addon.db.types import utcnow
from addon.ecommerce import promo_codes, promo_jobs, promo_payloads
from addon.ecommerce.catalog import CatalogPusher, already_exists
from addon.ecommerce.channel_presence import ensure_listed
from addon.ecommerce.models import EntityKind, Fingerprint, SyncStatus
from addon.ecommerce.payloads import content_hash
from addon.ecommerce.promo_codes import CODES_JOB, POLL_SECONDS, CodesBatch
from addon.ecommerce.promo_schemas import SaleorVoucher, VoucherCode
from addon.ecommerce.promo_usage import PromoRepository
from addon.ecommerce.push_queue import ledger_key
from addon.ecommerce.record_states import settled
from addon.ecommerce.repository import LedgerRepository
from addon.ecommerce.store_domain import store_domain
from addon.installations.token_doubt import wait_if_token_in_doubt
from addon.jobs.registry import HandlerRegistry
from addon.jobs.repository import JobRepository
from addon.mailchimp import BadRequest, NotFound
from addon.mailchimp.models import BatchOperation
from addon.mailchimp.promos import (
    PromoClient,
    PromoCodeInput,
    PromoCodePatch,
    PromoRuleInput,
    PromoRulePatch,
    create_code_op,
    delete_code_op,
    update_code_op,
)
from addon.saleor.client import SaleorPermissionDenied
from addon.saleor.paging import Pager

logger = logging.getLogger(__name__)

BATCH_FROM = 50  # more code operations than this go as one Mailchimp batch
# 20 000 codes: Saleor serves 100 a page. A voucher with more has only its newest codes sent
# (Saleor pages them newest first); the push says so in a warning and on its record.
MAX_CODE_PAGES = 200
# On a voucher's record while Saleor refuses to show vouchers (no MANAGE_DISCOUNTS).
NO_PERMISSION = "Saleor refused to show the voucher: the app needs MANAGE_DISCOUNTS."


def _fingerprint(rule: Any, codes: list[PromoCodeInput]) -> Fingerprint:
    return Fingerprint(content_hash(rule.body()), {c.id: content_hash(c.body()) for c in codes})


class PromoPusher(CatalogPusher):
    """Pushes one voucher's promo rule and codes to one channel's store."""

    @property
    def promos(self) -> PromoClient:
        return PromoClient(self.client)

    async def read_voucher(self, voucher_id: str) -> tuple[SaleorVoucher | None, bool]:
        """The voucher with its codes (a page of 100 at a time; None when gone), and whether
        codes were left out (more than `MAX_CODE_PAGES` pages)."""
        raw: dict[str, Any] | None = None
        codes: list[dict[str, Any]] = []
        pager = Pager(
            self.services.saleor,
            self.ctx.api_url,
            self.ctx.token,
            "promo_voucher",
            "voucher.codes",
            {"id": voucher_id},
            max_pages=MAX_CODE_PAGES,
            notify_refusal=False,
        )
        async for page in pager:
            voucher = page.answer.get("voucher")
            if not voucher:
                return None, False  # deleted (maybe between two pages)
            raw = raw or voucher
            codes += [{"node": node} for node in page.nodes]
        assert raw is not None
        return SaleorVoucher.model_validate({**raw, "codes": {"edges": codes}}), pager.more

    async def push_rule(self, voucher_id: str) -> None:
        known = await self.known(EntityKind.PROMO_RULE, voucher_id)
        async with self.services.db.session() as session:
            settings = await PromoRepository(session).settings(self.ctx.installation_id)
            offer, flag_key = settings.offer, settings.flag_key
            template = settings.redemption_url_template
        try:
            voucher, truncated = await self.read_voucher(voucher_id)
        except SaleorPermissionDenied as refusal:
            # Installed before the app asked for MANAGE_DISCOUNTS: nothing can be read until
            # the admin grants it (docs/promo-codes.md); nothing is changed in Mailchimp. The
            # record says why, and every voucher is sent once Saleor shows them. Unless the
            # app was deactivated: then the push waits to know (`token_doubt.py`).
            await wait_if_token_in_doubt(self.services, self.ctx.installation_id, refusal)
            logger.warning("No MANAGE_DISCOUNTS: voucher %s not sent", voucher_id)
            await self._denied(voucher_id, known.mailchimp_id)
            return
        if voucher is not None:
            label = voucher.name or next((c.node.code for c in voucher.codes.edges), None)
            await self.remember_label(EntityKind.PROMO_RULE, voucher_id, known, label)
        rule = None
        if voucher is not None and promo_payloads.offered(voucher, offer, flag_key):
            rule = promo_payloads.rule_input(voucher, self.ctx.channel)
            if rule is None:
                # Not listed in the channel: withdrawn there (or never offered in it), or the
                # channel is gone (its listings went with it, or are under its new slug): then
                # the voucher waits, as the channel's other records do.
                await ensure_listed(self.services, self.ctx)
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
        note = None
        if truncated:
            most = MAX_CODE_PAGES * 100
            logger.warning("Voucher %s has over %d codes: the newest sent", voucher_id, most)
            note = (
                f"Only the newest {most:,} codes of this voucher are in Mailchimp: the app "
                "sends at most that many codes per voucher."
            )
        pushing = _fingerprint(rule, codes)
        if known.holds(pushing):
            return
        sent_codes = dict(known.children)
        if known.mailchimp_id is None:
            try:
                await self.promos.create_rule(self.ctx.store_id, rule)
            except BadRequest as exc:
                if not already_exists(exc):
                    raise
                # its codes unknown: each is created, or updated if held
                sent_codes = await self._change_rule(rule, {})
        elif known.fingerprint.content_hash != pushing.content_hash:
            sent_codes = await self._change_rule(rule, sent_codes)
        held, batch = await self._send_codes(voucher_id, rule.id, codes, sent_codes, pushing, note)
        await self._settle_rule(
            voucher_id, rule.id, Fingerprint(pushing.content_hash, held), batch, note
        )

    async def _settle_rule(
        self,
        voucher_id: str,
        rule_id: str,
        fingerprint: Fingerprint,
        batch: CodesBatch | None,
        note: str | None,
    ) -> None:
        """Mailchimp holds the rule and the codes in `fingerprint`. With a batch of codes out,
        the record stays pending (its attempts kept: the batch's retries count on) until
        `CODES_JOB`, queued in the same transaction, applies the results; `note` stays on the
        record for the admin."""
        batched = batch is not None
        async with self.services.db.transaction() as session:
            record = await LedgerRepository(session).get_or_create(
                self.ctx.installation_id, self.ctx.channel, EntityKind.PROMO_RULE, voucher_id
            )
            attempts = record.attempts
            status = SyncStatus.PENDING if batched else SyncStatus.SYNCED
            settled(record, status, rule_id, fingerprint, utcnow())
            record.last_error = note
            if batch is None:
                return
            record.attempts = attempts
            # In the voucher's lane: its next push waits for these results rather than
            # sending the same codes again.
            await JobRepository(session).enqueue(
                self.ctx.installation_id,
                CODES_JOB,
                batch.model_dump(mode="json"),
                lane=ledger_key(self.ctx.channel, EntityKind.PROMO_RULE, voucher_id),
                run_after=utcnow() + timedelta(seconds=POLL_SECONDS),
            )

    async def _denied(self, voucher_id: str, held: str | None) -> None:
        """Saleor refused to show the voucher: the record says why, and every voucher is sent
        again once Saleor shows them (`promo_jobs.wait_for_permission`)."""
        async with self.services.db.transaction() as session:
            record = await LedgerRepository(session).settle(
                self.ctx.installation_id,
                self.ctx.channel,
                EntityKind.PROMO_RULE,
                voucher_id,
                SyncStatus.REMOVED,
                mailchimp_id=held,
                pushed=False,
            )
            record.last_error = NO_PERMISSION
            await promo_jobs.wait_for_permission(session, self.ctx.installation_id)

    async def _change_rule(self, rule: PromoRuleInput, sent: dict[str, str]) -> dict[str, str]:
        """Make the rule Mailchimp holds `rule`; answer the codes it still holds of `sent`.

        A PATCH sends both dates when the voucher has an end (Mailchimp checks the pair, never
        a new start against the old end). Without one it would leave the held `ends_at` as it
        is (`MailchimpInput.body` drops None, and nothing shows Mailchimp clears a date sent
        as null or "", mc-woocommerce leaves it out too): a rule that has an end is deleted
        (its codes with it) and created again, its codes sent again."""
        store = self.ctx.store_id
        try:
            if rule.ends_at is None and (await self.promos.get_rule(store, rule.id)).ends_at:
                await self.promos.delete_rule(store, rule.id)
            else:
                patch = PromoRulePatch.model_validate(rule.model_dump(exclude={"id"}))
                await self.promos.update_rule(store, rule.id, patch)
                return sent
        except NotFound:
            pass  # gone from Mailchimp: created again
        await self.promos.create_rule(store, rule)
        return {}

    async def _codes(self, voucher: SaleorVoucher, template: str | None) -> list[PromoCodeInput]:
        raw: list[VoucherCode] = [edge.node for edge in voucher.codes.edges]
        async with self.services.db.session() as session:
            usage = await PromoRepository(session).usage(
                self.ctx.installation_id, self.ctx.channel, [c.code for c in raw if c.code]
            )
        # Without a template: the storefront's address as the store's `domain` has it (its
        # `{channel}` filled in), else Saleor's.
        domain = store_domain(self.ctx.product_url_template, self.ctx.channel, self.ctx.domain)
        fallback = f"https://{domain}/"
        codes = []
        for code in raw:
            url = promo_payloads.redemption_url(
                template, code.code or "", self.ctx.channel, fallback
            )
            used = usage.get(code.code or "", 0)
            body = promo_payloads.code_input(code, url, used, voucher.used_up)
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
        note: str | None,
    ) -> tuple[dict[str, str], CodesBatch | None]:
        """Create, update and delete the codes that differ from what Mailchimp holds; return
        the children Mailchimp confirmed, and the batch that went out, if one did (its codes
        are added when its results are in)."""
        wanted = pushing.children
        changed = [c for c in codes if sent.get(c.id) != wanted[c.id]]
        gone = [code_id for code_id in sent if code_id not in wanted]
        held = {k: v for k, v in sent.items() if k in wanted and v == wanted[k]}
        if len(changed) + len(gone) > BATCH_FROM:
            return held, await self._batch(voucher_id, rule_id, changed, gone, sent, wanted, note)
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
        return held, None

    async def _batch(
        self,
        voucher_id: str,
        rule_id: str,
        changed: list[PromoCodeInput],
        gone: list[str],
        sent: dict[str, str],
        wanted: dict[str, str],
        note: str | None,
    ) -> CodesBatch:
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
        return CodesBatch(
            channel=self.ctx.channel,
            voucher_id=voucher_id,
            batch_id=batch.id,
            operations=meaning,
            note=note,
        )


def register(registry: HandlerRegistry) -> None:
    promo_codes.register(registry)
