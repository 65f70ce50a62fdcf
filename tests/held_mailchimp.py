"""Requests to the Mailchimp sandbox held inside its counted window (after its concurrency
check, before the operation) until the test lets them go. Requests overlap because the test
holds them, not because an injected latency outlasts the others' arrival: on a loaded machine
it may not."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from sandboxes.mailchimp import MailchimpSandbox

PATIENCE = 60.0  # a bound only a hang reaches


class Held:
    def __init__(self, sandbox: MailchimpSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
        self.go = asyncio.Event()
        call = sandbox.router.call

        async def held(request: Any) -> Any:
            await self.go.wait()
            return await call(request)

        monkeypatch.setattr(sandbox.router, "call", held)


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + PATIENCE
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"gave up waiting for {what}"
        await asyncio.sleep(0.001)
