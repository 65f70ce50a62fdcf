"""Saleor-facing HTTP endpoints: manifest, register (tokenTargetUrl), webhooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Header, Path, Request
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.responses import JSONResponse, Response
from starlette.routing import request_response

from addon import metrics
from addon.dependencies import ServicesDep, SessionDep, services_of
from addon.errors import BadRequest, ErrorCode, NotFound, Unauthorized, error_responses
from addon.installations.delivery_key import HEADER_NAME as DELIVERY_KEY_HEADER
from addon.installations.service import InstallationService
from addon.installations.signing_keys import SigningKeys
from addon.installations.webhooks import WebhookHeaders, WebhookReceiver
from addon.openapi import required_headers
from addon.saleor.manifest import (
    WEBHOOK_PATH_PREFIX,
    build_manifest,
    webhook_by_slug,
    webhook_definitions,
)
from addon.saleor.schemas import RegisterPayload

router = APIRouter()


class _RequestRoute(APIRoute):
    """A route documented from its declaration like any other, but served without FastAPI's
    per-request machinery (solving parameters, two exit stacks, validating and serialising
    the answer: a tenth of a webhook's CPU). Its endpoint takes the path's parameters (plain
    strings) and the request, reads the rest itself and answers a JSON object; errors go to
    the app's handlers as from any route."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)

        async def handle(request: Request) -> Response:
            return JSONResponse(await endpoint(request=request, **request.path_params))

        self.app = request_response(handle)


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False


@router.get("/api/manifest")
async def manifest(services: ServicesDep) -> dict[str, Any]:
    return build_manifest(services.settings.app_url)


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    # These routes read their body themselves (checks come first), so FastAPI cannot see it.
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


@router.post(
    "/api/register",
    responses=error_responses(400, 401, 403, 409, 502),
    openapi_extra={
        **_json_body(RegisterPayload.model_json_schema()),
        **required_headers("saleor-api-url"),
    },
)
async def register(
    request: Request,
    services: ServicesDep,
    session: SessionDep,
    saleor_api_url: Annotated[str | None, Header()] = None,
    saleor_domain: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    if not saleor_api_url:
        raise BadRequest(
            "Missing the Saleor-Api-Url header.", code=ErrorCode.MISSING_SALEOR_API_URL
        )
    if not _is_http_url(saleor_api_url):
        raise BadRequest(
            "The Saleor-Api-Url header is not an http(s) URL.",
            code=ErrorCode.INVALID_SALEOR_API_URL,
        )
    service = InstallationService(session, services.settings, services.saleor)
    service.ensure_allowed(saleor_api_url)  # before anything else, so nothing goes out
    try:
        payload = RegisterPayload.model_validate_json(await request.body())
    except ValidationError as exc:
        raise BadRequest(
            "The body must be JSON with a non-empty auth_token.", code=ErrorCode.INVALID_BODY
        ) from exc
    await service.register(saleor_api_url, saleor_domain, payload.auth_token)
    # A re-installation has a new app id, by which the app knows its own echoes: this
    # process's webhooks read it afresh (another process's within `CACHE_SECONDS`).
    SigningKeys(services.db, services.settings, services.saleor).forget(saleor_api_url)
    return {"success": True}


WEBHOOK_HEADERS = (
    "saleor-event",
    "saleor-signature",
    "saleor-api-url",
    "saleor-domain",
    DELIVERY_KEY_HEADER,
)
_WANTED = {name.encode(): index for index, name in enumerate(WEBHOOK_HEADERS)}


def _webhook_headers(request: Request) -> list[str | None]:
    """`WEBHOOK_HEADERS`' values (the first of each, as `request.headers.get`), in one pass
    over the raw headers (ASGI names them in lower case) instead of a scan for each."""
    found: list[str | None] = [None] * len(WEBHOOK_HEADERS)
    for name, value in request.scope["headers"]:
        index = _WANTED.get(name)
        if index is not None and found[index] is None:
            found[index] = value.decode("latin-1")
    return found


async def webhook(
    slug: Annotated[
        str,
        Path(
            description="One of the manifest's webhooks (any other is not found).",
            json_schema_extra={"enum": [d.slug for d in webhook_definitions()]},
        ),
    ],
    request: Request,
) -> dict[str, Any]:
    # The services without a dependency: solving one costs FastAPI more than this whole lookup.
    services = services_of(request)
    saleor_event, saleor_signature, saleor_api_url, saleor_domain, delivery_key = _webhook_headers(
        request
    )
    definition = webhook_by_slug(slug)
    if definition is None:
        raise NotFound(f"No webhook endpoint {slug!r}.", code=ErrorCode.UNKNOWN_WEBHOOK)
    if not saleor_signature:  # unsigned: unauthenticated, whatever else the request holds
        metrics.webhook_rejected(slug, ErrorCode.INVALID_SIGNATURE)
        raise Unauthorized(
            "The delivery is not signed (no Saleor-Signature header).",
            code=ErrorCode.INVALID_SIGNATURE,
        )
    missing = [
        name
        for name, value in (("Saleor-Event", saleor_event), ("Saleor-Api-Url", saleor_api_url))
        if not value
    ]
    if missing:
        metrics.webhook_rejected(slug, ErrorCode.MISSING_HEADERS)
        raise BadRequest(
            "Missing headers: " + ", ".join(missing) + ".", code=ErrorCode.MISSING_HEADERS
        )
    assert saleor_event and saleor_signature and saleor_api_url
    headers = WebhookHeaders(
        event=saleor_event,
        signature=saleor_signature,
        saleor_api_url=saleor_api_url,
        saleor_domain=saleor_domain,
        delivery_key=delivery_key,
    )
    # No request-long session: the receiver verifies first and writes in one short transaction.
    outcome = await WebhookReceiver(services).receive(definition, headers, await request.body())
    return {"success": True, "outcome": outcome.value}


router.add_api_route(
    WEBHOOK_PATH_PREFIX + "{slug}",
    webhook,
    methods=["POST"],
    route_class_override=_RequestRoute,
    responses=error_responses(400, 401, 404),
    openapi_extra={
        **_json_body({"type": "object"}),
        # Read from the request itself: as declared parameters, FastAPI's parsing of four
        # headers cost a tenth of a delivery's time.
        "parameters": [
            {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
            for name in WEBHOOK_HEADERS
        ],
        **required_headers("saleor-event", "saleor-signature", "saleor-api-url"),
    },
)
