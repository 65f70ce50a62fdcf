"""The worker's collector settings (`addon.heap`)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from addon.heap import WORKER_YOUNG_THRESHOLD, collect_less_often


@pytest.fixture
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)


def test_the_young_generation_is_collected_less_often_the_older_ratios_kept(
    thresholds: tuple[int, int, int],
) -> None:
    collect_less_often()
    assert gc.get_threshold() == (WORKER_YOUNG_THRESHOLD, thresholds[1], thresholds[2])
    assert thresholds[0] < WORKER_YOUNG_THRESHOLD
