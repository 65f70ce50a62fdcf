"""Parallel slices of the initial sync produce exactly the entities of a sequential read.

End to end: stores whose orders and customers share the instants the slices are cut at (and
`orders_since`), on the oldest and the current Saleor (day filter / instant filter), read in 1
(sequential), 3, 4 and 6 slices; what Mailchimp received must be what one unbounded cursor reads
from Saleor, each entity once. And a property test of the partition itself against the Saleor
sandbox's filters: whatever the creation times, slice count and `orders_since`, the slices'
filters and guard keep every order at or after `since` exactly once.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from graphql import print_ast
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from addon.ecommerce.channel_state import RunStatus
from addon.ecommerce.context import load_context
from addon.ecommerce.models import EntityKind
from addon.ecommerce.payloads import mailchimp_id
from addon.initial_sync.models import InitialSync
from addon.initial_sync.reader import Reader
from addon.initial_sync.slices import BY_CREATION, Slice, created_of, order_filter, split
from addon.initial_sync.state import Stream
from addon.installations.models import Installation
from addon.saleor.documents import load_document
from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION
from tests.ecommerce.conftest import CHANNEL, Shop
from tests.initial_sync.conftest import finish, start

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STEP = timedelta(hours=6)
KINDS = {
    "products": EntityKind.PRODUCT,
    "customers": EntityKind.CUSTOMER,
    "orders": EntityKind.ORDER,
}


def _cluster(shop: Shop) -> None:
    """Creation times on 13 instants 6 h apart (T0 … T0 + 72 h): the slices' cuts (a third, a
    quarter, a sixth of the span; midnights by day) fall on instants many entities share."""
    store = shop.saleor.store
    for index, order in enumerate(sorted(store.orders.values(), key=lambda o: o.id)):
        order.created = T0 + STEP * (index * 5 % 13)
    for index, customer in enumerate(sorted(store.customers.values(), key=lambda c: c.id)):
        customer.date_joined = T0 + STEP * (index * 7 % 13)


def _sent(shop: Shop) -> dict[EntityKind, Counter[str]]:
    """Mailchimp ids of the entities sent in Mailchimp's batches, counted."""
    prefix = f"/ecommerce/stores/{shop.store_id}/"
    sent: dict[EntityKind, Counter[str]] = {kind: Counter() for kind in KINDS.values()}
    for request in shop.mailchimp.requests:
        if request.via != "batch" or prefix not in request.path:
            continue  # every operation sent counts, refused ones too ("already exists")
        resource, _, rest = request.path.split(prefix, 1)[1].partition("/")
        body = request.body if isinstance(request.body, dict) else {}
        if resource in KINDS and (request.method == "POST" or request.method == "PUT"):
            sent[KINDS[resource]][str(body.get("id") or rest)] += 1
    return sent


def assert_sent_once(shop: Shop, expected: dict[EntityKind, set[str]]) -> None:
    """Every entity of a sequential read sent, each once, and nothing else."""
    sent = _sent(shop)
    for kind, ids in expected.items():
        assert set(sent[kind]) == ids, kind
        assert max(sent[kind].values()) == 1, f"{kind} sent twice"


async def _sequential(shop: Shop, since: datetime | None) -> dict[EntityKind, set[str]]:
    """What one unbounded cursor per kind reads (orders from `since` on), as Mailchimp ids."""
    async with shop.services.db.session() as session:
        installation_id = (await session.execute(select(Installation.id))).scalar_one()
    context = await load_context(shop.services, installation_id, CHANNEL)
    assert context is not None
    reader = Reader(shop.services, context)
    read: dict[EntityKind, set[str]] = {}
    for kind in KINDS.values():
        piece, ids = Slice(), set()
        while not piece.done:
            page = await reader.page(kind, piece)
            for node in page.nodes:
                created = created_of(kind, node)
                recent = since is None or (created is not None and created >= since)
                ours = (node.get("channel") or {}).get("slug", CHANNEL) == CHANNEL
                if ours and kind is EntityKind.ORDER and recent:
                    ids.add(str(node["number"]))  # an order goes by its number
                elif ours and kind is not EntityKind.ORDER:
                    ids.add(mailchimp_id(str(node["id"])))
            piece = piece.read_to(page.end_cursor, not page.has_next)
        read[kind] = ids
    return read


@pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
@pytest.mark.parametrize("slices", [1, 3, 4, 6])
@pytest.mark.parametrize("since", [None, T0 + STEP * 5], ids=["all", "since"])
async def test_slices_send_exactly_what_a_sequential_read_reads(
    small: Shop, version: str, slices: int, since: datetime | None
) -> None:
    shop = small
    shop.saleor.version = version
    async with shop.services.db.transaction() as session:
        installation = (await session.execute(select(Installation))).scalar_one()
        installation.saleor_version = version
    shop.services.settings = shop.services.settings.model_copy(
        update={"initial_sync_read_slices": slices}
    )
    shop.saleor.generate_store(products=12, customers=45, orders=70, seed=5)
    _cluster(shop)
    expected = await _sequential(shop, since)
    assert expected[EntityKind.ORDER] and expected[EntityKind.CUSTOMER]

    await start(shop, {"orders_since": since.isoformat()} if since else None)
    run = await finish(shop)
    assert run.status is RunStatus.SUCCEEDED, run.error

    assert_sent_once(shop, expected)
    # The slices read are recorded: as many as asked for (fewer when cuts coincide by day).
    async with shop.services.db.session() as session:
        row = (await session.execute(select(InitialSync))).scalar_one()
    recorded = row.streams["order"]["slices"]
    assert 1 <= len(recorded) <= slices and all(piece["done"] for piece in recorded)
    if slices > 1 and version == CURRENT_VERSION:
        assert len(recorded) == slices


# --- the partition, against the sandbox's filters ------------------------------------------------

STAFF = SandboxApp(id=0, name="staff", identifier="x", version="1", permissions=["MANAGE_ORDERS"])


@pytest.fixture(scope="module")
def sandboxes() -> dict[str, SaleorSandbox]:
    made = {}
    for version in (OLDEST_VERSION, CURRENT_VERSION):
        saleor = SaleorSandbox(version=version)
        saleor.generate_store(products=3, customers=3, orders=40, seed=2)
        made[version] = saleor
    return made


async def _read_slice(saleor: SaleorSandbox, piece: Slice, by_instant: bool) -> list[str]:
    document, variables = order_filter(piece, by_instant)
    query = print_ast(load_document(document))
    ids: list[str] = []
    cursor = None
    while True:
        body = await saleor.execute(
            query,
            {**variables, "channel": CHANNEL, "first": 7, "after": cursor, "withTotal": False},
            app=STAFF,
        )
        assert "errors" not in body, body
        connection = body["data"]["orders"]
        for edge in connection["edges"]:
            created = created_of(EntityKind.ORDER, edge["node"])
            if created is None or piece.holds(created):
                ids.append(edge["node"]["id"])
        if not connection["pageInfo"]["hasNextPage"]:
            return ids
        cursor = connection["pageInfo"]["endCursor"]


moments = st.integers(min_value=0, max_value=96).map(lambda hours: T0 + timedelta(hours=hours))


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # a shrink re-reads every slice: minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    times=st.lists(moments, min_size=40, max_size=40),
    count=st.integers(min_value=1, max_value=9),
    since=st.none() | moments,
    by_instant=st.booleans(),
)
async def test_the_slices_partition_the_orders(
    sandboxes: dict[str, SaleorSandbox],
    times: list[datetime],
    count: int,
    since: datetime | None,
    by_instant: bool,
) -> None:
    saleor = sandboxes[CURRENT_VERSION if by_instant else OLDEST_VERSION]
    orders = sorted(saleor.store.orders.values(), key=lambda o: o.id)
    for order, moment in zip(orders, times, strict=True):
        order.created = moment
    pieces = split(min(times), max(times), count, by_day=not by_instant, since=since)
    assert len(pieces) <= count
    read: Counter[str] = Counter()
    for piece in pieces:
        read.update(await _read_slice(saleor, piece, by_instant))
    expected = {o.global_id for o in orders if since is None or o.created >= since}
    assert set(read) == expected
    assert not read or max(read.values()) == 1


def test_a_sync_begun_before_slices_goes_on_as_one_slice_from_its_start() -> None:
    """A run recorded with one cursor per kind (before slices) goes on as one slice: orders from
    `orders_since` (what its cursor's query asked for), the others unbounded. Its cursor is of
    Saleor's default order (the documents did not sort then): the slice is read from its start
    (`position` None), its total not asked for again (`begun`)."""
    since = T0 + STEP
    legacy = {
        "product": {"cursor": "WyIxMiJd", "done": True},
        "customer": {"cursor": "WyI0MiJd", "done": False},
        "order": {"cursor": "WyI3Il0=", "done": False},
    }
    assert Stream.of(legacy, EntityKind.PRODUCT, since).done
    assert Stream.of(legacy, EntityKind.CUSTOMER, since).slices == (
        Slice(cursor="WyI0MiJd", order=None),
    )
    orders = Stream.of(legacy, EntityKind.ORDER, since).slices
    assert orders == (Slice(start=since, cursor="WyI3Il0=", order=None),)
    assert orders[0].position is None and orders[0].begun
    assert Stream.of({"order": {"cursor": None, "done": False}}, EntityKind.ORDER).slices is None
    # And a stream written now keeps `done` beside its slices (the summary reads only that), and
    # each slice the sort its cursor is in.
    written = Stream((Slice(None, T0, "c", True), Slice(T0, None, None, False))).to_json()
    assert written["done"] is False
    assert [piece["order"] for piece in written["slices"]] == [BY_CREATION, BY_CREATION]
    read = Stream.of({"order": written}, EntityKind.ORDER).slices
    assert read == (Slice(None, T0, "c", True), Slice(T0, None, None, False))
    assert read[0].position == "c"


def test_slices_recorded_before_the_documents_sorted_are_read_from_their_start() -> None:
    """Slices written without `order` hold cursors of Saleor's default order; once read to a
    page of ours they are in the documents' sort."""
    recorded = {"start": None, "end": T0.isoformat(), "cursor": "WyJhQGIuYyJd", "done": False}
    piece = Slice.from_json(recorded)
    assert piece.order is None and piece.position is None and piece.begun
    assert Slice.from_json({**recorded, "order": BY_CREATION}).position == "WyJhQGIuYyJd"
    on = piece.read_to("WyIyMDI2Il0=", False)
    assert on.position == "WyIyMDI2Il0=" and Slice.from_json(on.to_json()) == on
    fresh = Slice(T0, None)
    assert fresh.position is None and not fresh.begun
