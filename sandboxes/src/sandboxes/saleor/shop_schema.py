"""Resolvers of the shop itself: apps (``app``, ``apps``, ``App.webhooks``), channels
(``channels``, ``channel``, countries) and ``shop { version }``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .arguments import page_args, pk_or_none
from .connections import paginate, saleor_error
from .context import Info, api_context
from .models import Channel, SandboxApp, WebhookConfig
from .permissions import AUTHENTICATED_APP, AUTHENTICATED_STAFF_USER
from .store_base import NotFound

# -- resolvers ----------------------------------------------------------------------------------


def resolve_app_type(app: SandboxApp, info: Info) -> str:
    return "THIRDPARTY"


def resolve_query_app(root: Any, info: Info, id: str | None = None) -> Any:
    viewer = api_context(info).viewer
    viewer.require(AUTHENTICATED_STAFF_USER, AUTHENTICATED_APP)
    if id is None:
        return viewer.app
    pk = pk_or_none(id, "App")
    if viewer.app is not None and pk == viewer.app.id:
        return viewer.app
    if viewer.app is not None:
        # Only an app needs MANAGE_APPS to see another app; a staff user sees any installed one
        # (saleor/graphql/app/schema.py, `resolve_app`; resolvers.py filters removed apps).
        viewer.require("MANAGE_APPS")
    return api_context(info).store.apps.get(pk) if pk is not None else None


def resolve_query_apps(root: Any, info: Info, **args: Any) -> Any:
    context = api_context(info)
    context.viewer.require("MANAGE_APPS")
    return paginate(info, list(context.store.apps.values()), lambda a: a.id, **page_args(args))


def resolve_channels(root: Any, info: Info) -> list[Channel]:
    context = api_context(info)
    context.viewer.require(AUTHENTICATED_APP, AUTHENTICATED_STAFF_USER)
    # By slug: the model's `Meta.ordering` (saleor/channel/models.py), which `resolve_channels`'s
    # `Channel.objects.all()` keeps.
    return sorted(context.store.channels.values(), key=lambda c: c.slug)


def resolve_channel(
    root: Any, info: Info, id: str | None = None, slug: str | None = None
) -> Channel | None:
    store = api_context(info).store
    if id is not None:
        pk = pk_or_none(id, "Channel")
        return store.channels.get(pk) if pk is not None else None
    if slug is not None:
        try:
            return store.channel_by_slug(slug)
        except NotFound:
            return None
    raise saleor_error("At least one of arguments is required: 'id', 'slug'.")


# Channel ----------------------------------------------------------------------------------------


def country_display(code: str) -> dict[str, str]:
    return {"code": code, "country": COUNTRY_NAMES.get(code, code)}


COUNTRY_NAMES = {
    "US": "United States of America",
    "GB": "United Kingdom",
    "DE": "Germany",
    "FR": "France",
    "PL": "Poland",
    "CA": "Canada",
    "NL": "Netherlands",
    "ES": "Spain",
    "IT": "Italy",
}


@dataclass(frozen=True)
class ShopView:
    version: str


def resolve_shop(root: Any, info: Info) -> ShopView:
    return ShopView(api_context(info).saleor_version)


def resolve_shop_version(source: ShopView, info: Info) -> str:
    # saleor/graphql/shop/types.py: `Shop.version` needs AUTHENTICATED_STAFF_USER or
    # AUTHENTICATED_APP.
    api_context(info).viewer.require(AUTHENTICATED_STAFF_USER, AUTHENTICATED_APP)
    return source.version


def resolve_app_webhooks(app: SandboxApp, info: Info) -> list[WebhookConfig]:
    viewer = api_context(info).viewer
    if not (viewer.app is not None and viewer.app.id == app.id):
        viewer.require("MANAGE_APPS")
    return list(app.webhooks)
