"""How resolvers read a field off their source: ``default_resolver`` (``fieldName`` or its
snake_case form, from dicts, objects and sandbox models), ``reads`` (a resolver that needs its
source only, which the executor calls directly), the global ``id`` of a node, and ``InChannel``
(a product or variant seen through a channel)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from .context import Info
from .models import Channel, Node, Product, ProductVariant, SandboxModel

# -- value objects ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InChannel:
    """A product or variant seen through a channel (Saleor's ``ChannelContext``)."""

    node: Product | ProductVariant
    channel: Channel | None


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])|(?<=[a-z])(?=[0-9])")


@cache
def snake_case(name: str) -> str:
    """``streetAddress1`` -> ``street_address_1``, ``isActive`` -> ``is_active``."""
    return _CAMEL.sub("_", name).lower()


@cache
def model_attributes(model: type[SandboxModel], name: str) -> tuple[str, ...]:
    """The attributes ``default_resolver`` reads for ``name`` on a sandbox model, those the
    model has, in order (``name``, then its snake_case form): a model's fields and class
    attributes are known (extra fields are forbidden), so a missing one is never asked for
    (pydantic answers that through a raised AttributeError, a tenth of a page's time)."""
    wanted = [name] if not name[0].isupper() else []
    wanted.append(snake_case(name))
    present = (a for a in wanted if a in model.model_fields or hasattr(model, a))
    return tuple(dict.fromkeys(present))


def default_resolver(source: Any, info: Info, **_: Any) -> Any:
    """Read ``fieldName`` (or its snake_case form) from dicts and objects."""
    return read_field(source, info.field_name)


def read_field(source: Any, name: str) -> Any:
    """What ``default_resolver`` gives for the field ``name`` of ``source``."""
    if isinstance(source, dict):
        return source.get(name)
    if isinstance(source, InChannel):
        source = source.node
    if isinstance(source, SandboxModel):
        model_value = None
        for attribute in model_attributes(type(source), name):
            model_value = getattr(source, attribute)
            if model_value is not None:
                break
        return model_value
    value = getattr(source, name, None) if not name[0].isupper() else None
    if value is None:
        value = getattr(source, snake_case(name), None)
    return value


def reads(reader: Callable[[Any], Any]) -> Callable[..., Any]:
    """A resolver whose value comes from its source alone (neither `info` nor arguments): the
    sandbox's executor calls `reader` directly for a leaf field (see executor.py)."""

    def resolve(source: Any, info: Info, **_: Any) -> Any:
        return reader(source)

    resolve.plain_reader = reader  # type: ignore[attr-defined]
    return resolve


def channel_of(source: Any) -> Channel | None:
    return source.channel if isinstance(source, InChannel) else None


def unwrap(source: Any) -> Any:
    return source.node if isinstance(source, InChannel) else source


def _global_id(source: Any) -> str:
    node = unwrap(source)
    if isinstance(node, Node):
        return node.global_id
    if isinstance(node, dict):  # e.g. an `AttributeValue` (fulfillments.attribute_value)
        return str(node["id"])
    return str(node.id)


resolve_global_id = reads(_global_id)
