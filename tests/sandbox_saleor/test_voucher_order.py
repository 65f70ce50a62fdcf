"""`vouchers` without `sortBy` as Saleor lists them, at 3.20.119 and 723cd4e alike: by name, then
pk (`Voucher.Meta.ordering`, taken by `sort_queryset_by_default`), nameless ones last, a cursor
holding `[name, pk]`; so a voucher renamed between two pages may be missed, or read twice."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.models import SandboxApp
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION
from sandboxes.saleor.voucher_models import Voucher

PAGE = """query ($first: Int, $last: Int, $after: String, $before: String) {
  vouchers(first: $first, last: $last, after: $after, before: $before) {
    pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
    edges { cursor node { id name } } } }"""


async def _shop(version: str) -> tuple[SaleorSandbox, SandboxApp, list[Voucher]]:
    """Four vouchers, made in the order Mid, (no name), Alpha, Mid."""
    sandbox = SaleorSandbox(version=version)
    # Read as an app holding MANAGE_DISCOUNTS (`execute` runs the query as it).
    app = SandboxApp(id=sandbox.store.next_id(), name="Reader", permissions=["MANAGE_DISCOUNTS"])
    channel = sandbox.store.default_channel().slug
    made = [
        await sandbox.vouchers.create(name, [f"CODE{i}"], channels={channel: 1})
        for i, name in enumerate(("Mid", "Nameless", "Alpha", "Mid"))
    ]
    await sandbox.vouchers.update(made[1], name=None)
    return sandbox, app, made


async def _page(sandbox: SaleorSandbox, app: SandboxApp, **args: Any) -> dict[str, Any]:
    body = await sandbox.execute(PAGE, args, app=app)
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"]["vouchers"]
    return page


def _ids(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in page["edges"]]


def _cursor(values: Any) -> str:
    return base64.b64encode(json.dumps(values).encode()).decode()


@pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
async def test_vouchers_come_by_name_then_pk_nameless_last(version: str) -> None:
    sandbox, app, (mid, nameless, alpha, mid_again) = await _shop(version)
    listed = [alpha, mid, mid_again, nameless]
    whole = await _page(sandbox, app, first=10)
    assert _ids(whole) == [v.global_id for v in listed]
    cursors = [json.loads(base64.b64decode(e["cursor"])) for e in whole["edges"]]
    assert cursors == [[v.name, str(v.id)] for v in listed]
    assert cursors[-1][0] is None  # the nameless one's cursor: `null`, last
    # One at a time, forwards and backwards, the nameless one's cursor included.
    after, seen = None, []
    while True:
        page = await _page(sandbox, app, first=1, after=after)
        seen += _ids(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == _ids(whole)
    before = await _page(sandbox, app, last=2, before=whole["edges"][-1]["cursor"])
    assert _ids(before) == [mid.global_id, mid_again.global_id]
    assert _ids(await _page(sandbox, app, last=1)) == [nameless.global_id]
    assert _ids(await _page(sandbox, app, first=1, after=_cursor(["Beta", "0"]))) == [mid.global_id]


async def test_a_voucher_renamed_between_pages_is_missed_or_read_twice() -> None:
    sandbox, app, (mid, nameless, alpha, mid_again) = await _shop(CURRENT_VERSION)
    first = await _page(sandbox, app, first=2)
    assert _ids(first) == [alpha.global_id, mid.global_id]
    await sandbox.vouchers.update(mid_again, name="Aardvark")  # now before the cursor: missed
    await sandbox.vouchers.update(alpha, name="Zebra")  # now after it: read again
    rest = await _page(sandbox, app, first=10, after=first["pageInfo"]["endCursor"])
    assert _ids(rest) == [alpha.global_id, nameless.global_id]


async def test_cursors_saleor_cannot_read_are_refused() -> None:
    sandbox, app, _ = await _shop(CURRENT_VERSION)
    for values in (["Mid"], ["Mid", None], ["Mid", "x"], [["Mid"], "1"], {"name": "Mid"}):
        body = await sandbox.execute(PAGE, {"first": 1, "after": _cursor(values)}, app=app)
        assert body["errors"][0]["message"] == "Received cursor is invalid.", values
