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

from addon.sandbox.saleor import SaleorSandbox
from addon.sandbox.saleor.ids import InvalidGlobalId
from addon.sandbox.saleor.sandbox import DEFAULT_MANAGE_PERMISSIONS, SALEOR_VERSION

HERE = Path(__file__).resolve().parent
DASHBOARD_VERSION = "3.21.0-sandbox"
# Saleor's own sandbox attributes for app frames: no pop-ups, no top navigation.
IFRAME_SANDBOX = "allow-same-origin allow-forms allow-scripts"
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
            "saleorVersion": SALEOR_VERSION,
            "dashboardVersion": DASHBOARD_VERSION,
        }
        return templates.TemplateResponse(
            request,
            "app.html",
            {
                "base": base(request),
                "app": app,
                "config": config,
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
            Route("/api/token", token, methods=["POST"]),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]
    )
