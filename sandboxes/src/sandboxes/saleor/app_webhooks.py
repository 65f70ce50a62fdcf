"""``webhookCreate`` as an app calls it for itself (saleor/graphql/webhook/mutations/
webhook_create.py): MANAGE_APPS or AUTHENTICATED_APP; an app's own call needs no ``app``
argument; the app must be active; a ``query`` is validated against the schema of the Saleor
being played (syntax: SYNTAX, invalid: GRAPHQL_ERROR, saleor/graphql/webhook/
subscription_query.py), so a subscription naming a type that version lacks is refused; the
events are ``asyncEvents``, else those the query's fragments name (MISSING_EVENT if none)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, parse, validate

from .context import api_context
from .models import WebhookConfig
from .permissions import AUTHENTICATED_APP
from .webhooks import events_from_query


def _error(field: str, message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"field": field, "message": message, "code": code}], "webhook": None}


def resolve_webhook_create(root: Any, info: Any, input: dict[str, Any]) -> Any:
    context = api_context(info)
    context.viewer.require("MANAGE_APPS", AUTHENTICATED_APP)
    app = context.viewer.app
    if app is None:
        return _error(
            "app",
            "Missing app id. Fill in the app field or run the mutation by the app",
            "REQUIRED",
        )
    if not app.is_active:
        return _error("app", "App doesn't exist or is disabled", "NOT_FOUND")
    query = input.get("query")
    async_events = list(input.get("asyncEvents") or [])
    if query:
        try:
            document = parse(query)
        except GraphQLError as exc:
            return _error("query", exc.message, "SYNTAX")
        problems = validate(info.schema, document)
        if problems:
            return _error("query", "; ".join(p.message for p in problems), "GRAPHQL_ERROR")
        async_events = async_events or events_from_query(query)
    if not async_events:
        return _error("asyncEvents", "No events in the webhook", "MISSING_EVENT")
    hook = WebhookConfig(
        id=context.store.next_id(),
        app_id=app.id,
        name=str(input.get("name") or ""),
        target_url=str(input.get("targetUrl") or ""),
        is_active=bool(input.get("isActive", True)),
        async_events=async_events,
        query=query,
    )
    app.webhooks.append(hook)
    return {"errors": [], "webhook": hook}
