"""RSA signing keys, the JWKS document and JWS/JWT signing, as Saleor does them.

Saleor signs webhook payloads and the JWTs it hands to apps with one RSA key. Its public half is
published at ``<origin>/.well-known/jwks.json``; each key carries a ``kid`` so that verifiers can
pick the right key after a rotation.

Webhook signatures are *detached JWS with an unencoded payload* (RFC 7797): the protected header
is ``{"alg": "RS256", "kid": ..., "b64": false, "crit": ["b64"]}`` and the signature covers
``b64url(header) + "." + raw_body``; the value sent is ``<b64url(header)>..<b64url(signature)>``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def b64url(data: bytes) -> str:
    """Base64url-encode ``data`` without padding (JOSE style)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_to_b64url(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8 or 1, "big"))


class SigningKey:
    """An RSA private key together with its ``kid`` (RFC 7638 thumbprint unless given)."""

    def __init__(self, private_key: rsa.RSAPrivateKey, kid: str | None = None) -> None:
        self.private_key = private_key
        self.kid = kid or self._thumbprint()

    @classmethod
    def generate(cls, key_size: int = 2048, kid: str | None = None) -> SigningKey:
        """Generate a fresh RSA key (2048 bits by default, as Saleor's RSA_PRIVATE_KEY)."""
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=key_size), kid)

    @classmethod
    def from_pem(cls, pem: bytes | str, kid: str | None = None) -> SigningKey:
        """Load a PEM-encoded (PKCS#1 or PKCS#8, unencrypted) RSA private key."""
        data = pem.encode() if isinstance(pem, str) else pem
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise TypeError("Saleor signs with RSA keys only")
        return cls(key, kid)

    def private_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_pem(self) -> bytes:
        """The public key as SubjectPublicKeyInfo PEM."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK, in the shape Saleor's JWKS endpoint serves."""
        numbers = self.private_key.public_key().public_numbers()
        return {
            "kty": "RSA",
            "key_ops": ["verify"],
            "n": _int_to_b64url(numbers.n),
            "e": _int_to_b64url(numbers.e),
            "use": "sig",
            "kid": self.kid,
            "alg": "RS256",
        }

    def _thumbprint(self) -> str:
        numbers = self.private_key.public_key().public_numbers()
        members = {"e": _int_to_b64url(numbers.e), "kty": "RSA", "n": _int_to_b64url(numbers.n)}
        canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
        return b64url(hashlib.sha256(canonical).digest())

    def sign_detached(self, payload: bytes) -> str:
        """Return the detached, unencoded-payload JWS of ``payload`` (``<header>..<signature>``)."""
        header = {"alg": "RS256", "kid": self.kid, "b64": False, "crit": ["b64"]}
        encoded_header = b64url(json.dumps(header, separators=(",", ":")).encode())
        signing_input = encoded_header.encode("ascii") + b"." + payload
        signature = self.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return f"{encoded_header}..{b64url(signature)}"

    def encode_jwt(self, claims: Mapping[str, Any]) -> str:
        """Encode ``claims`` as an RS256 JWT with this key's ``kid`` in the header."""
        return jwt.encode(
            dict(claims), self.private_key, algorithm="RS256", headers={"kid": self.kid}
        )


class KeyRing:
    """The current signing key and, after a rotation that keeps it, the previous one.

    Saleor's own `JWTManager` publishes its one key (saleor/core/jwt_manager.py `get_jwks`:
    `{"keys": [jwk_dict]}`), and a rotation (a new `RSA_PRIVATE_KEY`) drops the old one at
    once: the default here. `keep_previous` stands for a manager of the deployment's own
    (`JWT_MANAGER_PATH`) that publishes both for a while."""

    def __init__(self, current: SigningKey) -> None:
        self.current = current
        self.previous: SigningKey | None = None

    def rotate(self, new_key: SigningKey, keep_previous: bool = False) -> None:
        """Make ``new_key`` current; keep the old key published only if ``keep_previous``."""
        self.previous = self.current if keep_previous else None
        self.current = new_key

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The JWKS document: the current key first, then the previous one if kept."""
        keys = [self.current.public_jwk()]
        if self.previous is not None:
            keys.append(self.previous.public_jwk())
        return {"keys": keys}
