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
