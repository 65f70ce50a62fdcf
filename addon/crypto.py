"""Encryption of secrets at rest (Saleor app tokens, Mailchimp keys and OAuth tokens)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from enum import StrEnum

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr


class SecretDecryptionError(Exception):
    """A stored secret cannot be decrypted: SECRET_KEY changed or the value was tampered with."""


class KeyFit(StrEnum):
    """Which of the box's keys decrypts a stored value."""

    CURRENT = "current"  # SECRET_KEY
    PREVIOUS = "previous"  # one of SECRET_KEY_PREVIOUS: `addon rotate-secrets` re-encrypts it
    NONE = "none"


def _fernet(secret_key: str) -> Fernet:
    # Deriving lets SECRET_KEY be any high-entropy string rather than a Fernet-formatted key.
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"addon secrets at rest v1"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


class SecretBox:
    """Fernet (AES-128-CBC + HMAC-SHA256) with keys derived from SECRET_KEY by HKDF.

    Writes use `secret_key`; reads also accept the `previous_keys` (SECRET_KEY_PREVIOUS), so
    the app keeps working while `addon rotate-secrets` re-encrypts under the new key.
    """

    def __init__(self, secret_key: str, previous_keys: Sequence[str] = ()) -> None:
        self._current = _fernet(secret_key)
        self._fernet = MultiFernet([self._current, *(_fernet(key) for key in previous_keys)])

    def encrypt(self, secret: SecretStr) -> str:
        return self._fernet.encrypt(secret.get_secret_value().encode()).decode("ascii")

    def decrypt(self, token: str) -> SecretStr:
        try:
            return SecretStr(self._fernet.decrypt(token.encode()).decode())
        except InvalidToken as exc:
            raise SecretDecryptionError(
                "A stored secret could not be decrypted; was SECRET_KEY changed?"
            ) from exc

    def fit(self, token: str) -> KeyFit:
        """Which key decrypts `token` (nothing decrypted is returned)."""
        for fernet, fit in ((self._current, KeyFit.CURRENT), (self._fernet, KeyFit.PREVIOUS)):
            try:
                fernet.decrypt(token.encode())
            except InvalidToken:
                continue
            return fit
        return KeyFit.NONE

    def rotate(self, token: str) -> str:
        """`token` encrypted again under SECRET_KEY (its timestamp kept)."""
        try:
            return self._fernet.rotate(token.encode()).decode("ascii")
        except InvalidToken as exc:
            raise SecretDecryptionError(
                "A stored secret could not be decrypted with SECRET_KEY nor SECRET_KEY_PREVIOUS"
            ) from exc
