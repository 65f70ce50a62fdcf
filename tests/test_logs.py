"""LOG_FORMAT=json: one JSON object a line with the request id, the installation, the job's id
and kind; query values and secret path segments still redacted; the human format stays the
default."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import httpx
import pytest
from pydantic import SecretStr
from starlette.routing import Route

from addon.app import create_app
from addon.clock import ManualClock
from addon.config import LogFormat, Settings
from addon.jobs.repository import JobRepository
from addon.jobs.schemas import ClaimedJob
from addon.jobs.worker import Worker
from addon.logs import JsonFormatter, RedactQueryFilter, configure_logging, redact_path
from addon.services import Services
from addon.subscriptions.own_webhooks import webhook_url
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.conftest import APP_URL, webhook_headers
from tests.factories import make_installation

pytestmark = pytest.mark.usefixtures("clock")


Lines = Callable[[], list[dict[str, object]]]


@pytest.fixture
def json_lines() -> Iterator[Lines]:
    """The JSON lines logged so far in the test (a handler of the root logger's own)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def test_log_format_setting() -> None:
    assert Settings(_env_file=None).log_format is LogFormat.HUMAN  # type: ignore[call-arg]
    chosen = Settings(log_format="json", _env_file=None)  # type: ignore[call-arg,arg-type]
    assert chosen.log_format is LogFormat.JSON


def test_json_lines_and_redacted_queries() -> None:
    saved = logging.getLogger().handlers[:], logging.getLogger().level
    try:
        configure_logging("INFO", LogFormat.JSON)
        (handler,) = logging.getLogger().handlers
        assert isinstance(handler.formatter, JsonFormatter)
        record = logging.LogRecord(
            "uvicorn.access",
            logging.INFO,
            __file__,
            1,
            '%s - "%s %s HTTP/%s" %d',
            ("1.2.3.4:5", "GET", "/api/connection/oauth/callback?code=SECRET&state=S", "1.1", 200),
            None,
        )
        RedactQueryFilter().filter(record)
        line = json.loads(handler.format(record))
        assert "SECRET" not in line["message"] and "code=…&state=…" in line["message"]
        assert line["level"] == "INFO" and line["logger"] == "uvicorn.access"
        configure_logging("INFO")
        (handler,) = logging.getLogger().handlers
        assert not isinstance(handler.formatter, JsonFormatter)
    finally:
        root = logging.getLogger()
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


def _access_line(path: str) -> str:
    """uvicorn's access-log line for `path`, through the filter `configure_logging` installs."""
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("1.2.3.4:5", "POST", path, "1.1", 200),
        None,
    )
    assert RedactQueryFilter().filter(record)
    return record.getMessage()


def test_request_lines_lose_the_mailchimp_webhook_secret() -> None:
    """The audience webhook's secret is a path segment (Mailchimp does not sign its webhooks):
    every delivery would write it to the access log."""
    secret = "Zs3cr3t-token_urlsafe-32-bytes-xxxxxxxxxxxx"
    path = webhook_url(APP_URL, 7, SecretStr(secret)).removeprefix(APP_URL)
    assert _access_line(path).endswith(
        '"POST /api/subscriptions/mailchimp-webhook/7/… HTTP/1.1" 200'
    )
    for variant in (
        path + "/",  # redirected to the path without the slash
        path + "?x=1",
        "/behind-a-proxy" + path,  # a root path
        path + "/more",  # answered 404, still carrying the secret
    ):
        line = _access_line(variant)
        assert secret not in line and "mailchimp-webhook/7/…" in line, line
    assert _access_line(path + "?x=1").endswith('/7/…?x=… HTTP/1.1" 200')


# Path parameter names a secret would go by.
_SECRET_LIKE = ("secret", "token", "key", "password", "signature", "code", "state")


async def test_every_route_with_a_secret_in_its_path_is_redacted(services: Services) -> None:
    """Read from the app's own routes, so a new route with a secret in its path, or a moved
    Mailchimp webhook (`addon.logs.SECRET_PATHS` copies its path), fails here."""
    checked = 0
    for route in create_app(services, run_worker=False).routes:
        if not isinstance(route, Route):
            continue
        params = list(route.param_convertors)
        secrets = [p for p in params if any(word in p.lower() for word in _SECRET_LIKE)]
        if not secrets:
            continue
        path = route.path_format
        for param in params:
            path = path.replace("{" + param + "}", f"VALUE-OF-{param.upper()}")
        line = redact_path(path)
        assert not [p for p in secrets if f"VALUE-OF-{p.upper()}" in line], (route.path, line)
        checked += 1
    assert checked >= 2  # the Mailchimp webhook's check (GET) and deliveries (POST)


async def test_a_request_and_its_installation_are_on_its_lines(
    installed_app: SandboxApp,
    saleor: SaleorSandbox,
    app_client: httpx.AsyncClient,
    json_lines: Lines,
) -> None:
    headers = webhook_headers(saleor, "not-a-signature", "product_updated")
    response = await app_client.post(
        "/api/webhooks/ecommerce-products",
        content=b'{"product": {"id": "UHJvZHVjdDox"}}',
        headers={**headers, "X-Request-ID": "proxy-id-1"},
    )
    assert response.status_code == 401
    assert response.headers["x-request-id"] == "proxy-id-1"
    rejected = [line for line in json_lines() if "Rejected a webhook" in str(line["message"])]
    assert rejected and rejected[0]["request_id"] == "proxy-id-1"
    assert isinstance(rejected[0]["installation_id"], int)

    fresh = await app_client.get("/healthz", headers={"X-Request-ID": "bad id"})
    assert fresh.headers["x-request-id"] != "bad id" and len(fresh.headers["x-request-id"]) == 32


async def test_a_jobs_lines_carry_its_id_and_kind(
    services: Services, clock: ManualClock, json_lines: Lines
) -> None:
    installation = await make_installation(services)

    async def broken(job: ClaimedJob, _: Services) -> None:
        logging.getLogger("tests.job").warning("working on it")
        raise RuntimeError("no")

    services.handlers.register("test.logged", broken)
    async with services.db.transaction() as session:
        job_id = await JobRepository(session).enqueue(installation, "test.logged", {})
    await Worker(services).run_until_idle()
    lines = [line for line in json_lines() if line.get("job_id") == job_id]
    messages = [str(line["message"]) for line in lines]
    assert "working on it" in messages  # the handler's own line
    assert any("failed, will retry" in message for message in messages)  # the worker's
    assert all(line["job_kind"] == "test.logged" for line in lines)
    assert all(line["installation_id"] == installation for line in lines)
    assert not [line for line in json_lines() if "job_id" in line and line["job_id"] != job_id]
