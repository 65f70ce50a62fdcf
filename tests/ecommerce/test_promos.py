"""Saleor vouchers reach Mailchimp as promo rules and codes through the sync ledger: created,
updated, codes added and removed, deleted, chosen (none / all / metadata flag), sent by the
initial sync, many codes in a batch. What orders carry of them and the codes' usage:
tests/ecommerce/test_promo_usage.py."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from addon.db.types import utcnow
from addon.ecommerce import promo_sync
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.payloads import mailchimp_id
from addon.ecommerce.promo_jobs import PERMISSION_JOB
from addon.jobs.models import Job, JobStatus
from sandboxes.saleor.order_models import DiscountValueType, OrderStatus
from sandboxes.saleor.store_catalog import VariantSpec
from tests.ecommerce.conftest import CHANNEL, TEMPLATE, Shop, choose, codes, rules, run_all


async def test_a_voucher_lives_in_mailchimp(shop: Shop) -> None:
    await choose(shop, "all")
    voucher = await shop.saleor.vouchers.create(
        "Spring sale",
        ["SPRING", "BLOOM"],
        channels={CHANNEL: 10},
        value_type=DiscountValueType.PERCENTAGE,
        min_spent={CHANNEL: Decimal("50")},
    )
    await run_all(shop)
    rule = (await rules(shop))[str(voucher.id)]
    assert (rule["type"], rule["amount"], rule["target"]) == ("percentage", 0.1, "total")
    assert rule["title"] == "Spring sale"
    assert rule["description"] == "10% off the order over 50.00 USD"
    held = await codes(shop, voucher)
    assert set(held) == {"SPRING", "BLOOM"}
    assert held["SPRING"]["redemption_url"] == "https://shop.grocer.example/cart?promo=SPRING"
    assert held["SPRING"]["usage_count"] == 0 and held["SPRING"]["enabled"] is True

    before = len(shop.writes())
    await shop.saleor.vouchers.update(voucher, name="Spring!")
    await run_all(shop)
    assert shop.writes()[before:] == [f"PATCH /promo-rules/{voucher.id}"]  # codes unchanged

    [added] = await shop.saleor.vouchers.add_codes(voucher, ["PETAL"])
    await run_all(shop)
    assert set(await codes(shop, voucher)) == {"SPRING", "BLOOM", "PETAL"}
    await shop.saleor.vouchers.delete_codes([added, voucher.codes[0]])
    await run_all(shop)
    assert set(await codes(shop, voucher)) == {"BLOOM"}

    await shop.saleor.vouchers.delete(voucher)
    await run_all(shop)
    assert str(voucher.id) not in await rules(shop)
    record = await shop.record(EntityKind.PROMO_RULE, voucher.global_id)
    assert record is not None and record.status is SyncStatus.REMOVED


async def test_a_long_name_in_another_script_fits_the_titles_bytes(shop: Shop) -> None:
    """A title is at most 100 bytes of UTF-8 (a Cyrillic letter is two): cut there, whole."""
    await choose(shop, "all")
    name = "Весенняя распродажа для всех постоянных покупателей нашего магазина"
    voucher = await shop.saleor.vouchers.create("x", ["VESNA"], channels={CHANNEL: 10})
    await shop.saleor.vouchers.update(voucher, name=name)
    await run_all(shop)
    title = (await rules(shop))[str(voucher.id)]["title"]
    assert 98 <= len(title.encode()) <= 100 and name.startswith(title)


async def test_the_admins_choice(shop: Shop) -> None:
    read = await shop.api("GET", "/api/ecommerce/promos")
    assert read.json()["settings"]["offer"] == "none"
    flagged = await shop.saleor.vouchers.create(
        "Newsletter", ["NEWS5"], channels={CHANNEL: 5}, metadata={"mailchimp_promo": "true"}
    )
    other = await shop.saleor.vouchers.create("Staff", ["STAFF50"], channels={CHANNEL: 50})
    await run_all(shop)
    assert await rules(shop) == {}  # none offered: nothing sent, nothing read but the events

    await choose(shop, "flagged")
    assert set(await rules(shop)) == {str(flagged.id)}
    await shop.saleor.vouchers.update_metadata(other, {"mailchimp_promo": "yes"})
    await run_all(shop)
    assert set(await rules(shop)) == {str(flagged.id), str(other.id)}
    await shop.saleor.vouchers.update_metadata(flagged, {"mailchimp_promo": "false"})
    await run_all(shop)
    assert set(await rules(shop)) == {str(other.id)}  # excluded later: removed

    await choose(shop, "all")
    assert set(await rules(shop)) == {str(flagged.id), str(other.id)}
    done = await choose(shop, "none")
    assert await rules(shop) == {} and done["rules_sent"] == 2  # read before the resync ran
    again = await shop.api("GET", "/api/ecommerce/promos")
    assert again.json()["rules_sent"] == 0


async def test_bad_choices_are_refused(shop: Shop) -> None:
    for body in (
        {"offer": "some"},
        {"offer": "all", "redemption_url_template": "shop/cart?promo={code}"},
        {"offer": "all", "redemption_url_template": "https://s.example/?p={coupon}"},
        {"offer": "flagged", "flag_key": "has space"},
    ):
        response = await shop.api("PUT", "/api/ecommerce/promos", body)
        assert response.status_code == 422, body


async def test_many_codes_go_in_one_batch(shop: Shop) -> None:
    await choose(shop, "all")
    names = [f"BULK{i:03}" for i in range(60)]
    voucher = await shop.saleor.vouchers.create("Bulk", names, channels={CHANNEL: 3})
    await run_all(shop)
    assert set(await codes(shop, voucher)) == set(names)
    sent = [r for r in shop.mailchimp.requests if r.path.endswith("/promo-codes")]
    assert len(sent) == 60 and {r.via for r in sent} == {"batch"}  # one batch, no single POST
    record = await shop.record(EntityKind.PROMO_RULE, voucher.global_id)
    assert record is not None and len(record.children) == 60
    before = len(shop.writes())
    await shop.saleor.vouchers.update(voucher, name="Bulk deal")
    await run_all(shop)
    assert shop.writes()[before:] == [f"PATCH /promo-rules/{voucher.id}"]


async def test_the_initial_sync_sends_vouchers(shop: Shop) -> None:
    from tests.initial_sync.conftest import finish, start

    voucher = await shop.saleor.vouchers.create("Old", ["OLD"], channels={CHANNEL: 2})
    # An order of the history (no webhook: Saleor had it before the app), placed with the code.
    product = shop.saleor.store.create_product("Pear", [VariantSpec(sku="PEAR", price=Decimal(9))])
    shop.saleor.store.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)],
        email="pear@example.com",
        voucher_code="OLD",
        discounts=[shop.saleor.discount(Decimal("2"), type="VOUCHER")],
    )
    # And one nobody confirmed or paid yet: not sent, its use counted all the same (as live
    # sync counts it, and Saleor does).
    shop.saleor.store.create_order(
        lines=[shop.saleor.order_line(product.variants[0], 1)],
        email="quince@example.com",
        voucher_code="OLD",
        paid=False,
        status=OrderStatus.UNCONFIRMED,
    )
    response = await shop.api(
        "PUT", "/api/ecommerce/promos", {"offer": "all", "redemption_url_template": TEMPLATE}
    )
    assert response.status_code == 200
    await start(shop)
    await finish(shop)
    await run_all(shop)
    assert set(await rules(shop)) == {str(voucher.id)}
    assert (await codes(shop, voucher))["OLD"]["usage_count"] == 2
    [order] = shop.orders().values()
    assert order.promos == [{"code": "OLD", "amount_discounted": 2.0, "type": "fixed"}]


def count_documents(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times the app ran each Saleor document from now on."""
    seen: Counter[str] = Counter()
    execute = shop.services.saleor.execute

    async def counted(api_url: str, token: str, document: str, *args: Any, **kw: Any) -> Any:
        seen[document] += 1
        return await execute(api_url, token, document, *args, **kw)

    monkeypatch.setattr(shop.services.saleor, "execute", counted)
    return seen


async def test_codes_added_alone_find_their_voucher_in_one_search(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Codes added alone fire VOUCHER_CODES_CREATED only: one search finds their voucher,
    however many codes and however many other vouchers match the searched code."""
    names = [f"EXTRA{i:03}" for i in range(150)]
    # More vouchers whose names contain the searched code than the old lookup read (10).
    for i in range(30):
        await shop.saleor.vouchers.create(f"{names[0]} look-alike {i}", [f"LOOK{i}"], channels={})
    target = await shop.saleor.vouchers.create(
        "Target", ["T1"], channels={CHANNEL: 5}, metadata={"mailchimp_promo": "true"}
    )
    await choose(shop, "flagged")
    assert set(await codes(shop, target)) == {"T1"}
    seen = count_documents(shop, monkeypatch)
    await shop.saleor.vouchers.add_codes(target, names)
    await run_all(shop)
    assert seen["promo_voucher_by_code"] == 1, seen
    assert set(await codes(shop, target)) == {"T1", *names}


async def test_codes_a_batch_did_not_take_are_sent_again(shop: Shop) -> None:
    """A code the batch failed for a passing reason is sent again with the worker's backoff;
    one Mailchimp refuses as data quarantines the voucher with Mailchimp's reason."""
    await choose(shop, "all")
    faults = shop.mailchimp.faults
    names = [f"RETRY{i:03}" for i in range(60)]
    voucher = await shop.saleor.vouchers.create("Retry", names, channels={CHANNEL: 3})
    ops = [f"code:{mailchimp_id(c.global_id)}" for c in voucher.codes]
    faults.fail_batch_operations(ops[:2], times=1, status=503)
    faults.fail_batch_operations(ops[2:3], times=1, status=429)
    await run_all(shop)
    assert set(await codes(shop, voucher)) == set(names)
    record = await shop.record(EntityKind.PROMO_RULE, voucher.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED
    assert len(record.children) == 60 and record.attempts == 0 and record.last_error is None

    refused = [f"NOPE{i:03}" for i in range(60)]
    other = await shop.saleor.vouchers.create("Refused", refused, channels={CHANNEL: 3})
    op = f"code:{mailchimp_id(other.codes[0].global_id)}"
    faults.fail_batch_operations([op], times=100, status=400)
    before = len([r for r in shop.mailchimp.requests if r.path.endswith("/batches")])
    await run_all(shop)
    batches = [r for r in shop.mailchimp.requests if r.path.endswith("/batches")]
    assert len(batches) - before == 1  # a data error is not sent again by itself
    record = await shop.record(EntityKind.PROMO_RULE, other.global_id)
    assert record is not None and record.status is SyncStatus.QUARANTINED
    assert record.last_error and "Mailchimp refused 1 promo code" in record.last_error
    assert len(record.children) == 59
    read = (await shop.api("GET", "/api/ecommerce/promos")).json()
    assert [n["voucher"] for n in read["notices"]] == ["Refused"]


async def test_codes_left_out_are_reported(
    shop: Shop, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(promo_sync, "MAX_CODE_PAGES", 1)  # 100 codes
    await choose(shop, "all")
    names = [f"MANY{i:03}" for i in range(120)]
    voucher = await shop.saleor.vouchers.create("Many", names, channels={CHANNEL: 3})
    await run_all(shop)
    assert set(await codes(shop, voucher)) == set(names[20:])  # the newest 100
    record = await shop.record(EntityKind.PROMO_RULE, voucher.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED
    assert record.last_error and "Only the newest 100 codes" in record.last_error
    assert "over 100 codes" in caplog.text and "MANY" not in caplog.text
    read = (await shop.api("GET", "/api/ecommerce/promos")).json()
    assert read["notices"][0]["message"] == record.last_error


async def test_vouchers_are_sent_once_the_permission_arrives(shop: Shop) -> None:
    """Installed before the app asked for MANAGE_DISCOUNTS: nothing is sent, and once the
    admin grants it every voucher is (the app looks again every hour)."""
    shop.app.permissions.remove("MANAGE_DISCOUNTS")
    voucher = await shop.saleor.vouchers.create("Later", ["LATER"], channels={CHANNEL: 2})
    await choose(shop, "all")
    assert await rules(shop) == {}
    shop.app.permissions.append("MANAGE_DISCOUNTS")
    async with shop.services.db.transaction() as session:
        waiting = await session.execute(
            update(Job)
            .where(Job.kind == PERMISSION_JOB, Job.status == JobStatus.PENDING)
            .values(run_after=utcnow())
        )
        assert waiting.rowcount == 1  # type: ignore[attr-defined]
    await run_all(shop)
    assert set(await rules(shop)) == {str(voucher.id)}
