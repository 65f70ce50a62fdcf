"""The storefront's customer token: an RS256 access JWT signed by the store's Saleor."""

from __future__ import annotations

from typing import Any

import jwt

from addon.saleor.jws import InvalidToken, TokenExpired, UnknownKey, VerificationError
from addon.saleor.schemas import Jwks


def verify_customer_token(jwks: Jwks, token: str, saleor_api_url: str) -> str:
    """Check signature, expiry, issuer and type; return the customer's e-mail address."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError as exc:
        raise InvalidToken(f"malformed token: {exc}") from exc
    if header.get("alg") != "RS256":
        raise InvalidToken("the token must be signed with RS256")
    keys = jwt.PyJWKSet.from_dict(jwks.as_dict()).keys
    key = next((k.key for k in keys if k.key_id == header.get("kid")), None)
    if key is None:
        raise UnknownKey("the token was not signed by this store's Saleor")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=key,
            algorithms=["RS256"],
            issuer=saleor_api_url,
            options={"require": ["exp", "iss", "email"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenExpired("the token has expired") from exc
    except jwt.InvalidIssuerError as exc:
        raise InvalidToken("the token was issued by another Saleor") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken(f"invalid token: {exc}") from exc
    if claims.get("type") != "access":
        raise InvalidToken("this is not a customer access token")
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        raise VerificationError("the token names no e-mail address")
    return email.lower()
