"""The `slow` marker: full-strength versions of tests whose default run is a smaller budget of
the same check (e.g. the e-commerce property test). Skipped unless pytest runs with `--slow`
(`make test PYTEST_ARGS=--slow`; neither `make test` nor .ci/run passes it). With it, tests
marked `default_budget` (the same check at the smaller budget, e.g. the fuzzing's default
shards) are skipped: their full-strength versions cover them."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow", action="store_true", help="also run the full-strength tests marked slow"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        # The same check at its default budget, where its full-strength version runs instead.
        superseded = pytest.mark.skip(reason="its full-strength version runs (--slow)")
        for item in items:
            if item.get_closest_marker("default_budget") is not None:
                item.add_marker(superseded)
        return
    skip = pytest.mark.skip(reason="full strength, run with --slow")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)
