"""An unexpected exception in a request (a bug, a failed commit, a lost database) is answered
500 in the app's error shape, naming the request's id (also in `X-Request-ID`) and nothing of
the exception; the server logs its traceback once, and that record names the request id too.

The failure is made in a real route: `/readyz` with its migration check broken.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from starlette.types import Message
from uvicorn import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

import addon.health.endpoints as health
from addon.app import create_app
from addon.errors import ErrorCode
from addon.logs import JsonFormatter
from addon.services import Services
from tests.conftest import APP_URL

# What the exception says must never reach the caller.
EXCEPTION_TEXT = "connection to db.internal:5432 lost (password=hunter2)"


@pytest.fixture
def broken(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fail(_: Any) -> bool:
        raise RuntimeError(EXCEPTION_TEXT)

    monkeypatch.setattr(health, "is_current", fail)


@pytest.fixture
async def app(services: Services) -> AsyncIterator[FastAPI]:
    app = create_app(services, run_worker=False)
    async with app.router.lifespan_context(app):
        yield app


def _client(app: FastAPI, *, raise_app_exceptions: bool) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url=APP_URL)


def _assert_internal_error(response: httpx.Response, request_id: str | None = None) -> str:
    """The answer's request id, after checking the answer names it and nothing else."""
    assert response.status_code == 500, response.text
    assert response.headers["content-type"] == "application/json"
    answered = response.headers["x-request-id"]
    if request_id is not None:
        assert answered == request_id
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == ErrorCode.INTERNAL_ERROR
    assert answered in body["error"]["message"]
    for leak in (EXCEPTION_TEXT, "hunter2", "RuntimeError", "Traceback"):
        assert leak not in response.text
    return answered


@pytest.mark.usefixtures("broken")
async def test_an_unexpected_exception_is_answered_in_the_error_shape(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with _client(app, raise_app_exceptions=False) as client:
        first = _assert_internal_error(await client.get("/readyz"))
        second = _assert_internal_error(await client.get("/readyz", headers={"X-Request-ID": "x"}))
        given = await client.get("/readyz", headers={"X-Request-ID": "proxy-id-7"})
        _assert_internal_error(given, "proxy-id-7")
        made_up = await client.get("/readyz", headers={"X-Request-ID": "not an id"})
        assert _assert_internal_error(made_up) != "not an id"
    assert len(first) == 32 and first != second and second == "x"
    # The app logs no traceback itself: the server does, once (next test).
    assert not [record for record in caplog.records if record.exc_info]


@pytest.mark.usefixtures("broken")
async def test_the_exception_reaches_the_server_with_the_request_id(app: FastAPI) -> None:
    async with _client(app, raise_app_exceptions=True) as client:
        with pytest.raises(RuntimeError, match="password=hunter2") as caught:
            await client.get("/readyz", headers={"X-Request-ID": "proxy-id-8"})
    assert caught.value.__notes__ == ["request_id: proxy-id-8"]


class _Wire(asyncio.Transport):
    """The socket's side of a connection that uvicorn writes its answer to."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


@pytest.fixture
def server_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[logging.LogRecord]]:
    """Every record logged while the test runs, uvicorn's included (its default logging
    configuration, applied by other tests' servers, stops them propagating)."""
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append  # type: ignore[method-assign]
    for name in ("uvicorn", "uvicorn.error"):
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield records
    finally:
        root.removeHandler(handler)


@pytest.mark.usefixtures("broken")
async def test_uvicorn_logs_the_traceback_once_with_the_request_id(
    app: FastAPI, server_log: list[logging.LogRecord]
) -> None:
    # uvicorn's own HTTP protocol, fed the request in-process: the server's real path from
    # the exception to its log record and its answer, without a socket.
    config = Config(app, log_config=None, lifespan="off", access_log=False)
    config.load()
    state = ServerState()
    protocol = H11Protocol(config=config, server_state=state, app_state={})
    wire = _Wire()
    protocol.connection_made(wire)
    protocol.data_received(b"GET /readyz HTTP/1.1\r\nHost: app.test\r\nX-Request-ID: op-42\r\n\r\n")
    await asyncio.gather(*state.tasks)
    protocol.connection_lost(None)

    head, _, body = bytes(wire.written).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 500 ")
    assert b"\r\nx-request-id: op-42" in head
    answer = json.loads(body)  # one answer (the app's), not the server's own plain-text one
    assert answer["error"]["code"] == "INTERNAL_ERROR" and "op-42" in answer["error"]["message"]

    [record] = [record for record in server_log if record.exc_info]
    assert record.name == "uvicorn.error"
    for formatter in (logging.Formatter(), JsonFormatter()):
        assert "request_id: op-42" in formatter.format(record)


async def test_a_failure_after_the_answer_started_sends_nothing_more(
    app: FastAPI,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"first,"
        raise RuntimeError(EXCEPTION_TEXT)

    app.add_api_route("/test/stream", lambda: StreamingResponse(chunks()))
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/test/stream",
        "raw_path": b"/test/stream",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"app.test"), (b"x-request-id", b"op-43")],
        "client": ("127.0.0.1", 50000),
        "server": ("app.test", 80),
    }
    with pytest.raises(RuntimeError) as caught:
        await app(scope, receive, send)
    assert caught.value.__notes__ == ["request_id: op-43"]
    starts = [message for message in sent if message["type"] == "http.response.start"]
    assert [start["status"] for start in starts] == [200]
    assert (b"x-request-id", b"op-43") in starts[0]["headers"]
    assert b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body") == (
        b"first,"
    )
