"""Behind a proxy that terminates HTTPS: `addon serve` believes X-Forwarded-For/-Proto only from
FORWARDED_ALLOW_IPS, and APP_URL=https://… gives https URLs in the manifest and the OAuth
redirect whatever scheme the request reached the app with."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from addon.app import create_app
from addon.cli import uvicorn_options
from addon.config import Settings
from addon.services import Services

PUBLIC = "https://mailchimp.example.com"
PROXY = "10.0.0.2"
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.7"}


def loaded(app: Any, settings: Settings) -> Any:
    """`app` as `addon serve` hands it to uvicorn's server (its middleware included)."""
    config = uvicorn.Config(app, **uvicorn_options(settings, host="127.0.0.1", port=0))
    config.load()
    return config.loaded_app


def client(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://app.internal:8000")


@pytest.fixture
def proxied(settings: Settings) -> Iterator[Settings]:
    yield settings.model_copy(update={"app_url": PUBLIC, "forwarded_allow_ips": f"{PROXY},::1"})


async def test_forwarded_headers_count_only_from_the_proxy(proxied: Settings) -> None:
    seen: list[tuple[str, str | None]] = []

    async def probe(scope: Scope, receive: Receive, send: Send) -> None:
        host = scope["client"][0] if scope.get("client") else None
        seen.append((scope["scheme"], host))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = loaded(probe, proxied)
    async with client(app, PROXY) as via_proxy:
        await via_proxy.get("/", headers=FORWARDED)
    async with client(app, "203.0.113.9") as stranger:
        await stranger.get("/", headers=FORWARDED)  # claims to be someone else over https
    assert seen == [("https", "198.51.100.7"), ("http", "203.0.113.9")]


async def test_https_app_url_gives_https_manifest_and_redirect_urls(
    proxied: Settings, services: Services
) -> None:
    services.settings = proxied
    app = loaded(create_app(services, run_worker=False), proxied)
    async with client(app, PROXY) as via_proxy:
        manifest = (await via_proxy.get("/api/manifest", headers=FORWARDED)).json()
        popup = await via_proxy.get("/app/oauth/go", params={"state": "s1"}, headers=FORWARDED)
    async with client(app, "203.0.113.9") as stranger:
        plain = await stranger.get("/app/oauth/go", params={"state": "s1"}, headers=FORWARDED)

    urls = re.findall(r'"(https?://[^"]+)"', json.dumps(manifest))
    assert urls and all(url.startswith(PUBLIC + "/") for url in urls), urls
    assert manifest["appUrl"].startswith(PUBLIC) and manifest["tokenTargetUrl"].startswith(PUBLIC)

    assert popup.status_code == 200
    (authorize,) = {
        url.replace("&amp;", "&")
        for url in re.findall(r"http[^\"'\s<>]*oauth2/authorize[^\"'\s<>]*", popup.text)
    }
    assert parse_qs(urlsplit(authorize).query)["redirect_uri"] == [
        f"{PUBLIC}/api/connection/oauth/callback"
    ]
    # The pop-up's cookie is Secure when the proxy says the browser came over https, and only
    # then (a client cannot make the app believe it from elsewhere; it would be harmless, too).
    assert "secure" in popup.headers["set-cookie"].lower()
    assert "secure" not in plain.headers["set-cookie"].lower()


def test_serve_trusts_only_the_configured_addresses(settings: Settings) -> None:
    options = uvicorn_options(settings, host="0.0.0.0", port=8000)
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == "127.0.0.1"  # the default: a proxy on the host
