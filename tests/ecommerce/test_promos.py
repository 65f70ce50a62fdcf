"""Saleor vouchers reach Mailchimp as promo rules and codes through the sync ledger: created,
updated, codes added and removed, deleted, chosen (none / all / metadata flag), sent by the
initial sync, many codes in a batch; orders carry the exact `promos` and the code's usage."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from addon.db.types import utcnow
from addon.ecommerce import promo_sync
from addon.ecommerce.models import EntityKind, SyncStatus
from addon.ecommerce.payloads import mailchimp_id
from addon.ecommerce.promo_jobs import PERMISSION_JOB
from addon.ecommerce.promo_sync import CODES_JOB
from addon.ecommerce.promo_usage import PromoRepository
from addon.ecommerce.subjects import record_subject
from addon.ecommerce.sync import PUSH_JOB
from addon.installations.models import Installation
from addon.jobs.models import Job, JobStatus
from addon.jobs.worker import Worker
from sandboxes.saleor.order_models import DiscountValueType, OrderStatus
from sandboxes.saleor.store_catalog import VariantSpec
from sandboxes.saleor.voucher_models import Voucher, VoucherType
from tests.ecommerce.conftest import CHANNEL, Shop

TEMPLATE = "https://shop.grocer.example/cart?promo={code}"
# What waits here: debounced or retried pushes and the poll of a code batch.
WAITING = (PUSH_JOB, CODES_JOB)


async def run_all(shop: Shop) -> None:
    """Run every job, waiting ones too (Mailchimp's batches finished in between)."""
    worker = Worker(shop.services)
    for _ in range(30):
        await shop.mailchimp.drain_batches()
        await worker.run_until_idle()
        async with shop.services.db.transaction() as session:
            result = await session.execute(
                update(Job)
                .where(Job.status == JobStatus.PENDING, Job.kind.in_(WAITING))
                .values(run_after=utcnow())
            )
        if not result.rowcount:  # type: ignore[attr-defined]
            break


async def choose(shop: Shop, offer: str, **extra: Any) -> dict[str, Any]:
    body = {"offer": offer, "redemption_url_template": TEMPLATE, **extra}
    response = await shop.api("PUT", "/api/ecommerce/promos", body)
    assert response.status_code == 200, response.text
    await run_all(shop)
    return dict(response.json())


async def rules(shop: Shop) -> dict[str, dict[str, Any]]:
    path = f"/ecommerce/stores/{shop.store_id}/promo-rules"
    found = await shop.mailchimp.call(shop.account, "GET", path, {"count": "100"})
    assert found.body is not None
    return {r["id"]: r for r in found.body["promo_rules"]}


async def codes(shop: Shop, voucher: Voucher) -> dict[str, dict[str, Any]]:
    path = f"/ecommerce/stores/{shop.store_id}/promo-rules/{voucher.id}/promo-codes"
    found = await shop.mailchimp.call(shop.account, "GET", path, {"count": "1000"})
    if found.status == 404:
        return {}
    assert found.body is not None
    return {c["code"]: c for c in found.body["promo_codes"]}


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


# (voucher type, value type, value) → the promo Mailchimp gets for 3 x 10.00 + 5.00 shipping.
CASES = {
    "PCT": (VoucherType.ENTIRE_ORDER, DiscountValueType.PERCENTAGE, 10, (3.0, "percentage")),
    "FIX": (VoucherType.ENTIRE_ORDER, DiscountValueType.FIXED, 4, (4.0, "fixed")),
    # Free shipping: amount 0 and fixed, as Mailchimp's spec asks (the sandbox refuses more).
    "SHIP": (VoucherType.SHIPPING, DiscountValueType.PERCENTAGE, 100, (0.0, "fixed")),
    "HALF": (VoucherType.SHIPPING, DiscountValueType.PERCENTAGE, 50, (2.5, "fixed")),
    "ITEM": (VoucherType.SPECIFIC_PRODUCT, DiscountValueType.FIXED, 1, (3.0, "fixed")),
}


async def test_orders_carry_the_exact_promo_and_count_the_code(shop: Shop) -> None:
    await choose(shop, "all")
    product = await shop.product("Fig", "10.00")
    vouchers, orders = {}, {}
    for code, (kind, value_type, value, _) in CASES.items():
        vouchers[code] = await shop.saleor.vouchers.create(
            f"Deal {code}", [code], channels={CHANNEL: value}, type=kind, value_type=value_type
        )
        # A promotion's discount next to the voucher's is not the code's. (Saleor never applies
        # an order promotion with a voucher code, saleor/discount/utils/checkout.py: it is
        # added by hand, to see only the voucher's counted. Spread over the lines, it would be
        # in the line-level voucher's line discount, which its amount is read from: not there.)
        line_level = kind is VoucherType.SPECIFIC_PRODUCT
        other = [] if line_level else [shop.saleor.discount(Decimal("1"), type="ORDER_PROMOTION")]
        orders[code] = await shop.saleor.vouchers.create_order(
            code,
            lines=[shop.saleor.order_line(product.variants[0], 3)],
            shipping_price=Decimal("5"),
            email="fig@example.com",
            discounts=other,
        )
    await run_all(shop)
    for code, (*_, (amount, kind_sent)) in CASES.items():
        sent = shop.orders()[str(orders[code].number)]
        assert [(p["code"], p["amount_discounted"], p["type"]) for p in sent.promos] == [
            (code, amount, kind_sent)
        ], code
        assert (await codes(shop, vouchers[code]))[code]["usage_count"] == 1
    # A redelivered order counts once.
    await shop.saleor.update_order(orders["PCT"], customer_note="again")
    await run_all(shop)
    assert (await codes(shop, vouchers["PCT"]))["PCT"]["usage_count"] == 1
    assert record_subject(EntityKind.PROMO_RULE, "Deal PCT", "x") == "Voucher Deal PCT"


async def test_a_once_per_order_line_voucher_is_sent_as_saleor_totals_it(shop: Shop) -> None:
    """10 % off one of three 9.99 mugs: Saleor takes 1.00 off the line's total (not 0.33 off
    each unit), so the line's discount and the promo are 1.00, and its price of one 9.66."""
    await choose(shop, "all")
    product = await shop.product("Mug", "9.99")
    await shop.saleor.vouchers.create(
        "One off",
        ["ONEOFF"],
        channels={CHANNEL: 10},
        type=VoucherType.SPECIFIC_PRODUCT,
        value_type=DiscountValueType.PERCENTAGE,
        apply_once_per_order=True,
    )
    order = await shop.saleor.vouchers.create_order(
        "ONEOFF",
        lines=[shop.saleor.order_line(product.variants[0], 3)],
        email="mug@example.com",
        checkout_token=uuid.uuid4(),
    )
    await run_all(shop)
    sent = shop.orders()[str(order.number)]
    [line] = sent.lines
    assert (line.price, line.discount) == (9.66, 1.0)
    assert [(p["code"], p["amount_discounted"]) for p in sent.promos] == [("ONEOFF", 1.0)]
    assert (sent.order_total, sent.discount_total) == (28.97, 1.0)


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


async def test_a_use_is_counted_with_the_orders_push(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The use is written in the transaction that records the order as sent: a failure in
    between leaves both undone, and the retry counts it."""
    await choose(shop, "all")
    product = await shop.product("Fig", "10.00")
    voucher = await shop.saleor.vouchers.create("Once", ["ONCE"], channels={CHANNEL: 2})
    record_use = PromoRepository.record_use
    crashes = [RuntimeError("crash between the order and its use")]

    async def crashing(self: PromoRepository, *args: Any) -> bool:
        if crashes:
            raise crashes.pop()
        return await record_use(self, *args)

    monkeypatch.setattr(PromoRepository, "record_use", crashing)
    order = await shop.saleor.vouchers.create_order(
        "ONCE", lines=[shop.saleor.order_line(product.variants[0], 1)], email="a@example.com"
    )
    await run_all(shop)
    assert not crashes
    assert (await codes(shop, voucher))["ONCE"]["usage_count"] == 1
    record = await shop.record(EntityKind.ORDER, order.global_id)
    assert record is not None and record.status is SyncStatus.SYNCED


async def test_one_order_is_counted_once_by_two_at_once(shop: Shop) -> None:
    """A live push and the initial sync counting the same order at once: one INSERT … ON
    CONFLICT DO NOTHING each, so neither fails (on PostgreSQL the second waits for the
    first's row, where a select-then-insert would collide on the unique key)."""
    db = shop.services.db
    async with db.session() as session:
        installation_id = (await session.scalars(select(Installation.id))).one()

    async def count() -> bool:
        async with db.transaction() as session:
            return await PromoRepository(session).record_use(
                installation_id, CHANNEL, "TWICE", "O1"
            )

    assert sorted(await asyncio.gather(count(), count(), count())) == [False, False, True]
    async with db.session() as session:
        used = await PromoRepository(session).usage(installation_id, CHANNEL, ["TWICE"])
    assert used == {"TWICE": 1}


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


async def test_an_expired_orders_use_no_longer_counts_a_cancelled_one_still_does(
    shop: Shop,
) -> None:
    """Saleor gives an expired order's code use back (saleor/order/tasks.py
    `_bulk_release_voucher_usage`), not a cancelled one's: Mailchimp's `usage_count` follows."""
    await choose(shop, "all")
    product = await shop.product("Lime", "4.00")
    voucher = await shop.saleor.vouchers.create("Zest", ["ZEST"], channels={CHANNEL: 1})
    placed = [
        await shop.saleor.vouchers.create_order(
            "ZEST",
            lines=[shop.saleor.order_line(product.variants[0], 1)],
            email=f"lime{i}@example.com",
            paid=False,
            status=OrderStatus.UNCONFIRMED,
        )
        for i in range(3)
    ]
    await run_all(shop)
    assert (await codes(shop, voucher))["ZEST"]["usage_count"] == 3
    await shop.saleor.expire_order(placed[0])
    await shop.saleor.cancel_order(placed[1])
    await run_all(shop)
    assert (await codes(shop, voucher))["ZEST"]["usage_count"] == 2
