"""Webhook deliveries of ``SaleorSandbox``: which apps' webhooks receive an event, the payload
their subscription query renders, and the signed request sent (and sent again)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import httpx
from graphql import DocumentNode, ExecutionResult, execute, parse

from .context import ApiContext, EventRoot
from .executor import SandboxExecutor
from .fulfillments import FulfillmentEvent
from .models import Customer, Product, SandboxApp, WebhookConfig, utcnow
from .order_models import Order
from .permissions import Viewer
from .reading import default_resolver
from .sandbox_base import SandboxBase, is_coroutine
from .schema import sandbox_schema
from .webhooks import Delivery, event_type_name, payload_field, required_permission


class SandboxWebhooks(SandboxBase):
    """Webhook deliveries: who receives an event, its payload, the signed request."""

    # -- webhooks ------------------------------------------------------------------------------

    def _recipients(
        self,
        event_type: str,
        include_app: SandboxApp | None,
        only_app: SandboxApp | None = None,
    ) -> list[tuple[SandboxApp, WebhookConfig]]:
        needed = required_permission(event_type)
        targets = []
        for app in list(self.store.apps.values()):
            if only_app is not None and app.id != only_app.id:
                continue
            forced = include_app is not None and app.id == include_app.id
            if not forced and (not app.is_active or (needed and needed not in app.permissions)):
                continue
            for hook in app.webhooks:
                events = hook.async_events
                if hook.is_active and (event_type in events or "ANY_EVENTS" in events):
                    targets.append((app, hook))
        return targets

    async def emit(
        self,
        event_type: str,
        root_object: Any,
        *,
        include_app: SandboxApp | None = None,
        issuing_principal: SandboxApp | Customer | None = None,
        only_app: SandboxApp | None = None,
    ) -> list[Delivery]:
        """Deliver ``event_type`` about ``root_object`` to every subscribed webhook.

        ``root_object`` is the event's subject (an app, order, customer, ...). Apps need the
        event's permission and must be active, except ``include_app``, which always receives
        it (used for lifecycle events about the app itself); with ``only_app``, no other app
        receives it.
        """
        deliveries = []
        for app, hook in self._recipients(event_type, include_app, only_app):
            body, errors = await self.render_payload(
                hook, app, event_type, root_object, issuing_principal
            )
            headers = {
                "Content-Type": "application/json",
                "Saleor-Event": event_type.lower(),
                "Saleor-Domain": self.domain,
                "Saleor-Api-Url": self.api_url,
                "Saleor-Signature": self.sign(body),
                **(hook.custom_headers or {}),
            }
            delivery = Delivery(
                event_type=event_type,
                app_id=app.id,
                webhook_id=hook.id,
                target_url=hook.target_url,
                headers=headers,
                body=body,
                error="; ".join(errors) if errors else None,
            )
            deliveries.append(await self._send(delivery))
        return deliveries

    async def render_payload(
        self,
        hook: WebhookConfig,
        app: SandboxApp,
        event_type: str,
        root_object: Any,
        issuing_principal: SandboxApp | Customer | None = None,
    ) -> tuple[bytes, list[str]]:
        """The webhook body: JSON of the subscription's ``event`` data (and any errors)."""
        if not hook.query:
            return b"{}", ["webhooks without a subscription query are not supported"]
        root = EventRoot(
            type_name=event_type_name(event_type),
            issued_at=utcnow(),
            recipient=app,
            payload=_event_payload(event_type, root_object),
            issuing_principal=issuing_principal,
            version=self.version,
        )
        context = ApiContext(self.store, Viewer.for_app(app), saleor_version=self.version)
        result = execute(
            sandbox_schema(self.version),
            _subscription_document(hook.query),
            root_value=root,
            context_value=context,
            field_resolver=default_resolver,
            is_awaitable=is_coroutine,
            executor_class=SandboxExecutor,
        )
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        data = (result.data or {}).get("event")
        errors = [e.message for e in result.errors or []]
        return json.dumps(data).encode(), errors

    async def _send(self, delivery: Delivery) -> Delivery:
        async with self._client() as client:
            try:
                response = await client.post(
                    delivery.target_url, content=delivery.body, headers=delivery.headers
                )
            except httpx.HTTPError as exc:
                sent = delivery.model_copy(update={"error": f"{type(exc).__name__}: {exc}"})
            else:
                sent = delivery.model_copy(
                    update={"status_code": response.status_code, "response_body": response.content}
                )
        self.deliveries.append(sent)
        return sent

    async def redeliver(self, delivery: Delivery) -> Delivery:
        """Send exactly the same request again (Saleor retries failed deliveries)."""
        fresh = delivery.model_copy(
            update={"status_code": None, "response_body": b"", "error": None, "sent_at": utcnow()}
        )
        return await self._send(fresh)

    async def _emit_all(self, events: Sequence[str], order: Order) -> Order:
        for event in events:
            await self.emit(event, order)
        return order


def _event_payload(event_type: str, root_object: Any) -> dict[str, Any]:
    if isinstance(root_object, FulfillmentEvent):
        return {"fulfillment": root_object.fulfillment, "order": root_object.order}
    name = payload_field(event_type)
    payload: dict[str, Any] = {name: root_object}
    if isinstance(root_object, Product):
        payload["category"] = None
    return payload


@lru_cache(maxsize=64)
def _subscription_document(query: str) -> DocumentNode:
    """A webhook's subscription document, parsed once: every delivery to the webhook executes
    the same text (graphql-core's executor does not change the document it runs)."""
    return parse(query)
