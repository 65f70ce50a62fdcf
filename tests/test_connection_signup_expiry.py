"""A log-in lives 10 minutes, a sign-up two hours (`state_ttl`). Before, an expired sign-up's
callback page and its attempt both said it "took longer than 10 minutes"; now each says its own
lifetime."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from addon.clock import ManualClock
from addon.connection.repository import lifetime_text
from sandboxes.mailchimp import MailchimpSandbox
from tests.conftest import MAILCHIMP_URL, keep_browser_key


@pytest.mark.parametrize(
    ("flow", "waited", "said"),
    [("signup", 121, "2 hours"), ("login", 11, "10 minutes")],
)
async def test_an_expired_log_in_or_sign_up_names_its_own_lifetime(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    mailchimp: MailchimpSandbox,
    clock: ManualClock,
    flow: str,
    waited: int,
    said: str,
) -> None:
    start = await app_client.get(
        "/api/connection/oauth/start",
        params={"flow": flow},
        headers={**headers, "accept": "application/json"},
    )
    keep_browser_key(app_client, start.json())
    clock.advance(waited * 60)
    new = mailchimp.create_account("Fresh Start", "new@fresh.example")
    params = {k: v[0] for k, v in parse_qs(urlsplit(start.json()["authorize_url"]).query).items()}
    allowed = await app_client.post(
        f"{MAILCHIMP_URL}/oauth2/authorize",
        data={**params, "account_id": new.id, "decision": "allow"},
    )
    page = await app_client.get(allowed.headers["location"])
    assert page.status_code == 400 and f"took longer than {said} and expired" in page.text
    attempt = (await app_client.get(start.json()["status_url"], headers=headers)).json()
    assert attempt["status"] == "expired"
    assert f"took longer than {said} and expired" in attempt["message"], attempt["message"]


def test_lifetimes_are_said_in_plain_words() -> None:
    assert lifetime_text(timedelta(minutes=10)) == "10 minutes"
    assert lifetime_text(timedelta(hours=2)) == "2 hours"
    assert lifetime_text(timedelta(hours=1)) == "1 hour"
    assert lifetime_text(timedelta(minutes=90)) == "90 minutes"
