"""The sandbox dashboard's pages and its token endpoint (which exists only in this sandbox).

It frames apps as Saleor's dashboard does (saleor-dashboard `AppIFrame`/`AppFrame`): the
iframe's URL is the app's `appUrl` plus `?domain=&saleorApiUrl=&id=&theme=`, its sandbox is
"allow-same-origin allow-forms allow-scripts", a handshake carrying a fresh dashboard token
follows every load of the frame, and the token is refreshed with `tokenRefresh` before it
expires.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from sandboxes.saleor import SaleorSandbox
from sandboxes.saleor.ids import InvalidGlobalId
from sandboxes.saleor.permissions import DEFAULT_MANAGE_PERMISSIONS

HERE = Path(__file__).resolve().parent
DASHBOARD_VERSION = "3.22.0-sandbox"
# Saleor's own sandbox attributes for app frames: no pop-ups, no top navigation. From dashboard
# 3.22.6 on, app frames may open pop-ups (saleor/saleor-dashboard#6002, AppIFrame.tsx
# `sandbox="allow-same-origin allow-forms allow-scripts allow-downloads allow-popups"`): the
# app page's `frame_popups=1` frames the app so.
IFRAME_SANDBOX = "allow-same-origin allow-forms allow-scripts"
IFRAME_SANDBOX_WITH_POPUPS = IFRAME_SANDBOX + " allow-downloads allow-popups"
MIN_TOKEN_LIFETIME = 2
MAX_TOKEN_LIFETIME = 3600


class TokenRequest(BaseModel):
    app_id: str = Field(min_length=1, max_length=100)
    lifetime: int = Field(default=300, ge=MIN_TOKEN_LIFETIME, le=MAX_TOKEN_LIFETIME)
    permissions: list[str] | None = None


def dashboard_app(saleor: SaleorSandbox, app_url: str, *, token_lifetime: int = 300) -> Starlette:
    """The sandbox dashboard for `saleor`; `app_url` is where "Install" fetches the manifest."""
    templates = Jinja2Templates(directory=HERE / "templates")
    manifest_url = app_url.rstrip("/") + "/api/manifest"

    def base(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    def theme_of(request: Request) -> str:
        return "dark" if request.query_params.get("theme") == "dark" else "light"

    async def home(request: Request) -> Response:
        return templates.TemplateResponse(
            request,
            "apps.html",
            {
                "base": base(request),
                "apps": list(saleor.store.apps.values()),
                "manifest_url": manifest_url,
                "theme": theme_of(request),
                "error": request.query_params.get("error"),
            },
        )

    async def install(request: Request) -> Response:
        try:
            await saleor.install_app(manifest_url)
        except Exception as exc:  # shown to the person trying the sandbox
            return RedirectResponse(f"{base(request)}/?error={quote(str(exc))}", status_code=303)
        return RedirectResponse(f"{base(request)}/", status_code=303)

    async def app_page(request: Request) -> Response:
        try:
            app = saleor.get_app(request.path_params["app_id"])
        except (KeyError, InvalidGlobalId, ValueError):
            return HTMLResponse("No such app is installed.", status_code=404)
        lifetime = request.query_params.get("token_lifetime", "")
        config: dict[str, Any] = {
            "appId": app.global_id,
            "appUrl": app.app_url or "",
            "appName": app.name,
            "saleorApiUrl": saleor.api_url,
            "domain": saleor.domain,
            "tokenUrl": f"{base(request)}/api/token",
            "tokenLifetime": int(lifetime) if lifetime.isdigit() else token_lifetime,
            "saleorVersion": saleor.version,
            "dashboardVersion": DASHBOARD_VERSION,
        }
        return templates.TemplateResponse(
            request,
            "app.html",
            {
                "base": base(request),
                "app": app,
                "config": config,
                "sandbox_attrs": IFRAME_SANDBOX_WITH_POPUPS
                if request.query_params.get("frame_popups") == "1"
                else IFRAME_SANDBOX,
                "theme": theme_of(request),
            },
        )

    def extensions(mount: str) -> list[tuple[Any, int, dict[str, Any]]]:
        """(app, index, extension) of every installed app's extensions at `mount`."""
        found = []
        for app in saleor.store.apps.values():
            declared = app.manifest.get("extensions")
            for index, extension in enumerate(declared if isinstance(declared, list) else []):
                if isinstance(extension, dict) and extension.get("mount") == mount:
                    found.append((app, index, extension))
        return found

    async def customers(request: Request) -> Response:
        return templates.TemplateResponse(
            request,
            "customers.html",
            {
                "base": base(request),
                "customers": [c for c in saleor.store.customers.values() if not c.is_staff],
                "theme": theme_of(request),
            },
        )

    async def add_customer(request: Request) -> Response:
        """Create a customer as the dashboard's "Create customer" does (CUSTOMER_CREATED)."""
        form = await request.form()
        email = str(form.get("email", "")).strip().lower()
        if "@" not in email or saleor.store.find_customer_by_email(email) is not None:
            error = quote("Give a new e-mail address.")
            return RedirectResponse(f"{base(request)}/customers?error={error}", status_code=303)
        await saleor.create_customer(
            email, str(form.get("first_name", "")).strip(), str(form.get("last_name", "")).strip()
        )
        return RedirectResponse(f"{base(request)}/customers", status_code=303)

    async def customer_page(request: Request) -> Response:
        """A customer's details with "More actions" (CUSTOMER_DETAILS_MORE_ACTIONS extensions).

        Choosing an extension opens it like Saleor's POPUP target: a dialog framing the
        extension's URL with the dashboard query plus `customerId`, and the same app-bridge.
        """
        try:
            customer = saleor.store.get_customer(int(request.path_params["pk"]))
        except (KeyError, ValueError):
            return HTMLResponse("No such customer.", status_code=404)
        mounted = extensions("CUSTOMER_DETAILS_MORE_ACTIONS")
        opened: dict[str, Any] | None = None
        chosen = request.query_params.get("extension", "")
        for app, index, extension in mounted:
            if chosen == f"{app.id}-{index}":
                url = str(extension.get("url", ""))
                separator = "&" if "?" in url else "?"
                opened = {
                    "label": str(extension.get("label", "")),
                    "config": {
                        "appId": app.global_id,
                        "appUrl": f"{url}{separator}customerId={quote(customer.global_id)}",
                        "appName": app.name,
                        "saleorApiUrl": saleor.api_url,
                        "domain": saleor.domain,
                        "tokenUrl": f"{base(request)}/api/token",
                        "tokenLifetime": token_lifetime,
                        "saleorVersion": saleor.version,
                        "dashboardVersion": DASHBOARD_VERSION,
                    },
                }
        return templates.TemplateResponse(
            request,
            "customer.html",
            {
                "base": base(request),
                "customer": customer,
                "actions": [
                    {"key": f"{app.id}-{index}", "label": str(extension.get("label", app.name))}
                    for app, index, extension in mounted
                ],
                "opened": opened,
                "sandbox_attrs": IFRAME_SANDBOX,
                "theme": theme_of(request),
            },
        )

    async def token(request: Request) -> Response:
        """Mint a dashboard token for an installed app (what Saleor's `appToken` gives)."""
        try:
            body = TokenRequest.model_validate(await request.json())
            app = saleor.get_app(body.app_id)
        except (ValueError, ValidationError, KeyError, InvalidGlobalId):
            return JSONResponse({"error": "unknown app or invalid request"}, status_code=400)
        permissions = (
            body.permissions if body.permissions is not None else DEFAULT_MANAGE_PERMISSIONS
        )
        minted = saleor.mint_dashboard_token(
            app, user_permissions=permissions, expires_in=body.lifetime
        )
        return JSONResponse({"token": minted, "expires_in": body.lifetime})

    return Starlette(
        routes=[
            Route("/", home),
            Route("/install", install, methods=["POST"]),
            Route("/apps/{app_id}", app_page),
            Route("/customers", customers),
            Route("/customers", add_customer, methods=["POST"]),
            Route("/customers/{pk:int}", customer_page),
            Route("/api/token", token, methods=["POST"]),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]
    )
