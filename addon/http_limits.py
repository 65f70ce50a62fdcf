"""A cap on request bodies, for every route: larger ones get 413 before the app sees them.

An ASGI middleware rather than a check in each endpoint, so that no route (present or future)
reads an unbounded body. A declared `Content-Length` over the cap is refused without reading a
byte; a body sent without one (chunked) is read only until it passes the cap. A body within the
cap is buffered and replayed to the app, which reads bodies whole anyway.
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
        content = json.dumps(payload).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(content)).encode()),
                    (b"connection", b"close"),  # the unread rest of the body is not wanted
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
