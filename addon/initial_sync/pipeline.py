"""Reading one kind's batches for a step, pipelined: each open slice is one stream of pages for
the whole step (the next page asked for while the last is planned, `Reader.pages`), and the next
batch is read while the step submits the last. A batch is a share of pages of each open slice
(one page at least each, the first ones a page more), planned (`Planner`), with the positions
its pages reached: the step writes them with the batch, in order, so a crash repeats only the
batch being submitted (and re-reads what was read ahead). At most two batches of a kind are
held at once: the one being submitted and the one being read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

from addon.db.types import utcnow
from addon.ecommerce.catalog import CatalogPusher
from addon.ecommerce.context import Context
from addon.ecommerce.models import EntityKind
from addon.initial_sync.planner import Planned, Planner
from addon.initial_sync.reader import Page, Reader
from addon.initial_sync.slices import Slice, split
from addon.initial_sync.state import Snapshot
from addon.services import Services


@dataclass(kw_only=True)
class Tally:
    """What reading gave: the operations, the ids handed to live sync, and the counts."""

    planned: dict[str, Planned] = field(default_factory=dict)
    live: list[str] = field(default_factory=list)
    read: int = 0
    skipped: int = 0
    total: int = 0

    def add(self, other: Tally) -> None:
        self.planned.update(other.planned)
        self.live.extend(other.live)
        self.read += other.read
        self.skipped += other.skipped
        self.total += other.total


@dataclass(kw_only=True)
class ReadBatch(Tally):
    """A batch read and planned: the slices' positions after it, and when its reading began."""

    slices: list[Slice]
    read_at: datetime


@dataclass(frozen=True)
class _Pages:
    """One slice's pages for a step, and how many of them each batch takes."""

    pages: AsyncGenerator[Page]
    share: int


@dataclass(kw_only=True)
class _Read(Tally):
    """What reading one slice gave, and its new position."""

    piece: Slice


class Pipeline:
    """The batches of one step's kinds (see the module docstring)."""

    def __init__(
        self,
        services: Services,
        run: Snapshot,
        context: Context,
        catalog: CatalogPusher,
    ) -> None:
        self.settings = services.settings
        self.run = run
        self.reader = Reader(services, context)
        self.planner = Planner(services, context, catalog)

    async def batches(self, kind: EntityKind, batches: int) -> AsyncGenerator[ReadBatch]:
        """Up to `batches` batches of the kind, each read while the one before is in the
        caller's hands; closing the generator stops the reading ahead and the streams."""
        slices = list(await self._slices(kind))
        open_ = [index for index, piece in enumerate(slices) if not piece.done]
        size = self.settings.initial_sync_page_size
        budget = -(-self.settings.initial_sync_batch_size // size)
        reading = open_[:budget]
        streams: dict[int, _Pages] = {}
        for n, index in enumerate(reading):
            share = budget // len(reading) + (1 if n < budget % len(reading) else 0)
            pages = self.reader.pages(kind, slices[index], share * batches * size)
            streams[index] = _Pages(pages, share)
        ahead: asyncio.Future[ReadBatch] | None = None
        try:
            ahead = asyncio.ensure_future(self._read_batch(kind, slices, streams))
            for sent in range(1, batches + 1):
                assert ahead is not None  # read ahead on the way round
                batch, ahead = await ahead, None
                if sent < batches and not all(batch.slices[i].done for i in streams):
                    ahead = asyncio.ensure_future(self._read_batch(kind, batch.slices, streams))
                yield batch
                del batch  # not held while the next one is read
                if ahead is None:
                    return
        finally:
            if ahead is not None:
                ahead.cancel()
                await asyncio.gather(ahead, return_exceptions=True)
            for stream in streams.values():
                await stream.pages.aclose()

    async def _slices(self, kind: EntityKind) -> tuple[Slice, ...]:
        """The kind's slices: as recorded, or split now (written with the first batch)."""
        recorded = self.run.streams[kind].slices
        if recorded is not None:
            return recorded
        since = self.run.orders_since if kind is EntityKind.ORDER else None
        if kind is EntityKind.PRODUCT:
            return (Slice(),)  # read whole: orders wait for every product anyway
        oldest, newest = await self.reader.bounds(kind)
        by_day = kind is EntityKind.CUSTOMER or not await self.reader.orders_by_instant()
        count = self.settings.initial_sync_read_slices
        return split(oldest, newest, count, by_day=by_day, since=since)

    async def _read(
        self, kind: EntityKind, piece: Slice, pages: AsyncIterator[Page], count: int
    ) -> _Read:
        """Read the slice's next `count` pages (fewer at its end) and plan them."""
        out = _Read(piece=piece)
        for _ in range(count):
            page = await anext(pages, None)
            if page is None:
                break
            out.piece = piece.read_to(page.end_cursor, not page.has_next)
            plan = await self.planner.plan(kind, page.nodes, piece)
            # A slice's first page only; less the customers that are another store's.
            out.total += (page.total or 0) - plan.elsewhere
            out.read += len(page.nodes) - plan.foreign - plan.elsewhere
            out.planned.update((item.saleor_id, item) for item in plan.operations)
            out.live.extend(plan.live)
            out.skipped += plan.skipped
        return out

    async def _read_batch(
        self, kind: EntityKind, slices: list[Slice], streams: dict[int, _Pages]
    ) -> ReadBatch:
        """The next batch: each open slice's share of pages, read side by side, planned."""
        out = ReadBatch(slices=list(slices), read_at=utcnow())
        tasks = [
            asyncio.ensure_future(self._read(kind, slices[i], stream.pages, stream.share))
            for i, stream in streams.items()
        ]
        try:
            reads = await asyncio.gather(*tasks)
        except BaseException:
            # No slice goes on reading its stream (the pipeline closes them) after one failed.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        for index, outcome in zip(streams, reads, strict=True):
            out.slices[index] = outcome.piece
            out.add(outcome)
        return out
