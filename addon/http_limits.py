"""What a request may be before the app sees it, for every route (present or future).

* Bodies are capped: larger ones get 413. A declared `Content-Length` over the cap is refused
  without reading a byte; a body sent without one (chunked) is read only until it passes the
  cap. A body within the cap is buffered and replayed to the app, which reads bodies whole
  anyway.
* No NUL character in the path, the query string or a header: 422. PostgreSQL text cannot hold
  one and refuses it in a query, so a made-up path or parameter would otherwise be a 500 (HTTP
  servers refuse a NUL in a header already; this covers in-process callers too).
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from addon.errors import ErrorCode, error_body


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                await self.app(scope, _replay([], message, receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)  # the rest of the body is never read
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], None, receive), send)

    async def _refuse(self, send: Send) -> None:
        payload = error_body(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"The request body is larger than this app accepts ({self.max_bytes} bytes).",
        )
        # The unread rest of the body is not wanted.
        await _send_json(send, 413, payload, ((b"connection", b"close"),))


class NoNulCharacters:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _holds_nul(scope):
            payload = error_body(
                ErrorCode.INVALID_INPUT,
                "The request's path, query or headers hold a NUL character.",
            )
            await _send_json(send, 422, payload)
            return
        await self.app(scope, receive, send)


def _holds_nul(scope: Scope) -> bool:
    query = bytes(scope.get("query_string", b"")).lower()
    return (
        "\x00" in scope.get("path", "")
        or b"%00" in query
        or b"\x00" in query
        or any(b"\x00" in value for _, value in scope.get("headers", []))
    )


async def _send_json(
    send: Send, status: int, payload: object, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    content = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": content, "more_body": False})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length before we get here
    return None


def _replay(messages: list[Message], last: Message | None, receive: Receive) -> Receive:
    """A `receive` that hands out `messages` (then `last`), then reads on (disconnects)."""
    queue = [*messages, *([last] if last is not None else [])]

    async def replay() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return replay
