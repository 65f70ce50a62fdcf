"""What start-up made lives as long as the process: kept out of the garbage collector's way."""

from __future__ import annotations

import gc

_frozen = False


def freeze_start_up() -> None:
    """Move what start-up made (modules, routes, settings, compiled statements) out of the
    collector's generations, so the full collections that requests and jobs trigger no longer
    walk it each time (an initial sync's worker spent 11 % of its CPU in full collections).
    Once per process (tests make many apps)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()  # garbage of start-up is not kept for good
        gc.freeze()


# Allocations of container objects between two collections of the youngest generation in a
# worker (CPython's default: 700). An initial sync decodes pages of a hundred orders (~10 k
# dicts and lists each) that stay alive while they are planned, so at 700 each page set off
# about a dozen young collections, every tenth of those an older one, and, start-up being frozen
# (the long-lived generation nearly empty), a full collection every ~100 young ones, each
# walking every page held: the collector took ~12 % of the worker's CPU. Garbage in cycles
# waits a little longer; most of what a job drops is freed by reference counting at once.
WORKER_YOUNG_THRESHOLD = 10_000


def collect_less_often() -> None:
    """Collect the youngest generation every `WORKER_YOUNG_THRESHOLD` allocations (the worker
    process: its jobs decode and hold large pages; the older generations' ratios kept)."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(WORKER_YOUNG_THRESHOLD, older, oldest)
