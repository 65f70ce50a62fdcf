"""The per-request context of the sandbox's resolvers (``ApiContext``: store, viewer, events
to emit), the root value of a webhook subscription (``EventRoot``) and ``api_context``, which
every resolver uses to reach the context."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

from graphql import GraphQLResolveInfo

from .models import Customer, SandboxApp
from .permissions import Viewer
from .store import SaleorStore
from .versions import CURRENT_VERSION

Info: TypeAlias = "GraphQLResolveInfo[Any]"


# -- request context ------------------------------------------------------------------------------


@dataclass
class ApiContext:
    """Per-request state: the store, the viewer, and events to emit after a mutation."""

    store: SaleorStore
    viewer: Viewer
    pending_events: list[tuple[str, Any]] = field(default_factory=list)
    saleor_version: str = CURRENT_VERSION  # what `shop { version }` reports


@dataclass(frozen=True)
class EventRoot:
    """The root value of a webhook subscription: an ``Event`` implementation and its payload."""

    type_name: str
    issued_at: datetime
    recipient: SandboxApp | None
    payload: dict[str, Any]
    issuing_principal: SandboxApp | Customer | None = None
    version: str = CURRENT_VERSION


# -- helpers ------------------------------------------------------------------------------------


def api_context(info: Info) -> ApiContext:
    context = info.context
    assert isinstance(context, ApiContext)
    return context
