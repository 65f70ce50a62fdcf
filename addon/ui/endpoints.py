"""Page routes: the dashboard pages under `/app/` (the manifest's appUrl), the public home,
privacy and support pages, the sign-up steps of the OAuth pop-up, and `/static`.

The pages carry no secrets: the dashboard hands each page its token through app-bridge
(postMessage), and the pages' JavaScript sends it in headers to `/api/...`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from addon.connection.cookies import leave_for_callback
from addon.connection.oauth_flow import POPUP_THEME_COOKIE, SIGNUP_STATE_TTL
from addon.connection.service import CALLBACK_PATH
from addon.dependencies import ServicesDep
from addon.paths import SETTINGS_UI_DIR
from addon.templating import templates

router = APIRouter()
router.mount("/static", StaticFiles(directory=SETTINGS_UI_DIR / "static"), name="static")

# Only our own files run on our pages; the pages must be embeddable by any Saleor dashboard.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    path: str


PAGES = (
    Page("connection", "Connection", "/app/"),
    Page("audiences", "Audiences & groups", "/app/audiences"),
    Page("subscriptions", "Subscriptions", "/app/subscriptions"),
    Page("ecommerce", "E-commerce", "/app/ecommerce"),
    Page("reports", "Reports", "/app/reports"),
    Page("activity", "Activity", "/app/activity"),
)
PAGES_BY_SLUG = {page.slug: page for page in PAGES}
# Pages the dashboard opens from its own screens (manifest `extensions`), not from the tabs.
CUSTOMER_PANEL = Page("customer-panel", "Newsletter", "/app/customer-panel")


def _render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers.update(PAGE_HEADERS)
    return response


def _theme(request: Request) -> str:
    """The dashboard's theme from the query (light unless it says dark)."""
    theme = request.query_params.get("theme")
    return theme if theme in ("light", "dark") else "light"


def _popup_page(request: Request, template: str, context: dict[str, Any]) -> HTMLResponse:
    """A page of the OAuth pop-up: it hands the dashboard's theme on to the callback's page,
    which Mailchimp opens on a fixed URL (so the theme cannot follow in the query)."""
    response = _render(request, template, context)
    response.headers["Referrer-Policy"] = "no-referrer"
    # As long as the longest log-in (a sign-up's): nothing secret in it.
    leave_for_callback(request, response, POPUP_THEME_COOKIE, context["theme"], SIGNUP_STATE_TTL)
    return response


def _app_page(request: Request, slug: str, app_url: str = "") -> HTMLResponse:
    page = PAGES_BY_SLUG[slug]
    return _render(
        request,
        f"pages/{slug}.html",
        {
            "page": page,
            "pages": PAGES,
            # The dashboard's query (saleorApiUrl, id, theme) follows every link between pages.
            "query": request.url.query,
            "theme": _theme(request),
            # Where storefronts reach this app (the Subscriptions page's examples).
            "app_url": app_url,
        },
    )


@router.get("/app", include_in_schema=False)
async def app_root(request: Request) -> RedirectResponse:
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/app/{query}", status_code=308)


@router.get("/app/", response_class=HTMLResponse, include_in_schema=False)
async def connection_page(request: Request) -> HTMLResponse:
    return _app_page(request, "connection")


@router.get("/app/customer-panel", response_class=HTMLResponse, include_in_schema=False)
async def customer_panel(request: Request) -> HTMLResponse:
    """The customer details extension: Saleor adds `customerId` to the dashboard's query."""
    return _render(
        request,
        "pages/customer-panel.html",
        {
            "page": CUSTOMER_PANEL,
            "query": request.url.query,
            "theme": _theme(request),
        },
    )


@router.get("/app/{slug}", response_class=HTMLResponse, include_in_schema=False)
async def app_page(request: Request, slug: str, services: ServicesDep) -> HTMLResponse:
    if slug not in PAGES_BY_SLUG or slug == "connection":
        return _render(request, "public/not_found.html", {}, status_code=404)
    return _app_page(request, slug, services.settings.app_url)


@router.get("/app/oauth/signup", response_class=HTMLResponse, include_in_schema=False)
async def signup_steps(
    request: Request, services: ServicesDep, state: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse:
    """The sign-up pop-up: create an account at Mailchimp, then authorise it.

    A pop-up cannot send the dashboard token, so the page that opens it passes only the OAuth
    `state` it obtained through the API; the state is single-use and checked at the callback.
    """
    settings = services.settings
    if not state or not settings.oauth_configured or settings.mailchimp_client_id is None:
        return _render(request, "public/not_found.html", {}, status_code=404)
    authorize_url = services.oauth.authorize_url(
        settings.mailchimp_client_id, settings.app_url + CALLBACK_PATH, state
    )
    return _popup_page(
        request,
        "oauth/signup.html",
        {
            "signup_url": settings.mailchimp_signup_url,
            "authorize_url": authorize_url,
            "state": state,
            "theme": _theme(request),
        },
    )


@router.get("/app/oauth/go", response_class=HTMLResponse, include_in_schema=False)
async def login_window(
    request: Request, services: ServicesDep, state: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse:
    """The log-in pop-up's first page: it tells the app's frame about its window (so the frame
    notices it closing, though the dashboard opened it), then goes on to Mailchimp."""
    settings = services.settings
    if not state or not settings.oauth_configured or settings.mailchimp_client_id is None:
        return _render(request, "public/not_found.html", {}, status_code=404)
    authorize_url = services.oauth.authorize_url(
        settings.mailchimp_client_id, settings.app_url + CALLBACK_PATH, state
    )
    context = {"authorize_url": authorize_url, "state": state, "theme": _theme(request)}
    return _popup_page(request, "oauth/go.html", context)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request, services: ServicesDep) -> HTMLResponse:
    app_url = services.settings.app_url
    return _render(
        request,
        "public/home.html",
        {
            "manifest_url": f"{app_url}/api/manifest",
            # Set by a development stack that mounts a stand-in dashboard (the sandboxes
            # package); the app itself knows nothing of sandboxes.
            "sandbox_dashboard_url": getattr(request.app.state, "sandbox_dashboard_url", None),
        },
    )


@router.get("/privacy", response_class=HTMLResponse, include_in_schema=False)
async def privacy(request: Request) -> HTMLResponse:
    return _render(request, "public/privacy.html", {})


@router.get("/support", response_class=HTMLResponse, include_in_schema=False)
async def support(request: Request) -> HTMLResponse:
    return _render(request, "public/support.html", {})
