"""Mailchimp credentials: API keys and OAuth access tokens.

Secrets are held in :class:`pydantic.SecretStr`, so ``repr()``, ``str()`` and f-strings of
these objects never show them. Only :meth:`MailchimpCredentials.authorization` reveals a
secret, as the value of the ``Authorization`` header.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import SecretStr

from .errors import InvalidApiKeyFormat

__all__ = ["ApiKey", "MailchimpCredentials", "validate_dc"]

_HEX32 = re.compile(r"[0-9a-f]{32}")
_DC = re.compile(r"[a-z]{2,}[0-9]{1,3}")


def validate_dc(dc: str) -> str:
    """Check a data centre name such as ``us21`` (it becomes part of a host name)."""
    if not _DC.fullmatch(dc):
        raise ValueError(f"{dc!r} is not a Mailchimp data centre (expected something like 'us21')")
    return dc


@dataclass(frozen=True)
class ApiKey:
    """A parsed Mailchimp API key: ``<32 lowercase hex>-<data centre>``."""

    secret: SecretStr
    dc: str

    @classmethod
    def parse(cls, text: str) -> ApiKey:
        """Parse a pasted key, stripping surrounding whitespace.

        Raises :class:`InvalidApiKeyFormat` naming what is wrong (never echoing the key).
        """
        key = text.strip()
        if not key:
            raise InvalidApiKeyFormat("The API key is empty.")
        if any(c.isspace() for c in key):
            raise InvalidApiKeyFormat("The API key must not contain spaces or line breaks.")
        if "-" not in key:
            raise InvalidApiKeyFormat(
                "The API key has no data centre suffix; it should end in '-' and a data centre "
                "such as '-us21'."
            )
        secret, _, dc = key.rpartition("-")
        if not _HEX32.fullmatch(secret):
            if len(secret) != 32:
                raise InvalidApiKeyFormat(
                    f"The part before the '-' should be 32 characters long, not {len(secret)}."
                )
            if secret.lower() != secret and _HEX32.fullmatch(secret.lower()):
                raise InvalidApiKeyFormat("The part before the '-' must be lowercase.")
            raise InvalidApiKeyFormat(
                "The part before the '-' may only contain the hexadecimal characters 0-9 and a-f."
            )
        if not _DC.fullmatch(dc):
            raise InvalidApiKeyFormat(
                "The data centre after the '-' should be letters followed by digits, such as "
                "'us21'."
            )
        return cls(secret=SecretStr(key), dc=dc)

    def __str__(self) -> str:
        return f"**********-{self.dc}"


@dataclass(frozen=True)
class MailchimpCredentials:
    """What a :class:`~addon.mailchimp.client.MailchimpClient` authenticates with.

    ``account_id`` (Mailchimp's account id, when known) makes :attr:`account_key` identify the
    account rather than the secret, so an API key and an OAuth token of the same account share
    one concurrency budget.
    """

    kind: Literal["api_key", "oauth"]
    secret: SecretStr
    dc: str
    account_id: str | None = field(default=None)

    def __post_init__(self) -> None:
        validate_dc(self.dc)

    @classmethod
    def from_api_key(
        cls, key: str | ApiKey, *, account_id: str | None = None
    ) -> MailchimpCredentials:
        parsed = key if isinstance(key, ApiKey) else ApiKey.parse(key)
        return cls(kind="api_key", secret=parsed.secret, dc=parsed.dc, account_id=account_id)

    @classmethod
    def from_oauth_token(
        cls, access_token: str | SecretStr, dc: str, *, account_id: str | None = None
    ) -> MailchimpCredentials:
        token = access_token if isinstance(access_token, SecretStr) else SecretStr(access_token)
        if not token.get_secret_value().strip():
            raise ValueError("The OAuth access token is empty.")
        return cls(kind="oauth", secret=token, dc=dc, account_id=account_id)

    @property
    def account_key(self) -> str:
        """A stable, non-secret key for this account (per-account concurrency registry)."""
        if self.account_id:
            return f"{self.dc}:account:{self.account_id}"
        digest = hashlib.sha256(self.secret.get_secret_value().encode()).hexdigest()[:24]
        return f"{self.dc}:{self.kind}:{digest}"

    @property
    def authorization(self) -> str:
        """The ``Authorization`` header value for the Marketing API."""
        secret = self.secret.get_secret_value()
        if self.kind == "oauth":
            return f"Bearer {secret}"
        basic = base64.b64encode(f"anystring:{secret}".encode()).decode("ascii")
        return f"Basic {basic}"
