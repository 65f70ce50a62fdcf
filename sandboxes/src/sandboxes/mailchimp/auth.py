"""Authentication of Marketing API requests: HTTP Basic with an API key, or an OAuth token.

Mailchimp accepts any username with the API key as the Basic password, and OAuth access tokens
as ``Authorization: Bearer <token>`` (or the older ``OAuth <token>``). The key's suffix names
its datacenter; using it against another datacenter is an "API Key Invalid" 401.
"""

from __future__ import annotations

import base64
import binascii
import re

from .errors import api_key_invalid, api_key_missing, user_disabled
from .state import AccountData, SandboxState

API_KEY_RE = re.compile(r"^[0-9a-f]{32}-([a-z]+[0-9]+)$")


def _basic_password(credentials: str) -> str | None:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    _, sep, password = decoded.partition(":")
    return password if sep else None


def authenticate(state: SandboxState, authorization: str | None, dc: str) -> AccountData:
    """Resolve the account of a request to datacenter ``dc`` or raise a 401 MailchimpError."""
    if not authorization:
        raise api_key_missing()
    scheme, _, credentials = authorization.strip().partition(" ")
    scheme = scheme.lower()
    credentials = credentials.strip()
    with state.lock:
        if scheme == "basic":
            key = _basic_password(credentials)
            if not key:
                raise api_key_missing()
            match = API_KEY_RE.match(key)
            account_id = state.api_keys.get(key)
            if match is None or match.group(1) != dc or account_id is None or key in state.revoked:
                raise api_key_invalid()
        elif scheme in ("bearer", "oauth"):
            account_id = state.tokens.get(credentials)
            if account_id is None or credentials in state.revoked:
                raise api_key_invalid()
        else:
            raise api_key_missing()
        data = state.accounts.get(account_id)
        if data is None or data.account.dc != dc:
            raise api_key_invalid()
        if account_id in state.disabled:
            raise user_disabled()  # the credentials are good; the account refuses everything
        return data
