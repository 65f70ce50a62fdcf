"""Verification of what Saleor signs: webhook bodies (detached JWS) and dashboard tokens (JWT).

Both pick the RS256 key by `kid` from the installation's cached JWKS. Parsing a JWKS into RSA
key objects costs more than checking one signature, so parsed sets are kept in a small LRU
keyed by the set's content: a fetched (or refetched) set is parsed once, a refreshed set is a
new entry, and the old one ages out.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm
from jwt.api_jws import PyJWS

from addon.saleor.schemas import DashboardTokenClaims, Jwks, SignedInCustomer


class VerificationError(Exception):
    """A signature or token did not verify. The message says why, without secrets."""


class UnknownKey(VerificationError):
    """No key in the JWKS has the `kid` the signature names (the keys may have rotated)."""


class TokenExpired(VerificationError):
    pass


class InvalidToken(VerificationError):
    pass


MAX_HEADER_SEGMENT = 1024


def _unverified_header(signed: str) -> dict[str, Any]:
    """The JOSE header (RFC 7515, 7.1: the first segment, base64url JSON), only to choose the
    key: PyJWT's `get_unverified_header` decodes and checks every segment, the 342-character
    signature included, character by character in Python, and verification does it again."""
    segment = signed.split(".", 1)[0]
    # Saleor's header is a few short fields (`alg`, `kid`, `b64`, `crit`); a long one is no
    # header of its, and deeply nested JSON would exhaust the parser's recursion.
    if len(segment) > MAX_HEADER_SEGMENT:
        raise ValueError("invalid header segment: too long")
    try:
        decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        header = json.loads(decoded)
    except (ValueError, binascii.Error, RecursionError) as exc:  # json, UTF-8: ValueErrors
        raise ValueError("invalid header segment") from exc
    if not isinstance(header, dict):
        raise ValueError("the header is not a JSON object")
    return header


def _signing_key(
    jwks: Jwks, signed: str, what: str, error: type[VerificationError] = VerificationError
) -> Any:
    """The JWKS key that signed `signed` (a JWS or JWT, `what` in messages): RS256 only."""
    try:
        header = _unverified_header(signed)
    except ValueError as exc:
        raise error(f"malformed {what}: {exc}") from exc
    if header.get("alg") != "RS256":
        raise error(f"the {what} must be signed with RS256")
    return _key_for(jwks, header.get("kid"))


@dataclass(frozen=True)
class ParsedKeys:
    """A JWKS's keys as key objects, in the set's order (`kid` None when a key names none)."""

    keys: tuple[tuple[str | None, Any], ...]


class ParsedKeyCache:
    """Parsed key sets by content, least recently used dropped first: bounded, so many
    installations (or forged sets) cannot grow it without limit."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self.parses = 0  # how many sets were parsed (tests observe it)
        self._entries: OrderedDict[str, ParsedKeys] = OrderedDict()
        self._last: tuple[Jwks, ParsedKeys] | None = None  # the most recently used entry

    def get(self, jwks: Jwks) -> ParsedKeys:
        # The set asked for last, by identity: an installation's cached set is one object for
        # every delivery until a refetch, and serialising it costs more than the lookup.
        if self._last is not None and self._last[0] is jwks:
            return self._last[1]
        parsed = self._get(jwks)
        self._last = (jwks, parsed)
        return parsed

    def _get(self, jwks: Jwks) -> ParsedKeys:
        content = jwks.model_dump_json(exclude_none=True)
        parsed = self._entries.get(content)
        if parsed is not None:
            self._entries.move_to_end(content)
            return parsed
        parsed = ParsedKeys(
            tuple((key.key_id, key.key) for key in jwt.PyJWKSet.from_dict(jwks.as_dict()).keys)
        )
        self.parses += 1
        self._entries[content] = parsed
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return parsed

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()
        self._last = None


# One per process: key objects are immutable, and the content identifies the set.
parsed_keys = ParsedKeyCache()


def _key_for(jwks: Jwks, kid: str | None) -> Any:
    keys = parsed_keys.get(jwks).keys
    if kid is None:
        if len(keys) == 1:
            return keys[0][1]
        # Not UnknownKey: refetching cannot tell which key was meant (Saleor always sends one).
        raise VerificationError("the signature names no key id (kid)")
    for key_id, key in keys:
        if key_id == kid:
            return key
    raise UnknownKey(f"no signing key with kid {kid!r}")


# Made once: building one sets up every algorithm PyJWT knows (a tenth of a webhook's time).
_RS256 = PyJWS(algorithms=["RS256"])


_RS256_ALGORITHM = RSAAlgorithm(RSAAlgorithm.SHA256)  # the one PyJWS verifies RS256 with
_CANONICAL_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")


def _segment(segment: str) -> bytes | None:
    """A JWS segment decoded, when it is in the one form PyJWS accepts without a word
    (base64url, unpadded, canonical); None otherwise."""
    if len(segment) % 4 == 1 or not _CANONICAL_SEGMENT.fullmatch(segment):
        return None
    decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    return decoded if base64.urlsafe_b64encode(decoded).rstrip(b"=") == segment.encode() else None


def _verified_saleor_form(signature: str, key: Any, body: bytes) -> bool | None:
    """Whether the signature matches, for the form Saleor sends (`header..signature`, b64
    false and critical, RS256, a 2048-bit key or larger), checked as PyJWS checks it without
    its per-character pass in Python over every segment; None for any other form, which
    PyJWS then checks (and words any refusal) itself."""
    header_segment, dot, rest = signature.partition(".")
    payload_segment, dot2, crypto_segment = rest.partition(".")
    if not (dot and dot2) or payload_segment or not isinstance(key, RSAPublicKey):
        return None
    if key.key_size < 2048 or _segment(header_segment) is None:
        return None  # PyJWT warns about short keys
    try:
        header = _unverified_header(signature)
    except ValueError:
        return None
    kid = header.get("kid")
    if header.get("b64") is not False or header.get("crit") != ["b64"]:
        return None
    if "kid" in header and not isinstance(kid, str):
        return None
    raw_signature = _segment(crypto_segment)
    if raw_signature is None:
        return None
    signing_input = header_segment.encode() + b"." + body
    return bool(_RS256_ALGORITHM.verify(signing_input, key, raw_signature))


def _require_detached(signature: str) -> None:
    """Only a detached, unencoded payload (`header..signature`, `b64` false and critical: the
    form Saleor signs in, saleor/core/jwt_manager.py `jws_encode`) signs the body. Any other
    JWS signs a payload of its own: PyJWT before 2.13 then ignored `detached_payload` and
    checked that one, so any token Saleor issued (a shopper's `tokenCreate`) passed for any
    body. Refused here whatever PyJWT does."""
    _, _, rest = signature.partition(".")
    payload_segment, dot, _ = rest.partition(".")
    if payload_segment or not dot:
        raise VerificationError("the signature carries a payload of its own, not the body's")
    try:
        header = _unverified_header(signature)
    except ValueError as exc:
        raise VerificationError(f"invalid signature: {exc}") from exc
    if header.get("b64") is not False or header.get("crit") != ["b64"]:
        raise VerificationError("the signature is not of an unencoded body (b64 false)")


def verify_webhook_signature(jwks: Jwks, signature: str, body: bytes) -> None:
    """Check `Saleor-Signature`: RS256 JWS, detached unencoded payload (RFC 7797)."""
    key = _signing_key(jwks, signature, "signature")
    verified = _verified_saleor_form(signature, key, body)
    if verified is not None:
        if not verified:
            raise VerificationError("signature does not match the body")
        return
    _require_detached(signature)
    try:
        _RS256.decode_complete(signature, key=key, algorithms=["RS256"], detached_payload=body)
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
            # Saleor decodes its own tokens without checking `aud`: a storefront's
            # `tokenCreate(audience:)` adds "custom:<audience>", an app's manifest `audience`
            # its dashboard tokens' (saleor/core/jwt_manager.py `decode`, `verify_aud=False`;
            # create_token.py). PyJWT refuses any `aud` when no audience is expected.
            options={"require": ["exp", "iss", *required], "verify_aud": False},
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


def verify_customer_token(jwks: Jwks, token: str, saleor_api_url: str) -> SignedInCustomer:
    """Check a storefront customer's access token; return the customer it names. It proves
    the account, not the address: Saleor issues it to an unconfirmed account too, when the store
    allows it, and says nothing of that in it (saleor/core/jwt.py `jwt_user_payload`), so the
    account page reads it, and the address Saleor holds now (`customers.current_account`)."""
    claims = _decode_jwt(jwks, token, saleor_api_url, ["email"])
    if claims.get("type") != "access":
        raise InvalidToken("this is not a customer access token")
    email = claims.get("email")
    if not isinstance(email, str) or not email:
        raise InvalidToken("the token names no e-mail address")
    user_id = claims.get("user_id")
    return SignedInCustomer(
        email=email.lower(), user_id=user_id if isinstance(user_id, str) and user_id else None
    )
