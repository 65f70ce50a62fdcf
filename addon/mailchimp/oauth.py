"""Mailchimp's OAuth 2 protocol (authorization code flow); no storage here.

1. Send the merchant to :meth:`MailchimpOAuth.authorize_url`.
2. Mailchimp redirects back with ``code``; :meth:`~MailchimpOAuth.exchange_code` turns it into
   a non-expiring access token.
3. :meth:`~MailchimpOAuth.metadata` tells which data centre (``dc``) the token belongs to, so
   :meth:`OAuthMetadata.credentials` can build :class:`MailchimpCredentials`.
"""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from .credentials import MailchimpCredentials, validate_dc
from .error_responses import oauth_error_from_response
from .errors import OAuthError, TransientError
from .http import MailchimpHttp

__all__ = [
    "DEFAULT_SIGNUP_URL",
    "MailchimpOAuth",
    "OAuthLogin",
    "OAuthMetadata",
    "OAuthToken",
]

DEFAULT_SIGNUP_URL = "https://login.mailchimp.com/signup/"

T = TypeVar("T", bound=BaseModel)


class OAuthToken(BaseModel):
    """The token endpoint's answer; Mailchimp tokens do not expire (``expires_in`` 0)."""

    model_config = ConfigDict(extra="allow")

    access_token: SecretStr
    token_type: str = "bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int | None = None
    scope: str | None = None


class OAuthLogin(BaseModel):
    model_config = ConfigDict(extra="allow")

    email: str = ""
    login_email: str = ""
    login_id: int | str | None = None
    login_name: str = ""
    avatar: str | None = None


class OAuthMetadata(BaseModel):
    """``GET /oauth2/metadata``: where the account lives and who authorised the app."""

    model_config = ConfigDict(extra="allow")

    dc: str
    api_endpoint: str = ""
    login_url: str = ""
    role: str = ""
    accountname: str = ""
    user_id: int | str | None = None
    login: OAuthLogin = Field(default_factory=OAuthLogin)

    @field_validator("dc")
    @classmethod
    def dc_is_a_data_centre(cls, dc: str) -> str:
        """The API host is built from it (`https://{dc}.api.mailchimp.com`): anything else is
        an answer not understood (`OAuthError`), never a host name, nor a 500 later on."""
        return validate_dc(dc)

    def credentials(self, access_token: str | SecretStr) -> MailchimpCredentials:
        """Credentials for the Marketing API with this token (``user_id`` as account id)."""
        account_id = str(self.user_id) if self.user_id is not None else None
        return MailchimpCredentials.from_oauth_token(access_token, self.dc, account_id=account_id)


class MailchimpOAuth:
    """The OAuth endpoints on the login host, using the process's :class:`MailchimpHttp`."""

    def __init__(self, http: MailchimpHttp, *, signup_url: str = DEFAULT_SIGNUP_URL) -> None:
        self.http = http
        self.signup_url = signup_url

    @property
    def login_url(self) -> str:
        return self.http.login_url

    def authorize_url(self, client_id: str, redirect_uri: str, state: str) -> str:
        """Where to send the merchant to grant the app access."""
        query = urlencode(
            {
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "state": state,
            }
        )
        return f"{self.login_url}/oauth2/authorize?{query}"

    async def exchange_code(
        self, client_id: str, client_secret: str | SecretStr, redirect_uri: str, code: str
    ) -> OAuthToken:
        """Trade the authorization ``code`` for an access token (``OAuthError`` on refusal,
        e.g. ``invalid_grant`` for a replayed code or ``invalid_client`` for a bad secret)."""
        secret = (
            client_secret.get_secret_value()
            if isinstance(client_secret, SecretStr)
            else client_secret
        )
        response = await self.http.request(
            "POST",
            f"{self.login_url}/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "client_id": client_id,
                "client_secret": secret,
                "redirect_uri": redirect_uri,
                "code": code,
            },
            error_mapper=oauth_error_from_response,
            # A code is redeemed once (RFC 6749 §4.1.2): sent again after Mailchimp may have
            # taken it, it only earns `invalid_grant` after a minute of backoff.
            idempotent=False,
        )
        return self._parse(OAuthToken, response, "/oauth2/token")

    async def metadata(self, access_token: str | SecretStr) -> OAuthMetadata:
        """Who and where the token belongs to (``InvalidCredentials`` if it was revoked)."""
        token = (
            access_token.get_secret_value() if isinstance(access_token, SecretStr) else access_token
        )
        response = await self.http.request(
            "GET",
            f"{self.login_url}/oauth2/metadata",
            headers={"Authorization": f"OAuth {token}"},
        )
        return self._parse(OAuthMetadata, response, "/oauth2/metadata")

    @staticmethod
    def _parse(model: type[T], response: httpx.Response, path: str) -> T:
        try:
            data: Any = response.json()
        except ValueError as exc:
            # A 200 that is no JSON (a proxy's or a maintenance page): Mailchimp is not
            # answering as it does, as the Marketing API client says of such a body
            # (`client_base.request`); before, the JSON error escaped as a 500.
            raise TransientError(
                "Mailchimp answered with a body that is not JSON.",
                status=response.status_code,
                method=response.request.method,
                path=path,
            ) from exc
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            # Not "OAuth answer": `redact` takes "OAuth <word>" for a credential and cuts it.
            raise OAuthError(
                f"Mailchimp's answer to the sign-in was not understood "
                f"({exc.error_count()} problems).",
                path=path,
            ) from exc
