"""A list's webhooks, whose URL is checked when one is added (see `webhooks.py`)."""

from __future__ import annotations

from typing import Any

from .bodies import BodyIn
from .errors import field_invalid, invalid_resource, not_found
from .lists import list_data
from .models import ListWebhook, WebhookEvents, WebhookSources
from .routing import ApiRequest, Router
from .state import ListData
from .webhooks import verify_url

router = Router()


class WebhookIn(BodyIn):
    url: str
    events: WebhookEvents = WebhookEvents()
    sources: WebhookSources = WebhookSources()


def _render_webhook(hook: ListWebhook) -> dict[str, Any]:
    return {**hook.model_dump(mode="json"), "_links": []}


@router.route("POST", "/lists/{list_id}/webhooks")
async def post_webhook(request: ApiRequest) -> dict[str, Any]:
    with request.sandbox.state.lock:
        list_data(request.account, request.params["list_id"])
        payload = request.parse(WebhookIn)
        if not payload.url.startswith(("http://", "https://")):
            raise field_invalid("url", "This value should be a valid URL.")
    if not await verify_url(request.sandbox, payload.url):
        raise field_invalid(
            "url", "We couldn't verify that the URL is working. Please double check and try again."
        )
    with request.sandbox.state.lock:
        data = list_data(request.account, request.params["list_id"])
        if any(h.url == payload.url for h in data.webhooks.values()):
            raise invalid_resource("Sorry, you can't use the same URL for more than one webhook.")
        hook = ListWebhook(
            id=request.sandbox.state.new_id(10),
            url=payload.url,
            events=payload.events,
            sources=payload.sources,
            list_id=data.info.id,
        )
        data.webhooks[hook.id] = hook
        return _render_webhook(hook)


@router.route("GET", "/lists/{list_id}/webhooks")
def get_webhooks(request: ApiRequest) -> dict[str, Any]:
    data = list_data(request.account, request.params["list_id"])
    items = [_render_webhook(h) for h in data.webhooks.values()]
    return {"webhooks": items, "list_id": data.info.id, "total_items": len(items), "_links": []}


def _webhook(request: ApiRequest) -> tuple[ListData, ListWebhook]:
    data = list_data(request.account, request.params["list_id"])
    found = data.webhooks.get(request.params["webhook_id"])
    if found is None:
        raise not_found()
    return data, found


@router.route("GET", "/lists/{list_id}/webhooks/{webhook_id}")
def get_webhook(request: ApiRequest) -> dict[str, Any]:
    return _render_webhook(_webhook(request)[1])


@router.route("PATCH", "/lists/{list_id}/webhooks/{webhook_id}")
async def patch_webhook(request: ApiRequest) -> dict[str, Any]:
    """The spec's body is `Add_Webhook`'s, every field optional: what is given replaces the
    webhook's (events and sources key by key), checked as a new webhook's is (the URL's form,
    another webhook's URL, a URL that does not answer)."""
    with request.sandbox.state.lock:
        _, found = _webhook(request)
        body = request.json_object()
        merged: dict[str, Any] = {**body, "url": body.get("url", found.url)}
        for key in ("events", "sources"):
            given = body.get(key, {})
            kept = getattr(found, key).model_dump()
            # The given keys replace the webhook's; anything but an object is refused by `parse`.
            merged[key] = {**kept, **given} if isinstance(given, dict) else given
        payload = request.parse(WebhookIn, merged)
        moved = payload.url != found.url
        if moved and not payload.url.startswith(("http://", "https://")):
            raise field_invalid("url", "This value should be a valid URL.")
    if moved and not await verify_url(request.sandbox, payload.url):
        raise field_invalid(
            "url", "We couldn't verify that the URL is working. Please double check and try again."
        )
    with request.sandbox.state.lock:
        data, found = _webhook(request)
        if moved and any(h.url == payload.url for h in data.webhooks.values()):
            raise invalid_resource("Sorry, you can't use the same URL for more than one webhook.")
        updated = found.model_copy(
            update={"url": payload.url, "events": payload.events, "sources": payload.sources}
        )
        data.webhooks[found.id] = updated
        return _render_webhook(updated)


@router.route("DELETE", "/lists/{list_id}/webhooks/{webhook_id}")
def delete_webhook(request: ApiRequest) -> None:
    data, found = _webhook(request)
    del data.webhooks[found.id]
