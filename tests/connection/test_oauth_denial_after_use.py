"""Mailchimp's answer without a code (`error=access_denied`, or none at all) for a log-in whose
state was used already is a replay, as a second answer with a code is: it ends nothing and
says nothing was connected when the first answer connected, or is connecting, the account.

The admin allowed access, went back to Mailchimp's page in the pop-up and pressed Deny (or the
link was opened again). Before, that second answer ended the attempt still pending as
"denied" while the first callback connected the account, or, once connected, showed and
posted to the dashboard "You did not allow access in Mailchimp, so nothing was connected"."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from addon.connection.oauth_flow import _hash_state
from addon.connection.repository import ConnectionRepository
from addon.db.types import utcnow
from addon.services import Services
from sandboxes.mailchimp import SandboxAccount
from tests.conftest import MAILCHIMP_URL
from tests.test_oauth_attempts import authorize_params, poll, start

CALLBACK = "/api/connection/oauth/callback"
ANSWERS = [{"error": "access_denied"}, {}]  # Deny pressed; no answer at all


def state_of(started: dict[str, Any]) -> str:
    return authorize_params(started)["state"]


@pytest.mark.parametrize("answer", ANSWERS)
async def test_a_second_answer_while_the_first_connects_leaves_it_the_attempt(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    services: Services,
    answer: dict[str, str],
) -> None:
    started = await start(app_client, headers)
    state = state_of(started)
    # The first callback (access allowed) has used the state up and is exchanging the code
    # with Mailchimp; it records the outcome afterwards.
    async with services.db.transaction() as session:
        assert await ConnectionRepository(session).consume_state(_hash_state(state), utcnow())
    page = await app_client.get(CALLBACK, params={"state": state, **answer})
    assert "postMessage" not in page.text and "nothing was connected" not in page.text
    assert (await poll(app_client, headers, started))["status"] == "pending"


@pytest.mark.parametrize("answer", ANSWERS)
async def test_a_second_answer_once_connected_does_not_say_nothing_was_connected(
    app_client: httpx.AsyncClient,
    headers: dict[str, str],
    account: SandboxAccount,
    answer: dict[str, str],
) -> None:
    started = await start(app_client, headers)
    state = state_of(started)
    allowed = await app_client.post(
        f"{MAILCHIMP_URL}/oauth2/authorize",
        data={
            **{k: v[0] for k, v in parse_qs(urlsplit(started["authorize_url"]).query).items()},
            "decision": "allow",
            "account_id": account.id,
        },
    )
    assert (await app_client.get(allowed.headers["location"])).status_code == 200
    page = await app_client.get(CALLBACK, params={"state": state, **answer})
    assert "nothing was connected" not in page.text and "used already" in page.text
    assert '"code": "OAUTH_STATE_REPLAYED"' in page.text
    assert (await poll(app_client, headers, started))["status"] == "allowed"
    status = (await app_client.get("/api/connection", headers=headers)).json()
    assert status["status"] == "connected"
