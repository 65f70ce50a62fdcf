"""The sandbox clock's ISO strings: cached per whole second, always what datetime would say."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sandboxes.mailchimp.state import SandboxClock


def expected(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds")


def test_iso_follows_the_clock_when_it_moves() -> None:
    now = [1_700_000_000.0]
    clock = SandboxClock(lambda: now[0])
    assert clock.iso() == "2023-11-14T22:13:20+00:00"
    now[0] += 0.5
    assert clock.iso() == "2023-11-14T22:13:20+00:00"
    now[0] += 0.5
    assert clock.iso() == "2023-11-14T22:13:21+00:00"
    clock.advance(3600)
    assert clock.iso() == "2023-11-14T23:13:21+00:00"
    now[0] -= 86_400  # a source may go back, too
    assert clock.iso() == "2023-11-13T23:13:21+00:00"


def test_iso_in_the_last_microsecond_of_a_second_rounds_as_datetime_does() -> None:
    now = [1_700_000_000.2]
    clock = SandboxClock(lambda: now[0])
    assert clock.iso() == "2023-11-14T22:13:20+00:00"  # caches second …:20
    now[0] = 1_700_000_000.9999998  # datetime rounds this up to …:21
    assert clock.iso() == expected(now[0]) == "2023-11-14T22:13:21+00:00"
    now[0] = 1_700_000_000.5
    assert clock.iso() == "2023-11-14T22:13:20+00:00"


def test_iso_matches_datetime_for_any_instant() -> None:
    rng = random.Random(7)
    now = [0.0]
    clock = SandboxClock(lambda: now[0])
    for _ in range(5000):
        whole = rng.choice([0, 1, 59, 1_700_000_000, 1_700_000_001, 4_102_444_799])
        now[0] = whole + rng.choice(
            [0.0, 0.25, 0.5, 0.999998, 0.9999989, 0.9999994, 0.9999995, 0.9999996, rng.random()]
        )
        assert clock.iso() == expected(now[0]), now[0]
