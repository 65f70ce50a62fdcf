"""The server-rendered pages: dashboard shell under /app/, public pages, static files."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from addon.ui.endpoints import PAGES
from sandboxes.saleor import SaleorSandbox, SandboxApp
from tests.conftest import APP_URL, MAILCHIMP_URL, dashboard_headers

DASHBOARD_QUERY = (
    "domain=saleor.test&saleorApiUrl=http%3A%2F%2Fsaleor.test%2Fgraphql%2F&id=QXBwOjE%3D"
)


async def test_the_manifest_points_at_pages_that_exist(
    app_client: httpx.AsyncClient,
) -> None:
    manifest = (await app_client.get("/api/manifest")).json()
    for key in ("appUrl", "homepageUrl", "dataPrivacyUrl", "supportUrl"):
        response = await app_client.get(manifest[key])
        assert response.status_code == 200, (key, response.status_code)
        assert response.headers["content-type"].startswith("text/html")
    logo = await app_client.get(manifest["brand"]["logo"]["default"])
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/png"
    assert logo.content.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(logo.content[16:20]), int.from_bytes(logo.content[20:24])
    assert width == height >= 256  # Saleor shows it square


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.slug)
async def test_every_page_has_the_navigation_and_keeps_the_dashboard_query(
    app_client: httpx.AsyncClient, page: object
) -> None:
    path = page.path  # type: ignore[attr-defined]
    response = await app_client.get(f"{path}?{DASHBOARD_QUERY}&theme=dark")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="en" data-theme="dark">' in html
    for other in PAGES:
        assert f'href="{other.path}?{DASHBOARD_QUERY.replace("&", "&amp;")}&amp;theme=dark"' in html
    assert html.count('aria-current="page"') == 1
    assert re.search(
        r'<a href="[^"]*"[^>]*\n?\s*aria-current="page">'
        + re.escape(
            page.title.replace("&", "&amp;")  # type: ignore[attr-defined]
        ),
        html,
    )
    # One ES module per page; it imports the shared module (no build step, no globals).
    assert f'<script type="module" src="/static/pages/{page.slug}.js"></script>' in html  # type: ignore[attr-defined]
    assert 'id="skeleton"' in html and 'class="spinner' not in html
    assert "Inter" not in html
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors" not in csp
    assert "<script>" not in html  # no inline script: the CSP would block it


@pytest.mark.parametrize("slug", ["audiences", "subscriptions", "ecommerce"])
async def test_pages_load_their_own_script(app_client: httpx.AsyncClient, slug: str) -> None:
    html = (await app_client.get(f"/app/{slug}?{DASHBOARD_QUERY}")).text
    assert f'<script type="module" src="/static/pages/{slug}.js"></script>' in html
    assert (await app_client.get(f"/static/pages/{slug}.js")).status_code == 200


async def test_the_subscriptions_page_knows_the_app_url(app_client: httpx.AsyncClient) -> None:
    html = (await app_client.get(f"/app/subscriptions?{DASHBOARD_QUERY}")).text
    assert f'data-app-url="{APP_URL}"' in html
    for key in ("subscribe", "audiences", "groups", "permissions"):
        assert f"<code>mailchimp.consent.{key}</code>" in html


async def test_the_customer_panel_is_the_manifest_extension(app_client: httpx.AsyncClient) -> None:
    manifest = (await app_client.get("/api/manifest")).json()
    [extension] = manifest["extensions"]
    assert extension["mount"] == "CUSTOMER_DETAILS_MORE_ACTIONS"
    response = await app_client.get(
        f"{extension['url']}?{DASHBOARD_QUERY}&customerId=VXNlcjox&theme=dark"
    )
    assert response.status_code == 200
    html = response.text
    assert '<html lang="en" data-theme="dark">' in html
    assert '<script type="module" src="/static/pages/customer-panel.js"></script>' in html
    assert "<script>" not in html and 'class="tabs"' not in html  # a pop-up: no page tabs
    assert "script-src 'self'" in response.headers["content-security-policy"]


async def test_an_unknown_page_is_a_plain_404(app_client: httpx.AsyncClient) -> None:
    response = await app_client.get("/app/nothing-here")
    assert response.status_code == 404 and "This page does not exist" in response.text
    assert (await app_client.get("/static/../addon/config.py")).status_code == 404


async def test_the_homepage_gives_the_manifest_url(app_client: httpx.AsyncClient) -> None:
    html = (await app_client.get("/")).text
    assert f'<code id="manifest-url">{APP_URL}/api/manifest</code>' in html


async def test_privacy_says_what_is_kept_and_that_uninstall_erases_it(
    app_client: httpx.AsyncClient,
) -> None:
    html = (await app_client.get("/privacy")).text
    assert "7 days" in html and "10 minutes" in html
    assert "Uninstalling the app in Saleor erases everything" in html


async def test_the_signup_pop_up_shows_the_steps_for_a_started_sign_in(
    app_client: httpx.AsyncClient, saleor: SaleorSandbox, installed_app: SandboxApp
) -> None:
    start = await app_client.get(
        "/api/connection/oauth/start",
        params={"flow": "signup"},
        headers={**dashboard_headers(saleor, installed_app), "accept": "application/json"},
    )
    state = parse_qs(urlsplit(start.json()["authorize_url"]).query)["state"][0]
    page = await app_client.get("/app/oauth/signup", params={"state": state})
    assert page.status_code == 200
    assert f'href="{MAILCHIMP_URL}/signup/"' in page.text
    assert start.json()["authorize_url"].replace("&", "&amp;") in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert (await app_client.get("/app/oauth/signup")).status_code == 404
    # The log-in window starts on the app's page (it hands the frame a handle on the window).
    go = await app_client.get("/app/oauth/go", params={"state": state})
    assert go.status_code == 200 and go.headers["referrer-policy"] == "no-referrer"
    assert start.json()["authorize_url"].replace("&", "&amp;") in go.text
    assert '<script src="/static/oauth-window.js"></script>' in go.text
    assert (await app_client.get("/app/oauth/go")).status_code == 404


async def test_static_files_are_served(app_client: httpx.AsyncClient) -> None:
    for path in (
        "/static/app.css",
        "/static/app.js",
        "/static/bridge.js",
        "/static/records.js",
        "/static/initial-sync.js",
        "/static/oauth-window.js",
        "/static/pages/connection.js",
        "/static/pages/activity.js",
    ):
        assert (await app_client.get(path)).status_code == 200, path


async def test_the_styles_name_no_font_they_do_not_ship(app_client: httpx.AsyncClient) -> None:
    css = (await app_client.get("/static/app.css")).text
    assert "Inter" not in css and "@font-face" not in css
    assert "system-ui" in css
    # Only the E-commerce spelling, on every page and in the styles.
    for path in [page.path for page in PAGES] + ["/static/pages/ecommerce.js"]:
        text = (await app_client.get(f"{path}?{DASHBOARD_QUERY}" if "/app" in path else path)).text
        assert not re.search(r"\bEcommerce\b", text), path


async def test_no_page_script_reaches_for_window_globals(app_client: httpx.AsyncClient) -> None:
    for name in ("connection", "audiences", "subscriptions", "ecommerce", "activity"):
        script = (await app_client.get(f"/static/pages/{name}.js")).text
        assert 'from "../app.js"' in script
        assert "window.appBridge" not in script and "window.dom" not in script
