"""The callback page hands its outcome to the dashboard in an inline script: text from the
callback's URL (Mailchimp's `error_description`, which anybody can write into a link) must leave
the script element as the page wrote it."""

from __future__ import annotations

import json
import re

import httpx

from sandboxes.mailchimp import SandboxAccount
from tests.test_oauth_attempts import authorize_params, headers, start

__all__ = ["headers"]  # the fixture, imported

CRAFTED = "<!--<script>x</script>--> & </script><b>"


async def test_a_crafted_error_description_stays_data_in_the_page_script(
    app_client: httpx.AsyncClient, headers: dict[str, str], account: SandboxAccount
) -> None:
    started = await start(app_client, headers)
    state = authorize_params(started)["state"]
    page = await app_client.get(
        "/api/connection/oauth/callback",
        params={"state": state, "error": "server_error", "error_description": CRAFTED},
    )
    [script] = re.findall(r"<script>(.*?)</script>", page.text, flags=re.DOTALL)
    # No markup inside the script: the HTML parser sees the page's own `</script>` end it.
    assert "<" not in script and ">" not in script.replace("=>", "")
    [literal] = re.findall(r"var result = (.*?);\n", script)
    assert CRAFTED in json.loads(literal)["message"]
