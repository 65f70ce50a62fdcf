"""Verification of what Saleor signs: webhook bodies (detached JWS) and dashboard tokens (JWT).

Both pick the RS256 key by `kid` from the installation's cached JWKS.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jwt
from jwt.api_jws import PyJWS

from addon.saleor.schemas import DashboardTokenClaims, Jwks


class VerificationError(Exception):
    """A signature or token did not verify. The message says why, without secrets."""


class UnknownKey(VerificationError):
    """No key in the JWKS has the `kid` the signature names (the keys may have rotated)."""


class TokenExpired(VerificationError):
    pass


class InvalidToken(VerificationError):
    pass


def _signing_key(
    jwks: Jwks, signed: str, what: str, error: type[VerificationError] = VerificationError
) -> Any:
    """The JWKS key that signed `signed` (a JWS or JWT, `what` in messages): RS256 only."""
    try:
        header = jwt.get_unverified_header(signed)
    except jwt.DecodeError as exc:
        raise error(f"malformed {what}: {exc}") from exc
    if header.get("alg") != "RS256":
        raise error(f"the {what} must be signed with RS256")
    return _key_for(jwks, header.get("kid"))


def _key_for(jwks: Jwks, kid: str | None) -> Any:
    keys = jwt.PyJWKSet.from_dict(jwks.as_dict()).keys
    if kid is None:
        if len(keys) == 1:
            return keys[0].key
        # Not UnknownKey: refetching cannot tell which key was meant (Saleor always sends one).
        raise VerificationError("the signature names no key id (kid)")
    for key in keys:
        if key.key_id == kid:
            return key.key
    raise UnknownKey(f"no signing key with kid {kid!r}")


def verify_webhook_signature(jwks: Jwks, signature: str, body: bytes) -> None:
    """Check `Saleor-Signature`: RS256 JWS, detached unencoded payload (RFC 7797)."""
    key = _signing_key(jwks, signature, "signature")
    try:
        PyJWS().decode_complete(signature, key=key, algorithms=["RS256"], detached_payload=body)
    except jwt.InvalidSignatureError as exc:
        raise VerificationError("signature does not match the body") from exc
    except jwt.PyJWTError as exc:
        raise VerificationError(f"invalid signature: {exc}") from exc


def _decode_jwt(
    jwks: Jwks, token: str, saleor_api_url: str, required: Sequence[str]
) -> dict[str, Any]:
    """An RS256 JWT of this Saleor: signature by `kid`, expiry, issuer, required claims."""
    key = _signing_key(jwks, token, "token", InvalidToken)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=["RS256"],
            issuer=saleor_api_url,
            options={"require": ["exp", "iss", *required]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired("the token has expired") from exc
    except jwt.InvalidIssuerError as exc:
        raise InvalidToken("the token was issued by another Saleor") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"invalid token: {exc}") from exc
    return claims


def verify_dashboard_token(jwks: Jwks, token: str, saleor_api_url: str) -> DashboardTokenClaims:
    """Check a dashboard app token; return its claims."""
    claims = _decode_jwt(jwks, token, saleor_api_url, ["app"])
    return DashboardTokenClaims.model_validate(claims)


def verify_customer_token(jwks: Jwks, token: str, saleor_api_url: str) -> str:
    """Check a storefront customer's access token; return the customer's e-mail address."""
    claims = _decode_jwt(jwks, token, saleor_api_url, ["email"])
    if claims.get("type") != "access":
        raise InvalidToken("this is not a customer access token")
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        raise InvalidToken("the token names no e-mail address")
    return email.lower()
