"""Saleor's signature form is verified without PyJWS's per-character pass
(`addon.saleor.jws._verified_saleor_form`): it must accept and refuse exactly what PyJWS does."""

from __future__ import annotations

import base64
import random
from typing import Any

import jwt
import pytest
from jwt.api_jws import PyJWS

from addon.saleor.jws import VerificationError, verify_webhook_signature
from addon.saleor.schemas import Jwks

BODY = b'{"product": {"id": "UHJvZHVjdDox"}}'


def _pyjws_accepts(signature: str, key: Any, body: bytes) -> bool:
    try:
        PyJWS().decode_complete(signature, key=key, algorithms=["RS256"], detached_payload=body)
    except jwt.PyJWTError:
        return False
    return True


def _app_accepts(jwks: Jwks, signature: str, body: bytes) -> bool:
    try:
        verify_webhook_signature(jwks, signature, body)
    except VerificationError:
        return False
    return True


def test_the_saleor_form_is_accepted_and_refused_as_pyjws_decides(saleor_signing_key: Any) -> None:
    jwks = Jwks.model_validate({"keys": [saleor_signing_key.public_jwk()]})
    key = jwt.PyJWKSet.from_dict(jwks.as_dict()).keys[0].key
    signature = saleor_signing_key.sign_detached(BODY)
    rng = random.Random(7)
    cases = [(signature, BODY), (signature, BODY + b" "), (signature + "=", BODY)]
    cases += [(signature[:-1], BODY), (signature.replace("..", ".e30."), BODY)]
    for _ in range(300):  # one character changed anywhere: header, separators or signature
        chars = list(signature)
        chars[rng.randrange(len(chars))] = rng.choice("AQw_-=.+/")
        cases.append(("".join(chars), BODY))
    accepted = 0
    for candidate, body in cases:
        expected = _pyjws_accepts(candidate, key, body)
        assert _app_accepts(jwks, candidate, body) is expected, candidate
        accepted += expected
    assert _app_accepts(jwks, signature, BODY)
    assert accepted < len(cases)  # the cases include refusals


def test_a_tampered_body_is_refused_in_the_usual_words(saleor_signing_key: Any) -> None:
    jwks = Jwks.model_validate({"keys": [saleor_signing_key.public_jwk()]})
    signature = saleor_signing_key.sign_detached(BODY)
    with pytest.raises(VerificationError, match="signature does not match the body"):
        verify_webhook_signature(jwks, signature, BODY.replace(b"Dox", b"Doy"))


def test_a_token_saleor_signed_is_no_signature_of_any_body(
    saleor_signing_key: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JWT Saleor issued (a shopper's `tokenCreate`) signs its own payload, not the body. PyJWT
    before 2.13 checked that payload when the header did not say `b64: false`, whatever
    `detached_payload` was: refused by the app itself, as a PyJWS that does so shows."""
    jwks = Jwks.model_validate({"keys": [saleor_signing_key.public_jwk()]})
    token = saleor_signing_key.encode_jwt({"iss": "https://shop.example/graphql/", "exp": 2**40})

    def checks_its_own_payload(jws: str, key: Any, algorithms: Any, **_: Any) -> Any:
        return PyJWS().decode_complete(jws, key=key, algorithms=algorithms)

    monkeypatch.setattr("addon.saleor.jws._RS256.decode_complete", checks_its_own_payload)
    for body in (BODY, b"{}"):
        with pytest.raises(VerificationError, match="a payload of its own"):
            verify_webhook_signature(jwks, token, body)


@pytest.mark.parametrize("nested", [500, 5000])
def test_a_header_of_nested_json_is_refused_not_a_crash(
    saleor_signing_key: Any, nested: int
) -> None:
    """Deeply nested JSON in the header segment exhausted the parser's recursion (a 500 to
    anyone, before any key was checked); a header longer than Saleor's is no header of its."""
    jwks = Jwks.model_validate({"keys": [saleor_signing_key.public_jwk()]})
    header = base64.urlsafe_b64encode(b"[" * nested + b"]" * nested).rstrip(b"=").decode()
    with pytest.raises(VerificationError):
        verify_webhook_signature(jwks, f"{header}..AAAA", BODY)
