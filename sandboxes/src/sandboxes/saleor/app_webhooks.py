"""An app's mutations of its own webhooks, as Saleor runs them (saleor/graphql/webhook/mutations/).

All three need MANAGE_APPS or AUTHENTICATED_APP, and an app calling one acts on its own webhooks
only:

* ``webhookCreate`` (webhook_create.py): an app's own call needs no ``app`` argument; the app
  must be active; a ``query`` is validated against the schema of the Saleor being played
  (syntax: SYNTAX, invalid: GRAPHQL_ERROR, saleor/graphql/webhook/subscription_query.py), so a
  subscription naming a type that version lacks is refused, and so is one naming no event
  (MISSING_EVENT); the events are ``asyncEvents``, else those the query's fragments name (a
  webhook without a query may have none).
* ``webhookUpdate`` (webhook_update.py): ``get_instance`` looks the id up among the calling
  app's webhooks only, so another app's is NOT_FOUND "Couldn't resolve to a node"; then
  ``WebhookCreate.clean_input``: the webhook's app must be active, a query is validated as
  above, and the events (``asyncEvents``, else the query's) replace the old ones only when
  there are some (``save``: ``if events``). Fields left out keep their values.
* ``webhookDelete`` (webhook_delete.py): an inactive app is refused INVALID "App needs to be
  active to delete webhook"; another app's webhook GRAPHQL_ERROR "Couldn't resolve to a node".

Both take ``customHeaders``, a ``JSONString``: a string of JSON, parsed by graphene's
``json.loads``; a value that fails to parse (a JSON object given as the variable itself, not as
a string) becomes None without an error (saleor/graphql/core/fields.py ``JSONString``), and a
given None is stored as null (the column is nullable: ``ModelMutation.construct_instance``), so
such an update clears the webhook's headers. Headers given are checked by
``custom_headers_validator`` (``webhook_headers``; INVALID_CUSTOM_HEADERS, field
``customHeaders``: webhook_create.py ``clean_input``) and stored with their names lower-cased.

Both create and update then run the model's ``full_clean``: a name of at most 255 characters and
a ``targetUrl`` Saleor's validator takes (webhook_urls). A ValidationError raised without a
field (``clean_input``'s app checks) has ``field: null`` (saleor/graphql/core/mutations.py,
``validation_error_to_error_type``).
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from .arguments import pk_or_none
from .context import api_context
from .models import SandboxApp, WebhookConfig
from .permissions import AUTHENTICATED_APP
from .webhook_headers import custom_headers_problem
from .webhook_urls import target_url_problems
from .webhooks import events_from_query, subscription_problem

DISABLED = "App doesn't exist or is disabled"
NAME_MAX_LENGTH = 255  # Webhook.name (saleor/webhook/models.py)


def _error(field: str | None, message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"field": field, "message": message, "code": code}], "webhook": None}


def _model_problems(name: str | None, target_url: str) -> dict[str, Any] | None:
    """`full_clean` of the webhook as it would be saved (webhook_urls): every field's errors
    at once, in the model's field order; None when it is valid."""
    errors: list[dict[str, Any]] = []
    if name is not None and len(name) > NAME_MAX_LENGTH:
        message = (
            f"Ensure this value has at most {NAME_MAX_LENGTH} characters (it has {len(name)})."
        )
        errors.append({"field": "name", "message": message, "code": "INVALID"})
    errors += [
        {"field": "targetUrl", "message": message, "code": code}
        for message, code in target_url_problems(target_url)
    ]
    return {"errors": errors, "webhook": None} if errors else None


def _calling_app(info: Any) -> SandboxApp | None:
    viewer = api_context(info).viewer
    viewer.require("MANAGE_APPS", AUTHENTICATED_APP)
    return viewer.app


def _checked_query(info: Any, query: str) -> dict[str, Any] | None:
    """Saleor's `SubscriptionQuery` validation (`webhooks.subscription_problem`): the error
    to answer, or None."""
    problem = subscription_problem(query, info.schema)
    return None if problem is None else _error("query", *problem)


def _headers(input: dict[str, Any]) -> tuple[dict[str, str] | None, dict[str, Any] | None]:
    """The ``customHeaders`` given (as stored), or the error to answer."""
    headers = input.get("customHeaders")
    if not headers:  # `if headers := cleaned_data.get("custom_headers")`: {} and None as given
        return headers, None
    if not isinstance(headers, dict):
        # custom_headers_validator calls `headers.items()`: Saleor fails with an internal error.
        raise GraphQLError("Internal Server Error")
    if (problem := custom_headers_problem(headers)) is not None:
        return None, _error("customHeaders", problem, "INVALID_CUSTOM_HEADERS")
    return {str(key).lower(): str(value) for key, value in headers.items()}, None


def resolve_webhook_create(root: Any, info: Any, input: dict[str, Any]) -> Any:
    app = _calling_app(info)
    if app is None:
        return _error(
            None, "Missing app id. Fill in the app field or run the mutation by the app", "INVALID"
        )
    if not app.is_active:
        return _error(None, DISABLED, "NOT_FOUND")
    query = input.get("query")
    async_events = list(input.get("asyncEvents") or [])
    if query:
        if (refused := _checked_query(info, query)) is not None:
            return refused
        async_events = async_events or events_from_query(query)
    headers, refused = _headers(input)
    if refused is not None:
        return refused
    name, target_url = input.get("name"), str(input.get("targetUrl") or "")
    if (refused := _model_problems(name, target_url)) is not None:
        return refused
    context = api_context(info)
    hook = WebhookConfig(
        id=context.store.next_id(),
        app_id=app.id,
        name=name,
        target_url=target_url,
        is_active=bool(input.get("isActive", True)),
        async_events=async_events,
        query=query,
        custom_headers=headers if "customHeaders" in input else {},
    )
    app.webhooks.append(hook)
    return {"errors": [], "webhook": hook}


def _webhook(info: Any, id: str | None) -> tuple[SandboxApp, WebhookConfig] | None:
    """The webhook of that id among the apps (not removed) and its app."""
    pk = pk_or_none(id, "Webhook") if id else None
    for app in api_context(info).store.apps.values():
        for hook in app.webhooks:
            if hook.id == pk:
                return app, hook
    return None


def resolve_webhook_update(
    root: Any, info: Any, input: dict[str, Any], id: str | None = None
) -> Any:
    caller = _calling_app(info)
    found = _webhook(info, id)
    if found is None or (caller is not None and found[0].id != caller.id):
        return _error("id", f"Couldn't resolve to a node: {id}", "NOT_FOUND")
    app, hook = found
    if not app.is_active:
        return _error(None, DISABLED, "NOT_FOUND")
    query = input.get("query")
    events = list(input.get("asyncEvents") or [])
    if query:
        if (refused := _checked_query(info, query)) is not None:
            return refused
        events = events or events_from_query(query)
    # Given fields replace the webhook's, an explicit null too: the field's default where the
    # column is not nullable (ModelMutation.construct_instance, saleor/graphql/core/mutations.py).
    defaults: dict[str, Any] = {"name": None, "target_url": "", "is_active": True}
    changes: dict[str, Any] = {
        name: defaults[name] if input[key] is None else input[key]
        for key, name in (("name", "name"), ("targetUrl", "target_url"), ("isActive", "is_active"))
        if key in input
    }
    if query:
        changes["query"] = query
    if events:
        changes["async_events"] = events
    if "customHeaders" in input:
        changes["custom_headers"], refused = _headers(input)
        if refused is not None:
            return refused
    refused = _model_problems(
        changes.get("name", hook.name), str(changes.get("target_url", hook.target_url))
    )
    if refused is not None:
        return refused
    for name, value in changes.items():
        setattr(hook, name, value)
    return {"errors": [], "webhook": hook}


def resolve_webhook_delete(root: Any, info: Any, id: str | None = None) -> Any:
    caller = _calling_app(info)
    if caller is not None and not caller.is_active:
        return _error(None, "App needs to be active to delete webhook", "INVALID")
    found = _webhook(info, id)
    if found is None:
        return _error("id", f"Couldn't resolve to a node: {id}", "NOT_FOUND")
    app, hook = found
    if caller is not None and app.id != caller.id:
        # Raised without a field, unlike the NOT_FOUND of `get_node_or_error`.
        return _error(None, f"Couldn't resolve to a node: {id}", "GRAPHQL_ERROR")
    app.webhooks.remove(hook)
    return {"errors": [], "webhook": hook}
