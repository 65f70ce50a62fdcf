"""`--database-tests-only` (.ci/run's PostgreSQL run) keeps every test that can reach the
database server and leaves out those that cannot."""

from __future__ import annotations

import pytest

from sandboxes.saleor.versions import CURRENT_VERSION, OLDEST_VERSION
from tests import test_claim_plan, test_config, test_scale_out
from tests.database_plugin import _older_saleor, _reaches_server, uses_database


def test_modules_reaching_the_server_themselves_are_kept() -> None:
    assert _reaches_server(test_claim_plan)  # the planner's tests, on their own databases
    assert _reaches_server(test_scale_out)  # reads the server's URL from the environment
    assert not _reaches_server(test_config)


def test_a_test_with_neither_is_left_out(request: pytest.FixtureRequest) -> None:
    assert not uses_database(request.node)  # this one: neither the fixture nor the server
    assert "database_url" not in request.fixturenames


def test_a_test_using_the_database_fixture_is_kept(
    request: pytest.FixtureRequest, database_url: str
) -> None:
    assert uses_database(request.node)


@pytest.mark.parametrize("version", [OLDEST_VERSION, CURRENT_VERSION])
def test_a_test_of_each_saleor_version_runs_there_at_the_current_one(
    request: pytest.FixtureRequest, version: str
) -> None:
    assert _older_saleor(request.node) is (version != CURRENT_VERSION)
