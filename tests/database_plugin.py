"""The `--database-tests-only` option: only the tests whose outcome can depend on the database
server. .ci/run passes it to its PostgreSQL run: every other test (contracts, the Mailchimp
client, payload builders, migrations on their own SQLite files, ...) never reaches
`TEST_DATABASE_URL`, has run on SQLite already and would only take the same path again.

A test depends on the database when its fixtures include `database_url` (the suite's migrated
database: `services`, `settings`, `app_client`, ... all do), or when its module reaches the
server itself: it reads `TEST_DATABASE_URL` or imports `tests.own_database` (the planner's tests,
the scale-out and production-install runs). The module check reads the source, so a mere
mention keeps a module's tests too: it errs on the side of running a test twice.

A test parametrized by the Saleor version the sandbox plays (`version`) runs there at the
current version only: what differs between versions is what Saleor answers, which the app reads
into the same rows with the same statements (the initial sync's slices and cursors, a tenth of
the PostgreSQL run's time at both versions)."""

from __future__ import annotations

import inspect
from functools import cache
from types import ModuleType

import pytest

OPTION = "--database-tests-only"
REACHES_SERVER = ("TEST_DATABASE_URL", "tests.own_database")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        OPTION,
        action="store_true",
        help="run only the tests that use the database (.ci/run's PostgreSQL run)",
    )


@cache
def _reaches_server(module: ModuleType) -> bool:
    source = inspect.getsource(module)
    return any(marker in source for marker in REACHES_SERVER)


def uses_database(item: pytest.Item) -> bool:
    if "database_url" in getattr(item, "fixturenames", ()):
        return True
    module = getattr(item, "module", None)
    return module is not None and _reaches_server(module)


def _older_saleor(item: pytest.Item) -> bool:
    from sandboxes.saleor.versions import CURRENT_VERSION

    params = getattr(getattr(item, "callspec", None), "params", {})
    return "version" in params and params["version"] != CURRENT_VERSION


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption(OPTION):
        return
    keep = {id(item) for item in items if uses_database(item) and not _older_saleor(item)}
    if len(keep) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if id(item) not in keep])
        items[:] = [item for item in items if id(item) in keep]
