"""The batch part of :class:`~addon.mailchimp.client.MailchimpClient`: submitting a batch of
operations, following it, and downloading its results."""

from __future__ import annotations

from collections.abc import Sequence

from . import paths
from .batches import parse_batch_results
from .client_base import ClientBase
from .models import Batch, BatchOperation, BatchOperationResult

__all__ = ["BatchCalls"]

_seg = paths.segment


class BatchCalls(ClientBase):
    """Marketing API calls under ``/batches``."""

    # --- batches --------------------------------------------------------------------------

    async def create_batch(self, operations: Sequence[BatchOperation]) -> Batch:
        """``POST /batches``: run ``operations`` asynchronously on Mailchimp's side."""
        body = {"operations": [op.body() for op in operations]}
        return await self._send(Batch, "POST", "/batches", body)

    async def get_batch(self, batch_id: str) -> Batch:
        return await self._get(Batch, f"/batches/{_seg(batch_id)}")

    async def download_batch_results(self, url: str) -> list[BatchOperationResult]:
        """Fetch and parse a finished batch's ``response_body_url`` (an absolute URL to a
        storage host, fetched without the ``Authorization`` header)."""
        response = await self.http.request("GET", url)
        return parse_batch_results(response.content)
