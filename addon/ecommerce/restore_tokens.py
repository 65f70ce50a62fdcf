"""Cart restore links: what a cart's `checkout_url` carries instead of the bare checkout token.

The checkout URL template's `{restore}` placeholder becomes an opaque Fernet token (AES-CBC +
HMAC-SHA256, with the time it was made) under the installation's own random key, stored
encrypted (`CartRestoreKey`). A link from one store is worthless at another, a changed
character is refused, and a link older than `CART_RESTORE_LINK_HOURS` is refused as expired.
The storefront exchanges a link for a new checkout holding the cart (`restore.py`).
"""

from __future__ import annotations

import base64
import json
import secrets
import struct
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, hmac, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from pydantic import SecretStr
from sqlalchemy.exc import IntegrityError

from addon.db.types import utcnow
from addon.ecommerce.cart_models import CartRestoreKey
from addon.ecommerce.checkout_schemas import SaleorCheckout
from addon.errors import BadRequest, ErrorCode
from addon.services import Services

PLACEHOLDER = "{restore}"
TIME_STEP = 3600  # a link's time is its hour's start (see make_link_token)
FERNET_VERSION = b"\x80"


@dataclass(frozen=True)
class RestoredCart:
    checkout_id: str
    checkout_token: str
    channel: str


def _fernet(key: SecretStr) -> Fernet:
    return Fernet(key.get_secret_value().encode("ascii"))


async def key_for(services: Services, installation_id: int) -> SecretStr:
    """The installation's key, made on first use (two processes racing: the first one wins)."""
    async with services.db.session() as session:
        row = await session.get(CartRestoreKey, installation_id)
        if row is not None:
            return row.key
    made = SecretStr(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii"))
    try:
        async with services.db.transaction() as session:
            session.add(CartRestoreKey(installation_id=installation_id, key=made))
    except IntegrityError:
        async with services.db.session() as session:
            row = await session.get(CartRestoreKey, installation_id)
            assert row is not None
            return row.key
    return made


def make_link_token(key: SecretStr, checkout_id: str, checkout_token: str, channel: str) -> str:
    """The opaque `{restore}` value of one checkout: a Fernet token (what `Fernet.decrypt`
    reads) whose time is this hour's start and whose IV is derived from the key and content, so
    pushing an unchanged cart again within the hour sends the same `checkout_url` (its ledger
    fingerprint is unchanged, nothing is sent). A link thus lasts between the lifetime less an
    hour and the lifetime: never longer."""
    data = json.dumps({"i": checkout_id, "t": checkout_token, "c": channel}, separators=(",", ":"))
    raw = base64.urlsafe_b64decode(key.get_secret_value())
    signing, encryption = raw[:16], raw[16:]  # Fernet's split of its 32-byte key
    stamp = struct.pack(">Q", int(utcnow().timestamp()) // TIME_STEP * TIME_STEP)
    iv = _mac(_mac(signing, b"cart restore link iv"), stamp + data.encode())[:16]
    padder = padding.PKCS7(algorithms.AES.block_size).padder()
    padded = padder.update(data.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(encryption), modes.CBC(iv)).encryptor()
    body = FERNET_VERSION + stamp + iv + encryptor.update(padded) + encryptor.finalize()
    return base64.urlsafe_b64encode(body + _mac(signing, body)).decode("ascii")


def _mac(key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(data)
    return mac.finalize()


def read_link_token(key: SecretStr, token: str, lifetime_seconds: float) -> RestoredCart:
    """The checkout a link names; refuses a changed or foreign link, then an expired one."""
    fernet = _fernet(key)
    now = int(utcnow().timestamp())
    try:
        data = fernet.decrypt(token.encode("ascii"))  # its age is checked below, by our clock
    except (InvalidToken, UnicodeEncodeError, ValueError):
        raise BadRequest(
            "This cart link is not valid: it was changed or belongs to another store. Open the "
            "link from the e-mail again.",
            code=ErrorCode.RESTORE_LINK_INVALID,
        ) from None
    made = fernet.extract_timestamp(token.encode("ascii"))
    if now - made > lifetime_seconds:
        raise BadRequest(
            "This cart link has expired. Add the products to the cart again.",
            code=ErrorCode.RESTORE_LINK_EXPIRED,
        )
    claims = json.loads(data)
    return RestoredCart(checkout_id=claims["i"], checkout_token=claims["t"], channel=claims["c"])


def restore_value(template: str | None, key: SecretStr | None, checkout: SaleorCheckout) -> str:
    """The `{restore}` of a checkout URL: made only when the template asks for one."""
    if not template or PLACEHOLDER not in template or key is None:
        return ""
    return make_link_token(key, checkout.id, checkout.token, checkout.channel.slug)
