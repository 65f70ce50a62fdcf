"""Pydantic models for what Saleor sends and serves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Jwk(BaseModel):
    model_config = ConfigDict(extra="allow")

    kty: str
    kid: str | None = None
    use: str | None = None
    alg: str | None = None


class Jwks(BaseModel):
    keys: list[Jwk]

    def as_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)

    @property
    def key_ids(self) -> list[str]:
        return [key.kid for key in self.keys if key.kid]


class RegisterPayload(BaseModel):
    # Saleor's app tokens are short ASCII strings; the app sends this one back to Saleor in an
    # HTTP header, where anything but visible ASCII cannot go.
    auth_token: str = Field(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")


class AppRef(BaseModel):
    id: str
    is_active: bool | None = Field(default=None, alias="isActive")


class AppLifecycleEvent(BaseModel):
    """Body of APP_STATUS_CHANGED and APP_DELETED as selected by our subscription documents."""

    issued_at: datetime | None = Field(default=None, alias="issuedAt")
    app: AppRef | None = None


class SignedInCustomer(BaseModel):
    """A storefront customer's access token, checked: their address (lower-cased) and, as
    Saleor puts it in every access token (saleor/core/jwt.py `jwt_user_payload`), their id."""

    model_config = ConfigDict(frozen=True)

    email: str
    user_id: str | None = None


class DashboardTokenClaims(BaseModel):
    """The claims of the token the Saleor dashboard hands the app's pages."""

    model_config = ConfigDict(extra="ignore")

    iss: str
    exp: int
    app: str
    type: str | None = None
    email: str | None = None
    user_id: str | None = None
    is_staff: bool | None = None
    user_permissions: list[str] = Field(default_factory=list)


class EventUser(BaseModel):
    """The user an account or customer webhook names (`user { id email }`)."""

    model_config = ConfigDict(extra="ignore")
    id: str
    email: str | None = None


class UserEventBody(BaseModel):
    """The body of a webhook about one user (its subscription selects `user { id email }`)."""

    model_config = ConfigDict(extra="ignore")
    user: EventUser | None = None
