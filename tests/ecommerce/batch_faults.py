"""A fault on the app's way out to Mailchimp's `POST /batches`, for the tests of a submission
whose outcome is unknown (bursts and the initial sync)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

import httpx

from sandboxes.mailchimp import MailchimpSandbox, SandboxAccount
from tests.conftest import RecordingTransport

Mode = Literal["off", "lose", "503"]


class BatchFaults(httpx.AsyncBaseTransport):
    """Wraps the app's outbound transport. `lose`: each `POST /batches` reaches Mailchimp,
    which creates the batch, and its answer is lost (a read timeout). `503`: Mailchimp's fault
    injection answers the next `POST /batches` with a 503 (nothing created), once."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, mailchimp: MailchimpSandbox, account: SandboxAccount
    ) -> None:
        self.inner, self.mailchimp, self.account = inner, mailchimp, account
        self.mode: Mode = "off"
        self.posts = 0
        self.refusals: list[int | None] = []  # how the next posts are refused, one each
        self.retry_after: str | None = None  # the refusals' Retry-After
        # Run once, when the next `POST /batches` is on its way (before Mailchimp has it).
        self.while_sending: Callable[[], Awaitable[None]] | None = None

    def refuse(self, status: int | None, times: int = 1, retry_after: str | None = None) -> None:
        """The next `times` `POST /batches` are refused, nothing created: answered `status` by
        Mailchimp's fault injection (with `retry_after` as its `Retry-After`, if given), or
        with None never connected (nothing sent)."""
        self.refusals = [status] * times
        self.retry_after = retry_after

    @classmethod
    def install(
        cls, outbound: RecordingTransport, mailchimp: MailchimpSandbox, account: SandboxAccount
    ) -> BatchFaults:
        faults = cls(outbound.inner, mailchimp, account)
        outbound.inner = faults
        return faults

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST" or not request.url.path.endswith("/batches"):
            return await self.inner.handle_async_request(request)
        self.posts += 1
        if self.while_sending is not None:
            hook, self.while_sending = self.while_sending, None
            await hook()
        refused = bool(self.refusals)
        if self.refusals:
            status = self.refusals.pop()
            if status is None:
                raise httpx.ConnectError("connection refused", request=request)
            self.mailchimp.faults.fail_next(1, status, account=self.account)
        if self.mode == "503":
            self.mode = "off"
            self.mailchimp.faults.fail_next(1, 503, account=self.account)
        response = await self.inner.handle_async_request(request)
        if refused and self.retry_after is not None:
            response.headers["Retry-After"] = self.retry_after
        if self.mode == "lose":
            await response.aread()
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response
