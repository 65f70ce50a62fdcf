"""Logging set-up. Secrets never reach a log: they travel as `SecretStr`, which prints masked,
and request lines lose their query values (an OAuth callback carries a code and a state) and
the secret segment of a path that carries one (Mailchimp's audience webhook, `SECRET_PATHS`).

Two formats (`LOG_FORMAT`): `human` (the default: one readable line) and `json` (one JSON object
a line, for log collectors). JSON lines also carry what the line happened in, from context
variables set where it starts: the web request's id (`request_id`, also answered in the
`X-Request-ID` header), the installation, the job's id and kind (`log_fields`). An exception
that escapes a request leaves with the note `request_id: …`, so the traceback the server logs
(after the request's context is gone) names the request too.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from addon.config import LogFormat

_QUERY_VALUE = re.compile(r"=([^&\s]*)")
# The routes whose path carries a secret, as declared (`{secret}` is the masked segment). A copy
# of `addon.subscriptions.own_webhooks.WEBHOOK_PATH`'s route: importing it here would make a
# package cycle (subscriptions -> installations -> logs). tests/test_logs.py checks that every
# route of the app with a secret in its path is one of these.
SECRET_PATHS = ("/api/subscriptions/mailchimp-webhook/{installation_id}/{secret}",)
_MASKED_PARAM = "secret"  # the segment `{secret}` of a SECRET_PATHS template
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Where `RequestId` leaves the request's id in the ASGI scope, for the middleware outside it that
# answers an unexpected exception (`request_id_of`).
_SCOPE_KEY = "addon.request_id"

# What a log line happened in; set at the start of a request or a job (each runs in a task of
# its own, whose copy of the context ends with it).
_fields: ContextVar[dict[str, str | int]] = ContextVar("addon_log_fields", default={})  # noqa: B039


def log_fields(**fields: str | int | None) -> None:
    """Add fields (request_id, installation_id, job_id, job_kind) to the current context's
    log lines; None leaves a field out."""
    _fields.set({**_fields.get(), **{k: v for k, v in fields.items() if v is not None}})


def current_log_fields() -> dict[str, str | int]:
    return dict(_fields.get())


def _secret_path_pattern(template: str) -> re.Pattern[str]:
    """A template's segments as a regex; `{secret}` is the group named `secret`. Searched, not
    matched at the start, so a root path (a proxy's prefix) before it changes nothing; and a
    longer path (a trailing slash, a typo, answered 404 or redirected) still loses its secret."""
    regex = ""
    for part in re.split(r"(\{\w+\})", template):
        if part == "{" + _MASKED_PARAM + "}":
            regex += f"(?P<{_MASKED_PARAM}>[^/?]+)"
        elif part.startswith("{"):
            regex += "[^/?]*"
        else:
            regex += re.escape(part)
    return re.compile(regex)


_SECRET_PATH_PATTERNS = tuple(_secret_path_pattern(template) for template in SECRET_PATHS)


def redact_query(path: str) -> str:
    """`/cb?code=abc&state=xyz` → `/cb?code=…&state=…`."""
    head, sep, query = path.partition("?")
    return head + sep + _QUERY_VALUE.sub("=…", query) if sep else path


def redact_path(path: str) -> str:
    """A request line's path without its secrets: the query values (`redact_query`) and the
    secret segment of a `SECRET_PATHS` route (`/api/subscriptions/mailchimp-webhook/7/…`)."""
    head, sep, query = path.partition("?")
    for pattern in _SECRET_PATH_PATTERNS:
        found = pattern.search(head)
        if found is not None:
            start, end = found.span(_MASKED_PARAM)
            head = head[:start] + "…" + head[end:]
    return redact_query(head + sep + query)


class RedactQueryFilter(logging.Filter):
    """For uvicorn's access log, whose arguments are (client, method, path, version, status):
    the path loses its secrets (`redact_path`: query values and secret path segments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_path(args[2]), *args[3:])
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the context's fields, and the
    exception's traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_fields.get(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str, log_format: LogFormat = LogFormat.HUMAN) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        force=True,
    )
    if log_format is LogFormat.JSON:
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter())
    # httpx logs every request line at INFO; keep it for DEBUG runs only.
    logging.getLogger("httpx").setLevel(max(logging.getLevelName(level), logging.WARNING))
    logging.getLogger("uvicorn.access").addFilter(RedactQueryFilter())


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_of(scope: Scope) -> str | None:
    """The id `RequestId` gave the request of `scope` (None before it has seen it)."""
    found = scope.get(_SCOPE_KEY)
    return found if isinstance(found, str) else None


def note_request_id(exc: BaseException, request_id: str) -> None:
    """Name the request in `exc`'s traceback (printed with it, e.g. by the server's log)."""
    note = f"request_id: {request_id}"
    if note not in getattr(exc, "__notes__", ()):
        exc.add_note(note)


class RequestId:
    """ASGI middleware: each HTTP request gets an id for its log lines (`request_id`), the
    caller's `X-Request-ID` when it sends a plausible one (a proxy's), a new one otherwise,
    answered in the response's `X-Request-ID`. An exception that escapes the request carries
    the id in a note, and the id stays in the scope for the error handler outside (see
    `addon.app`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else new_request_id()
        # In the caller's scope itself, not a copy: Starlette's ServerErrorMiddleware, outside
        # every middleware, hands this same dict to the error handler.
        scope[_SCOPE_KEY] = request_id
        token = _fields.set({"request_id": request_id})

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # The server logs the traceback after this context is reset: the note carries the id
            # there. (ServerErrorMiddleware catches Exception only; cancellation passes as is.)
            note_request_id(exc, request_id)
            raise
        finally:
            _fields.reset(token)
