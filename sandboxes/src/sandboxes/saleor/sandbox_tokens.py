"""The tokens of ``SaleorSandbox``: the dashboard's JWT for an app's iframe, a customer's
storefront access token, and who a bearer token (an app's auth token or a JWT) authenticates."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import jwt

from .ids import InvalidGlobalId, pk_from_global_id
from .models import Customer, SandboxApp, utcnow
from .permissions import DEFAULT_MANAGE_PERMISSIONS, Viewer
from .sandbox_base import SandboxBase

# How often a sign-in saves the user's `last_login` (and with it `updated_at`): Saleor's
# TOKEN_UPDATE_LAST_LOGIN_THRESHOLD, "5 seconds" by default (saleor/settings.py).
LAST_LOGIN_THRESHOLD = timedelta(seconds=5)


class SignInRefused(ValueError):
    """``tokenCreate`` would refuse the customer (its AccountError's message)."""


class SandboxTokens(SandboxBase):
    """The tokens a sandbox mints, and who a bearer token authenticates."""

    # -- tokens ------------------------------------------------------------------------------

    def _staff_user(self, email: str) -> Customer:
        user = self.store.find_customer_by_email(email)
        if user is None:
            user = self.store.create_customer(email, "Admin", "User", is_staff=True)
        return user

    def mint_dashboard_token(
        self,
        app: SandboxApp,
        user_permissions: Sequence[str] = DEFAULT_MANAGE_PERMISSIONS,
        email: str = "admin@example.com",
        expires_in: int = 300,
        is_staff: bool = True,
    ) -> str:
        """The JWT Saleor's dashboard passes to an app's iframe (``type: thirdparty``)."""
        user = self._staff_user(email)
        now = int(time.time())
        claims = {
            "iat": now,
            "owner": "saleor",
            "iss": self.api_url,
            "exp": now + expires_in,
            "token": user.jwt_token_key,
            "email": user.email,
            "type": "thirdparty",
            "user_id": user.global_id,
            "is_staff": is_staff,
            "app": app.global_id,
            "permissions": list(app.permissions),
            "user_permissions": list(user_permissions),
        }
        return self.keys.current.encode_jwt(claims)

    def mint_customer_token(
        self, customer: Customer, expires_in: int = 300, audience: str | None = None
    ) -> str:
        """A storefront access token (``type: access``) for ``customer``; with ``audience``,
        as ``tokenCreate(audience:)`` makes it: ``aud`` "custom:<audience>"
        (saleor/graphql/account/mutations/authentication/create_token.py). A customer
        ``tokenCreate`` refuses gets none (`StoreCustomers.sign_in_refusal`: by default, one
        who has not confirmed the address): ``SignInRefused``."""
        stored = self.store.customers.get(customer.id, customer)
        refusal = self.store.sign_in_refusal(stored)
        if refusal is not None:
            raise SignInRefused(refusal)
        _signed_in(stored)
        now = int(time.time())
        claims = {
            "iat": now,
            "owner": "saleor",
            "iss": self.api_url,
            "exp": now + expires_in,
            "token": customer.jwt_token_key,
            "email": customer.email,
            "type": "access",
            "user_id": customer.global_id,
            "is_staff": False,
            "permissions": [],
        }
        if audience:
            claims["aud"] = f"custom:{audience}"
        return self.keys.current.encode_jwt(claims)

    def _decode_jwt(self, token: str) -> dict[str, Any] | None:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return None
        keys = [k for k in (self.keys.current, self.keys.previous) if k is not None]
        key = next((k for k in keys if k.kid == kid), None)
        if key is None:
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.private_key.public_key(),
                algorithms=["RS256"],
                issuer=self.api_url,
                # Saleor never checks `aud` of its own tokens (core/jwt_manager.py `decode`).
                options={"require": ["exp", "iat"], "verify_aud": False},
            )
        except jwt.PyJWTError:
            return None
        return claims

    def viewer_for_token(self, token: str | None) -> Viewer:
        """Who a bearer token authenticates (anonymous if unknown, expired or inactive)."""
        if not token:
            return Viewer()
        for app in self.store.apps.values():
            if app.auth_token and secrets.compare_digest(app.auth_token, token):
                return Viewer.for_app(app) if app.is_active else Viewer()
        claims = self._decode_jwt(token) if token.count(".") == 2 else None
        if claims is None:
            return Viewer()
        try:
            user_pk = pk_from_global_id(str(claims.get("user_id", "")), "User")
        except InvalidGlobalId:
            return Viewer()
        user = self.store.customers.get(user_pk)
        if user is None or not user.is_active or user.jwt_token_key != claims.get("token"):
            return Viewer()
        if claims.get("type") == "thirdparty":
            try:
                app_pk = pk_from_global_id(str(claims.get("app", "")), "App")
            except InvalidGlobalId:
                return Viewer()
            token_app = self.store.apps.get(app_pk)
            # Saleor checks the user, not the app, of a `thirdparty` token: it works while the
            # app is deactivated (saleor/core/auth_backend.py, `load_user_from_request`).
            if token_app is None:
                return Viewer()
            granted = set(token_app.permissions) & set(claims.get("user_permissions") or [])
            return Viewer(user=user, is_staff=True, permissions=frozenset(granted))
        if claims.get("type") == "access":
            return Viewer(user=user, is_staff=user.is_staff)
        return Viewer()


def _signed_in(customer: Customer) -> None:
    """What a sign-in saves: `tokenCreate` (and `tokenRefresh`, the external plugins' token
    mutations) call `update_user_last_login_if_required`
    (saleor/graphql/account/mutations/authentication/utils.py, 3.20.119 as HEAD), which saves
    `last_login` and the user's auto-now `updated_at` once the last sign-in is older than the
    threshold: a shopper who only signs in moves `updatedAt`, and no webhook is sent."""
    now = utcnow()
    if customer.last_login is None or customer.last_login + LAST_LOGIN_THRESHOLD < now:
        customer.last_login = now
        customer.updated_at = utcnow()  # Django's `auto_now`, set as the row is saved
