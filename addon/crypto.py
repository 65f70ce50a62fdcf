"""Encryption of secrets at rest (Saleor app tokens, Mailchimp keys and OAuth tokens)."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import SecretStr


class SecretDecryptionError(Exception):
    """A stored secret cannot be decrypted: SECRET_KEY changed or the value was tampered with."""


class SecretBox:
    """Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from SECRET_KEY by HKDF.

    Deriving lets SECRET_KEY be any high-entropy string rather than a Fernet-formatted key.
    """

    def __init__(self, secret_key: str) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"addon secrets at rest v1"
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def encrypt(self, secret: SecretStr) -> str:
        return self._fernet.encrypt(secret.get_secret_value().encode()).decode("ascii")

    def decrypt(self, token: str) -> SecretStr:
        try:
            return SecretStr(self._fernet.decrypt(token.encode("ascii")).decode())
        except InvalidToken as exc:
            raise SecretDecryptionError(
                "A stored secret could not be decrypted; was SECRET_KEY changed?"
            ) from exc
