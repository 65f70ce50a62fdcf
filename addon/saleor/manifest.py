"""The app manifest Saleor installs from: `manifest.json` + one webhook per `webhooks/*.graphql`."""

from __future__ import annotations

import hashlib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from graphql import FieldNode, InlineFragmentNode, OperationDefinitionNode, OperationType, parse
from pydantic import BaseModel, ConfigDict, Field

from addon.paths import MANIFEST_FILE, WEBHOOKS_DIR
from addon.saleor.versions import (
    CHECKOUT_FULLY_AUTHORIZED_SINCE,
    CUSTOMER_DELETED_SINCE,
    DISCOUNTED_PRICE_UPDATED_SINCE,
    SaleorVersion,
)

WEBHOOK_PATH_PREFIX = "/api/webhooks/"


class WebhookDefinition(BaseModel):
    """One subscription document and the events it subscribes to."""

    model_config = ConfigDict(frozen=True)

    slug: str
    name: str
    events: tuple[str, ...]
    query: str

    @property
    def path(self) -> str:
        return WEBHOOK_PATH_PREFIX + self.slug


def event_name(type_name: str) -> str:
    """`AppStatusChanged` → `APP_STATUS_CHANGED` (Saleor's event enum from its payload type)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type_name).upper()


def _definition(path: Path) -> WebhookDefinition:
    source = path.read_text()
    document = parse(source)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1 or operations[0].operation is not OperationType.SUBSCRIPTION:
        raise ValueError(f"{path.name}: expected exactly one subscription operation")
    operation = operations[0]
    event_field = operation.selection_set.selections[0]
    if not isinstance(event_field, FieldNode) or event_field.selection_set is None:
        raise ValueError(f"{path.name}: expected `subscription {{ event {{ ... }} }}`")
    fragments = [
        s for s in event_field.selection_set.selections if isinstance(s, InlineFragmentNode)
    ]
    events = tuple(event_name(f.type_condition.name.value) for f in fragments if f.type_condition)
    if not events:
        raise ValueError(f"{path.name}: the event selection names no event type")
    name = operation.name.value if operation.name else path.stem
    return WebhookDefinition(
        slug=path.stem.replace("_", "-"), name=name, events=events, query=source
    )


@cache
def webhook_definitions(directory: Path = WEBHOOKS_DIR) -> tuple[WebhookDefinition, ...]:
    return tuple(_definition(path) for path in sorted(directory.glob("*.graphql")))


# Webhooks the app registers itself (`webhookCreate`) where the Saleor has what they subscribe
# to: not in the manifest, whose subscriptions every supported Saleor must accept at installation.
REGISTERED_WEBHOOKS_DIR = WEBHOOKS_DIR / "registered"
# The first Saleor version that has what each registered webhook subscribes to.
REGISTERED_SINCE: dict[str, SaleorVersion] = {
    "erasure-customer-deleted": CUSTOMER_DELETED_SINCE,
    "ecommerce-discounted-prices": DISCOUNTED_PRICE_UPDATED_SINCE,
    "ecommerce-checkouts-authorized": CHECKOUT_FULLY_AUTHORIZED_SINCE,
}


@cache
def registered_webhook_definitions() -> tuple[WebhookDefinition, ...]:
    return webhook_definitions(REGISTERED_WEBHOOKS_DIR)


def wanted_webhooks(version: SaleorVersion | None) -> tuple[WebhookDefinition, ...]:
    """The webhooks an installation on that Saleor version should have: the manifest's, and the
    registered ones it has the events of (none while the version is unknown)."""
    registered = tuple(
        definition
        for definition in registered_webhook_definitions()
        if version is not None and version >= REGISTERED_SINCE[definition.slug]
    )
    return webhook_definitions() + registered


def webhooks_digest(definitions: tuple[WebhookDefinition, ...], app_url: str) -> str:
    """A fingerprint of the webhooks `definitions` make under `app_url`: an installation whose
    webhooks were last brought up to date under another one has the app's upkeep due."""
    hooks = sorted(
        (d.slug, d.name, sorted(d.events), d.query, app_url + d.path) for d in definitions
    )
    return hashlib.sha256(json.dumps(hooks).encode()).hexdigest()


def webhook_by_slug(slug: str) -> WebhookDefinition | None:
    every = webhook_definitions() + registered_webhook_definitions()
    return next((d for d in every if d.slug == slug), None)


class ManifestWebhook(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str
    async_events: list[str] = Field(alias="asyncEvents")
    query: str
    target_url: str = Field(alias="targetUrl")
    is_active: bool = Field(alias="isActive")


def _absolute(app_url: str, value: str) -> str:
    return value if re.match(r"^https?://", value) else app_url + value


def _absolute_urls(app_url: str, node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: _absolute(app_url, value)
            if isinstance(value, str) and (key.endswith("Url") or key in {"default", "url"})
            else _absolute_urls(app_url, value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_absolute_urls(app_url, item) for item in node]
    return node


@cache
def app_identifier() -> str:
    """The manifest's `id`: Saleor's `App.identifier` of every installation of this app."""
    return str(json.loads(MANIFEST_FILE.read_text())["id"])


def is_this_app(identifier: object) -> bool:
    """Whether Saleor's `App.identifier` is this app's (not another app's of the store)."""
    return identifier == app_identifier()


def build_manifest(app_url: str) -> dict[str, Any]:
    """The manifest document with every URL absolute (based on APP_URL)."""
    manifest: dict[str, Any] = _absolute_urls(app_url, json.loads(MANIFEST_FILE.read_text()))
    manifest["webhooks"] = [
        ManifestWebhook(
            name=definition.name,
            async_events=list(definition.events),
            query=definition.query,
            target_url=app_url + definition.path,
            is_active=True,
        ).model_dump(by_alias=True)
        for definition in webhook_definitions()
    ]
    return manifest
