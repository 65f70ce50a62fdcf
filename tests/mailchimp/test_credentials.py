"""API key parsing and credential handling (no network needed)."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr

from addon.mailchimp import ApiKey, InvalidApiKeyFormat, MailchimpCredentials, subscriber_hash

HEX = "0123456789abcdef0123456789abcdef"
KEY = f"{HEX}-us21"


def test_parse_valid_key() -> None:
    key = ApiKey.parse(KEY)
    assert key.dc == "us21"
    assert key.secret.get_secret_value() == KEY


@pytest.mark.parametrize("text", [f"  {KEY}\n", f"\t{KEY} ", f"\n{KEY}\r\n"])
def test_parse_strips_surrounding_whitespace(text: str) -> None:
    assert ApiKey.parse(text).secret.get_secret_value() == KEY


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (HEX, "data centre"),
        (f"{HEX[:-1]}-us21", "32 characters long, not 31"),
        (f"{HEX}0-us21", "32 characters long, not 33"),
        (f"{HEX.upper()}-us21", "lowercase"),
        (f"{HEX[:-1]}g-us21", "hexadecimal"),
        (f"{HEX}-", "data centre"),
        (f"{HEX}-US21", "data centre"),
        (f"{HEX}-21", "data centre"),
        (f"{HEX}-us", "data centre"),
        (f"{HEX[:16]} {HEX[16:]}-us21", "spaces"),
    ],
)
def test_parse_rejects_malformed_keys(text: str, message: str) -> None:
    with pytest.raises(InvalidApiKeyFormat, match=message) as info:
        ApiKey.parse(text)
    assert isinstance(info.value, ValueError)
    if text.strip():
        assert text.strip() not in str(info.value)


def test_api_key_never_prints_the_secret() -> None:
    key = ApiKey.parse(KEY)
    creds = MailchimpCredentials.from_api_key(key)
    for text in (str(key), repr(key), str(creds), repr(creds), f"{creds}"):
        assert HEX not in text


def test_api_key_authorization_header_is_basic_anystring() -> None:
    creds = MailchimpCredentials.from_api_key(KEY)
    scheme, _, value = creds.authorization.partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(value).decode() == f"anystring:{KEY}"
    assert creds.dc == "us21"
    assert creds.kind == "api_key"


def test_oauth_token_authorization_header_is_bearer() -> None:
    creds = MailchimpCredentials.from_oauth_token("tok123", "us7")
    assert creds.authorization == "Bearer tok123"
    assert "tok123" not in repr(creds)
    assert MailchimpCredentials.from_oauth_token(SecretStr("tok123"), "us7") == creds


def test_account_key_is_stable_and_secret_free() -> None:
    a = MailchimpCredentials.from_api_key(KEY)
    b = MailchimpCredentials.from_api_key(f" {KEY} ")
    other = MailchimpCredentials.from_api_key(f"{HEX[::-1]}-us21")
    assert a.account_key == b.account_key != other.account_key
    assert HEX not in a.account_key
    by_id = MailchimpCredentials.from_oauth_token("tok", "us21", account_id="abc")
    assert by_id.account_key == MailchimpCredentials.from_api_key(KEY, account_id="abc").account_key


@pytest.mark.parametrize("dc", ["", "US21", "us21.evil.com", "us-21", "x/y"])
def test_bad_data_centre_is_rejected(dc: str) -> None:
    with pytest.raises(ValueError, match="data centre"):
        MailchimpCredentials.from_oauth_token("tok", dc)


def test_subscriber_hash_is_md5_of_lowercased_email() -> None:
    assert subscriber_hash("Urist.McVankab@Freddiesjokes.com") == (
        "62eeb292278cc15f5817cb78f7790b08"
    )
    assert subscriber_hash(" a@B.com ") == subscriber_hash("a@b.com")
