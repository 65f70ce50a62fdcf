"""The batch part of :class:`~addon.mailchimp.client.MailchimpClient`: submitting a batch of
operations, following it, and downloading its results."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from . import paths
from .batches import parse_batch_results
from .client_base import ClientBase
from .error_responses import storage_error_from_response
from .errors import NotFound, OutcomeUnknown, ResultsUnavailable, TransientError, Unreachable
from .models import Batch, BatchOperation, BatchOperationResult

__all__ = ["BatchCalls"]

_seg = paths.segment


class BatchCalls(ClientBase):
    """Marketing API calls under ``/batches``."""

    # --- batches --------------------------------------------------------------------------

    async def create_batch(self, operations: Sequence[BatchOperation]) -> Batch:
        """``POST /batches``: run ``operations`` asynchronously on Mailchimp's side.

        Never sent twice: each send creates a batch, and one created by a send whose answer
        was lost would run unseen (its results never read, its older content landing over
        newer pushes whenever Mailchimp gets to it). A failure once the request may have
        reached Mailchimp, or an accepting answer whose batch cannot be read, raises
        :class:`OutcomeUnknown`: the caller holds its records until :meth:`batches` shows no
        unfinished batch it does not know submitted since (`addon.mailchimp.lost`)."""
        body = {"operations": [op.body() for op in operations]}
        try:
            return await self._send(Batch, "POST", "/batches", body, idempotent=False)
        except (OutcomeUnknown, Unreachable):
            raise
        except TransientError as exc:
            # A 2xx whose body is not JSON, or not a batch: accepted, under an id not known.
            raise OutcomeUnknown.after(exc) from exc

    def batches(self, count: int = 1000) -> AsyncIterator[Batch]:
        """``GET /batches``: the account's batch requests Mailchimp lists (id, status,
        ``submitted_at``, progress), ``count`` a page (the spec's maximum is 1,000)."""
        return self._paginate(Batch, "/batches", "batches", count=count)

    async def get_batch(self, batch_id: str) -> Batch:
        """``GET /batches/{id}``: one batch's status and progress."""
        return await self._get(Batch, f"/batches/{_seg(batch_id)}")

    async def delete_batch(self, batch_id: str) -> None:
        """``DELETE /batches/{id}``: "Stops a batch request from running" (Mailchimp's spec,
        3.0.81); the results of operations it already ran are no longer available."""
        await self.request("DELETE", f"/batches/{_seg(batch_id)}")

    async def download_batch_results(self, url: str) -> list[BatchOperationResult]:
        """Fetch and parse a finished batch's ``response_body_url`` (an absolute URL to a
        storage host, fetched without the ``Authorization`` header). Empty (Mailchimp may
        answer a finished batch with ``""``, as before it finished): no results, so each
        operation's outcome is missing, which callers take as transient (`batch_results`)."""
        if not url:
            return []
        # The storage host's 403/404 say the archive is gone, not the account's role or plan.
        response = await self.http.request("GET", url, error_mapper=storage_error_from_response)
        return parse_batch_results(response.content)

    async def finished_batch_results(self, batch: Batch) -> list[BatchOperationResult]:
        """The results of a batch Mailchimp reported ``finished`` (`batch`, as it answered).

        Its ``response_body_url`` is a pre-signed URL valid a short time, and Mailchimp deletes
        old results (mailchimp/mc-magento2#821): when the archive is gone, the batch is asked
        for once more (``GET /batches/{id}``), and a different URL in the answer is tried.
        Raises :class:`ResultsUnavailable` when there is none or it fails too: the batch ran,
        what each operation did will not be known (callers push its records again)."""
        try:
            return await self.download_batch_results(batch.response_body_url)
        except ResultsUnavailable:
            try:
                again = await self.get_batch(batch.id)
            except NotFound as exc:
                raise ResultsUnavailable.after(exc) from exc
            if again.response_body_url in ("", batch.response_body_url):
                raise
            return await self.download_batch_results(again.response_body_url)
