"""Shared fixtures: a migrated database (SQLite, or PostgreSQL via TEST_DATABASE_URL), the app,
and the sandboxes, wired together in-process by host name:

    http://app.test      the app under test
    http://saleor.test   the Saleor sandbox (API at /graphql/)
    http://mailchimp.test  the Mailchimp sandbox (API at /{dc}/3.0, OAuth at /oauth2/...)
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import exists, literal, make_url, select, text, union_all
from sqlalchemy.ext.asyncio import create_async_engine

import addon.tables  # noqa: F401
from addon.app import create_app
from addon.capabilities import create_services
from addon.clock import Clock, ManualClock, use_clock
from addon.config import Settings
from addon.db.base import Base
from addon.db.engine import Database
from addon.db.migrations import upgrade
from addon.services import Services
from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from sandboxes.saleor import SaleorSandbox, SandboxApp
from sandboxes.transport import HostRoutingTransport

pytest_plugins = [
    "tests.contracts.mailchimp_plugin",
    "tests.database_plugin",
    "tests.slow_plugin",
]

APP_URL = "http://app.test"
SALEOR_API_URL = "http://saleor.test/graphql/"
MAILCHIMP_URL = "http://mailchimp.test"
OAUTH_CLIENT_ID = "123456789012"
OAUTH_CLIENT_SECRET = "sandbox-oauth-client-secret-0123456789abcdef"
TEST_SECRET_KEY = "test-secret-key-for-encrypting-credentials-at-rest"

# The suite's databases are thrown away: a commit need not wait for the disk
# (`Settings.sqlite_synchronous`). With every commit flushed, the suite's time went mostly to
# waiting for the disk, and so followed its speed, which varies a lot from day to day here
# (`.ci/run` took 12 to 32 minutes on the same kind of machine). Through the environment, so
# that the dev stacks of the browser tests and the tests' own processes take it too.
os.environ.setdefault("SQLITE_SYNCHRONOUS", "OFF")


# Long tests start first, so that under pytest-xdist (`make test`) none of them begins last
# and keeps one worker busy while the other has finished: the full-strength `slow` tests (when
# run), then these, by path prefix; the rest keep pytest's order. (Under xdist the browser
# modules, each run as a whole, start first anyway: see `pytest_xdist_make_scheduler`.)
LONG_TESTS = (
    "tests/test_fuzz_openapi.py",
    "tests/ecommerce/test_convergence.py",
    "tests/test_security_ratelimit.py",
    "tests/initial_sync/test_initial_sync.py::test_killing_the_worker_at_random_points",
    "tests/test_packaging.py",
    "tests/initial_sync/test_worker_crash.py",
    "tests/initial_sync/test_ledger_handover.py",
    "tests/contracts/test_compatibility_table.py",
)


def _start_rank(item: pytest.Item) -> int:
    if item.get_closest_marker("slow") is not None:
        return 0
    for rank, prefix in enumerate(LONG_TESTS, start=1):
        if item.nodeid.startswith(prefix):
            return rank
    return len(LONG_TESTS) + 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_start_rank)  # stable: pytest's order within a rank


BROWSER_TESTS = "tests/browser/"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup` (as `make test` runs pytest-xdist): each browser module is one unit,
    run in order on one worker (its tests build on each other's pages and share the worker's
    dev stack and Chromium), and the units are shared out between the workers; every other test
    is a unit of its own. The modules pass in any order and beside any others: each sets up
    what it needs, on channels, audiences and rows it can tell from other modules' leftovers.
    xdist hands out the largest units first, so the browser units start first and each worker
    runs its share back to back, starting its stack once. (xdist's `xdist_group` mark cannot
    do it here: pytest 9 ignores the group suffix xdist writes into the test ids.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class BrowserModulesWhole(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if not nodeid.startswith(BROWSER_TESTS):
                return nodeid
            return nodeid.split("::", 1)[0]

    return BrowserModulesWhole(config, log)


def _worker_database(url: str) -> str:
    """PostgreSQL: under pytest-xdist each worker gets a database of its own, `<db>_<worker>`
    (created on the same server when missing), since the session resets its schema."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    parsed = make_url(url)
    if worker is None or parsed.get_backend_name() != "postgresql":
        return url
    name = f"{parsed.database}_{worker}"

    async def create() -> None:
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                exists = await connection.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                )
                if not exists:
                    await connection.execute(text(f'CREATE DATABASE "{name}"'))
                # A commit returns before its WAL is on disk: a test never survives a crash of
                # PostgreSQL, and what a transaction sees is the same (postgresql.org/docs/
                # current/wal-async-commit.html). The suite waited on the disk at every commit.
                await connection.execute(
                    text(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
                )
        finally:
            await engine.dispose()

    asyncio.run(create())
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated database for the session (for each xdist worker: SQLite files live
    in the worker's own temporary directory, PostgreSQL see `_worker_database`)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url is None:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        url = _worker_database(url)

    async def reset() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                await connection.execute(text("DROP SCHEMA public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(reset())
    yield url


@pytest.fixture
def settings(session_settings: Settings, tmp_path: Path) -> Settings:
    """The tests' settings, with a key file of the test's own. Copied from the session's: the
    settings are frozen, and validating them afresh took about 5 ms of every test."""
    return session_settings.model_copy(update={"secret_key_file": tmp_path / ".secret_key"})


@pytest.fixture(scope="session")
def session_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        app_url=APP_URL,
        database_url=database_url,
        sqlite_synchronous="OFF",
        secret_key=TEST_SECRET_KEY,  # type: ignore[arg-type]
        secret_key_file=tmp_path_factory.mktemp("settings") / ".secret_key",
        jwks_refresh_min_interval_seconds=0,
        # The receiver's heartbeat sleeps on the test's clock: a test moving it hours would
        # look like an outage. The tests of the watch turn it on (tests/test_webhook_outage.py).
        webhook_outage_seconds=0,
        # A failed job is due again only when a test makes it due (or moves the `clock`),
        # never because a round happened to take longer than a short backoff.
        worker_backoff_base_seconds=3600,
        worker_backoff_max_seconds=3600,
        worker_max_attempts=3,
        # A service's outage retried no longer than other failures, as the tests of each kind
        # count; the longer retry is tested on its own (tests/ecommerce/test_outage_retry.py).
        worker_outage_max_attempts=0,
        mailchimp_api_url_template=MAILCHIMP_URL + "/{dc}/3.0",
        mailchimp_login_url=MAILCHIMP_URL,
        mailchimp_signup_url=MAILCHIMP_URL + "/signup/",
        mailchimp_client_id=OAUTH_CLIENT_ID,
        mailchimp_client_secret=OAUTH_CLIENT_SECRET,  # type: ignore[arg-type]
        mailchimp_backoff_base_seconds=0.001,
        mailchimp_backoff_max_seconds=0.01,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def keep_logging() -> Iterator[None]:
    """A command configures the root logger, as it does in production: undone afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def clock() -> Iterator[ManualClock]:
    """The process's clock, moved only by the test (`clock.advance(seconds)`): backoffs,
    leases and schedules then pass exactly when the test says, whatever the machine's load."""
    manual = ManualClock()
    use_clock(manual)
    yield manual
    use_clock(Clock())


@pytest.fixture
def network() -> HostRoutingTransport:
    return HostRoutingTransport()


class RecordingTransport(httpx.AsyncBaseTransport):
    """Records every request the app sends out (and passes it on)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def outbound(network: HostRoutingTransport, mailchimp_contract: Any) -> RecordingTransport:
    """What the app sends out; Mailchimp requests are also checked against the contract."""
    return RecordingTransport(mailchimp_contract(network))


async def _empty_tables(services: Services) -> None:
    """Every table emptied, children first. One query tells which hold rows (a test fills a
    few of the app's tables): a DELETE of each of the others, one round trip apiece, was a
    tenth of a short test's time."""
    tables = list(reversed(Base.metadata.sorted_tables))
    filled = union_all(
        *(
            select(literal(index)).where(exists(select(literal(1)).select_from(table)))
            for index, table in enumerate(tables)
        )
    )
    async with services.db.transaction() as session:
        for index in sorted((await session.scalars(filled)).all()):
            await session.execute(tables[index].delete())


class SessionDatabase(Database):
    """The session's database: the app's shutdown (a test's `app_client`) forgets what it
    remembers but keeps its connections for the next test."""

    async def dispose(self) -> None:
        self.memo.clear()

    async def close(self) -> None:
        await super().dispose()


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    """The session's database handle. SQLAlchemy compiles a statement once per engine: one
    engine for all tests, instead of one per test, saves compiling every statement again in
    every test (about a tenth of the suite's time)."""
    # Its connections stay open between tests: ten of them (more are opened and closed as a
    # test needs), so that four test workers and a test's own processes stay within
    # PostgreSQL's hundred.
    database = SessionDatabase(database_url, jobs_at_once=0, sqlite_synchronous="OFF")
    yield database
    await database.close()


@pytest.fixture
async def services(
    settings: Settings, outbound: RecordingTransport, database: Database
) -> AsyncIterator[Services]:
    services = create_services(settings, transport=outbound)
    services.db = database  # the session's, its connections kept (`SessionDatabase`)
    await _empty_tables(services)
    before = asyncio.all_tasks()
    yield services
    await _stop_tasks_since(before)
    await database.dispose()  # what the process remembers of the emptied tables


async def _stop_tasks_since(before: set[asyncio.Task[Any]]) -> None:
    """The tests share one event loop: a task a test left running (a refusal's notification,
    a worker a failed test never stopped) is stopped, as closing the test's own loop did,
    rather than writing into the next test's tables."""
    left = [
        task
        for task in asyncio.all_tasks() - before
        if task is not asyncio.current_task() and not task.done()
    ]
    for task in left:
        task.cancel()
    await asyncio.gather(*left, return_exceptions=True)


@pytest.fixture
async def app_client(
    services: Services, network: HostRoutingTransport
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the running app (lifespan entered; worker driven by the test)."""
    app = create_app(services, run_worker=False)
    network.add("app.test", app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=network, base_url=APP_URL) as client,
    ):
        yield client


@pytest.fixture(scope="session")
def saleor_signing_key() -> Any:
    from sandboxes.saleor import SigningKey

    return SigningKey.generate(2048)  # generating RSA keys is slow: once per session


@pytest.fixture(scope="session")
def stranger_key() -> Any:
    """A key Saleor never published (for forged signatures and tokens)."""
    from sandboxes.saleor import SigningKey

    return SigningKey.generate(2048, kid="stranger")


@pytest.fixture
def saleor(network: HostRoutingTransport, saleor_signing_key: Any) -> SaleorSandbox:
    sandbox = SaleorSandbox(SALEOR_API_URL, transport=network, signing_key=saleor_signing_key)
    network.add("saleor.test", sandbox.app)
    return sandbox


@pytest.fixture
async def installed_app(app_client: httpx.AsyncClient, saleor: SaleorSandbox) -> SandboxApp:
    """The app installed into the Saleor sandbox from its manifest URL."""
    return await saleor.install_app(f"{APP_URL}/api/manifest")


def webhook_headers(saleor: SaleorSandbox, signature: str, event: str) -> dict[str, str]:
    """The headers of a Saleor webhook delivery of `event`, signed with `signature`."""
    return {
        "Content-Type": "application/json",
        "Saleor-Event": event,
        "Saleor-Domain": saleor.domain,
        "Saleor-Api-Url": saleor.api_url,
        "Saleor-Signature": signature,
    }


def dashboard_headers(
    saleor: SaleorSandbox, app: SandboxApp, **token_options: Any
) -> dict[str, str]:
    return {
        "authorization-bearer": saleor.mint_dashboard_token(app, **token_options),
        "saleor-api-url": saleor.api_url,
    }


def keep_browser_key(client: httpx.AsyncClient, start: dict[str, Any]) -> None:
    """What the log-in window does with the key its Connection page hands it (oauth-window.js):
    keep it in the cookie the callback reads, so this client is the browser the log-in started
    in."""
    client.cookies.set(
        start["browser_cookie"],
        start["browser_key"],
        domain=urlsplit(APP_URL).hostname or "",
        path="/api/connection/oauth/callback",
    )


def new_mailchimp(network: HostRoutingTransport) -> MailchimpSandbox:
    """A Mailchimp sandbox on `network`, knowing the app as an OAuth client."""
    sandbox = MailchimpSandbox(public_base_url=MAILCHIMP_URL, transport=network)
    sandbox.register_oauth_client(
        OAUTH_CLIENT_ID,
        OAUTH_CLIENT_SECRET,
        redirect_uri=f"{APP_URL}/api/connection/oauth/callback",
    )
    network.add("mailchimp.test", sandbox.app)
    return sandbox


@pytest.fixture
async def mailchimp(network: HostRoutingTransport) -> AsyncIterator[MailchimpSandbox]:
    sandbox = new_mailchimp(network)
    yield sandbox
    await sandbox.aclose()


@pytest.fixture
def headers(saleor: SaleorSandbox, installed_app: SandboxApp) -> dict[str, str]:
    return dashboard_headers(saleor, installed_app)


@pytest.fixture
def account(mailchimp: MailchimpSandbox) -> SandboxAccount:
    return mailchimp.create_account("Green Grocer", "owner@grocer.example", dc="us21")
