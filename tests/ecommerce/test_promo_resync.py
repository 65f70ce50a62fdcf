"""The re-sending of every voucher (`promo_jobs.resync_job`) reads Saleor's `vouchers` a page at a
time in Saleor's default order, by name then pk: no `VoucherSortField` is stable (each sorts by
a field an admin may change first), so a voucher renamed between two pages may be missed, or
read twice. Its rename fires VOUCHER_UPDATED, whose push sends it: nothing is left out."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ecommerce.conftest import CHANNEL, Shop, choose


async def test_a_voucher_renamed_while_the_vouchers_are_read_is_still_sent(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    vouchers = [
        await shop.saleor.vouchers.create(f"Deal {i:03}", [f"DEAL{i:03}"], channels={CHANNEL: 1})
        for i in range(101)
    ]
    last = vouchers[-1]  # alone on the second page of 100
    read: list[str] = []
    execute = shop.services.saleor.execute

    async def renaming(api_url: str, token: Any, document: str, *args: Any, **kw: Any) -> Any:
        data = await execute(api_url, token, document, *args, **kw)
        if document == "promo_vouchers":
            read.extend(edge["node"]["id"] for edge in data["vouchers"]["edges"])
            if len(read) == 100:  # between the pages: it moves before the cursor
                await shop.saleor.vouchers.update(last, name="A deal")
        return data

    monkeypatch.setattr(shop.services.saleor, "execute", renaming)
    await choose(shop, "all")
    assert last.global_id not in read and len(read) == 100  # the pages missed it
    path = f"/ecommerce/stores/{shop.store_id}/promo-rules"
    found = await shop.mailchimp.call(shop.account, "GET", path, {"count": "1000"})
    assert found.body is not None
    titles = {rule["id"]: rule["title"] for rule in found.body["promo_rules"]}
    assert set(titles) == {str(v.id) for v in vouchers}
    assert titles[str(last.id)] == "A deal"
