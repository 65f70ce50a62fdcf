"""A stand-in for the Saleor dashboard: lists the Saleor sandbox's apps and opens one in an
iframe, speaking app-bridge to it (handshake, tokenRefresh, theme, responses, toasts).

    dashboard_app(saleor, app_url)  ->  an ASGI app (mounted at /sandbox/dashboard)
"""

from .app import dashboard_app

__all__ = ["dashboard_app"]
