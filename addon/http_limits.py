"""What a request may be before the app sees it, for every route (present or future).

* Bodies are capped (the storefront API's, under `public_prefix`, lower: shoppers' browsers
  send a few kB, unauthenticated): larger ones get 413. A declared `Content-Length` over the
  cap is refused without reading a byte; a body sent without one (chunked) is read only until
  it passes the cap. A body within the cap is buffered and replayed to the app, which reads
  bodies whole anyway.
* No NUL character in the path, the query string, a header or the body (raw, escaped in JSON,
  or encoded in a form): 422. PostgreSQL text cannot hold one and refuses it in a query, so a
  made-up path, parameter or field would otherwise be a 500 (HTTP servers refuse a NUL in a
  header already; this covers in-process callers too).
* No lone UTF-16 surrogate in a JSON body (`"\\ud800"` escaped, or its bytes raw, which
  Python's json reads with "surrogatepass"): 422. UTF-8 has no encoding for one, so neither
  database, nor the JSON columns' orjson, nor the answer echoing the value can take it: a 500.
  (Paths, queries and forms are decoded with replacement characters; headers as Latin-1.)
* Both look into a JSON body in UTF-16 or UTF-32 too, which Python's json reads.
* Both read the body as what it is, not as what its `Content-Type` says: the receivers of
  Saleor's webhooks read JSON, and of Mailchimp's a form, whatever the header declares. A body
  is checked as JSON, and one that is no JSON as a form too (a `%00` in a JSON string is text).

Under `public_prefix` (the storefront API, called by shoppers' browsers), a refusal carries the
CORS header for the request's origin and `Vary: Origin`, as the routes' errors do: a browser
would otherwise show it as a CORS failure. It says nothing of any store, so it is readable by
any origin, as a route's answer to a request naming no known store (`subscriptions.cors`).
"""

from __future__ import annotations

import json
import re

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from addon.errors import ErrorCode, error_body


class BodySizeLimit:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        public_prefix: str | None = None,
        public_max_bytes: int | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.public_prefix = public_prefix
        self.public_max_bytes = public_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        if self.public_max_bytes is not None and _public(scope, self.public_prefix):
            limit = min(limit, self.public_max_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, send, limit)
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
            if size > limit:
                await self._refuse(scope, send, limit)  # the rest of the body is never read
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], None, receive), send)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        payload = error_body(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"The request body is larger than this app accepts ({limit} bytes).",
        )
        # The unread rest of the body is not wanted.
        extra = ((b"connection", b"close"), *_cors(scope, self.public_prefix))
        await _send_json(send, 413, payload, extra)


class NoNulCharacters:
    """Inside the body cap (so it reads bounded bodies only): refuses a NUL anywhere, and a lone
    surrogate in a JSON body."""

    def __init__(self, app: ASGIApp, public_prefix: str | None = None) -> None:
        self.app = app
        self.public_prefix = public_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _holds_nul(scope):
            await _refuse_nul(send, "path, query or headers", _cors(scope, self.public_prefix))
            return
        messages: list[Message] = []
        more = True
        while more:
            message = await receive()
            messages.append(message)
            more = message["type"] == "http.request" and bool(message.get("more_body", False))
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        if _body_holds_nul(body):
            await _refuse_nul(send, "body", _cors(scope, self.public_prefix))
            return
        if _body_holds_lone_surrogate(body):
            payload = error_body(
                ErrorCode.INVALID_INPUT,
                "The request's body holds a lone surrogate (\\uD800 to \\uDFFF outside a "
                "pair), which stands for no character.",
            )
            await _send_json(send, 422, payload, _cors(scope, self.public_prefix))
            return
        await self.app(scope, _replay(messages, None, receive), send)


async def _refuse_nul(send: Send, where: str, extra: tuple[tuple[bytes, bytes], ...]) -> None:
    payload = error_body(ErrorCode.INVALID_INPUT, f"The request's {where} hold a NUL character.")
    await _send_json(send, 422, payload, extra)


def _public(scope: Scope, public_prefix: str | None) -> bool:
    path: str = scope.get("path", "")
    return public_prefix is not None and (
        path == public_prefix or path.startswith(public_prefix + "/")
    )


def _cors(scope: Scope, public_prefix: str | None) -> tuple[tuple[bytes, bytes], ...]:
    """The CORS headers of a refusal under `public_prefix` (see the module)."""
    if not _public(scope, public_prefix):
        return ()
    origin = next((v for k, v in scope.get("headers", []) if k == b"origin"), None)
    allow = ((b"access-control-allow-origin", origin),) if origin is not None else ()
    return ((b"vary", b"Origin"), *allow)


def _holds_nul(scope: Scope) -> bool:
    query = bytes(scope.get("query_string", b"")).lower()
    return (
        "\x00" in scope.get("path", "")
        or b"%00" in query
        or b"\x00" in query
        or any(b"\x00" in value for _, value in scope.get("headers", []))
    )


# A JSON escape for NUL: `\u0000` after an even number of backslashes (an odd number would make
# it the text "\u0000" itself).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _as_utf8(body: bytes) -> bytes | None:
    """The body as UTF-8, read as json reads a body: UTF-16 and UTF-32 too
    (`json.detect_encoding`), lone surrogates kept ("surrogatepass", as json decodes). None when
    it is in neither and is no UTF-8 either (its zero bytes are no NUL of any reader's)."""
    encoding = json.detect_encoding(body)
    if encoding.startswith("utf-8"):
        return body
    try:
        return body.decode(encoding, "surrogatepass").encode("utf-8", "surrogatepass")
    except UnicodeError:
        return None  # unreadable as JSON: the route refuses it


def _is_json(text: bytes) -> bool:
    try:
        orjson.loads(text)  # at C speed
        return True
    except orjson.JSONDecodeError:
        pass  # that, or something only json takes (NaN, deeper nesting)
    try:
        json.loads(text)
        return True
    except (ValueError, RecursionError):
        return False


def _body_holds_nul(body: bytes) -> bool:
    """A NUL that reading the body would produce, whatever its declared type: escaped in JSON,
    raw (JSON refuses one, a form keeps it), or, in a body that is no JSON, encoded as a form's
    `%00`."""
    if b"\\u0000" not in body and b"%00" not in body and b"\x00" not in body:
        return False  # the common case, found at C speed
    text = _as_utf8(body)
    if text is None:
        return False
    if b"\\u0000" in text and _JSON_NUL.search(text) is not None:
        return True
    if b"\x00" in text:
        return True
    return b"%00" in text and not _is_json(text)


def _body_holds_lone_surrogate(body: bytes) -> bool:
    """A lone surrogate that reading the body as JSON would produce (see the module), whatever
    its declared type: the receiver of Saleor's webhooks reads any body as JSON."""
    if b"\\ud" not in body and b"\\uD" not in body and b"\xed" not in body and b"\x00" not in body:
        return False  # the common case, found at C speed
    try:
        orjson.loads(body)  # refuses every lone surrogate, escaped or raw, at C speed
        return False
    except orjson.JSONDecodeError:
        pass  # that, or something json takes (NaN, UTF-16, a byte order mark): read as json does
    try:
        json.dumps(json.loads(body), ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return True
    except (ValueError, RecursionError):
        pass  # not JSON json reads: the route refuses it
    return False


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
