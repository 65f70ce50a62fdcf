"""Batch operations: ``POST /batches`` and their asynchronous processing.

A batch is answered at once with status ``pending``, then processed in the background through
``preprocessing``, ``started`` (its operations run) and ``finalizing`` (its results archived,
no ``response_body_url`` yet) to ``finished``: the statuses of Mailchimp's spec (3.0.81, the
``Batch`` schema's ``status`` enum) and guide ("Use Batch Operations": "Pending, preprocessing,
started, finalizing, or finished"), in that order. Every operation goes through the same route
table as a direct request. Results are published as a gzipped tar archive of JSON files, each
an array of ``{"status_code", "operation_id", "response"}`` where ``response`` is the
operation's JSON response *as a string*; the archive URL expires like a pre-signed S3 URL.
"""

from __future__ import annotations

import asyncio
import io
import tarfile
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from starlette.responses import Response

from . import json_body
from .batch_models import Batch, BatchOperation, BatchResult
from .bodies import BodyIn
from .errors import internal_error, json_parse_error, not_found, too_many_requests
from .models import LoggedRequest
from .routing import ApiRequest, ApiResult, Router, paginate
from .state import AccountData

if TYPE_CHECKING:
    from .sandbox import MailchimpSandbox

router = Router()

MAX_PENDING_BATCHES = 500
RESULTS_PER_FILE = 500


class BatchIn(BodyIn):
    # The operations are kept as validated here (copying each into another model was 9 % of
    # the sandbox's CPU in an initial sync).
    operations: list[BatchOperation]


def render(batch: Batch) -> dict[str, Any]:
    return {**batch.model_dump(mode="json"), "_links": []}


@router.route("POST", "/batches")
def create_batch(request: ApiRequest) -> dict[str, Any]:
    payload = request.parse(BatchIn)
    data = request.account
    pending = sum(1 for b in data.batches.values() if b.status != "finished")
    if pending >= MAX_PENDING_BATCHES:
        raise too_many_requests(
            f"You have more than {MAX_PENDING_BATCHES} pending batches. "
            "Please wait for some of them to finish."
        )
    batch = Batch(
        id=request.sandbox.state.new_id(10),
        total_operations=len(payload.operations),
        submitted_at=request.sandbox.clock.iso(),
        operations=payload.operations,
    )
    data.batches[batch.id] = batch
    request.sandbox.batch_runner.submit(data, batch)
    return render(batch)


@router.route("GET", "/batches")
def list_batches(request: ApiRequest) -> dict[str, Any]:
    """Every batch of the account Mailchimp still holds, each as ``GET /batches/{batch_id}``
    renders it (status, ``submitted_at``, progress), paginated. Per Mailchimp's OpenAPI spec
    (``/batches`` get, 3.0.81): ``Batch_Operations`` = ``{batches: [Batch], total_items,
    _links}``, query ``fields``/``exclude_fields`` and ``count`` (default 10, at most 1000) /
    ``offset`` (default 0), which `paginate` applies; the spec promises no order, and the
    app's client reads every page whatever the order. A deleted batch is no longer listed."""
    items = [render(b) for b in request.account.batches.values()]
    return paginate(request, "batches", items)


def _batch(request: ApiRequest) -> Batch:
    batch = request.account.batches.get(request.params["batch_id"])
    if batch is None:
        raise not_found()
    return batch


@router.route("GET", "/batches/{batch_id}")
def get_batch(request: ApiRequest) -> dict[str, Any]:
    """One batch. Mailchimp's docs say nothing of a fresh ``response_body_url`` on a later
    ``GET`` (its guide "Run Async Requests with the Batch Endpoint" and the spec's ``Batch``
    schema only give the URL of the results), so by default the URL signed when the batch
    finished is answered again, however expired: no stricter service is possible. A test that
    wants the other reading sets `MailchimpSandbox.batch_url_renewed_on_get`."""
    batch = _batch(request)
    sandbox = request.sandbox
    if sandbox.batch_url_renewed_on_get and batch.status == "finished":
        with sandbox.state.lock:
            sandbox.batch_runner.sign(batch)
    return render(batch)


@router.route("DELETE", "/batches/{batch_id}")
def delete_batch(request: ApiRequest) -> None:
    batch = _batch(request)
    batch.cancelled = True
    del request.account.batches[batch.id]


def _query(params: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in params.items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, list):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out


@dataclass
class Archive:
    content: bytes
    # The expiry of each URL signed for it: an old URL stays expired once a new one is given.
    signed: set[int] = field(default_factory=set)


S3_EXPIRED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    "<Message>Request has expired</Message></Error>"
)
S3_UNSIGNED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>'
    "<Message>The request signature we calculated does not match the signature you "
    "provided.</Message></Error>"
)
S3_NO_KEY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>'
    "<Message>The specified key does not exist.</Message></Error>"
)


class BatchRunner:
    """Processes submitted batches in the background and serves their result archives.

    An account's batches run one at a time, in the order they were submitted; the others wait
    `pending`. Mailchimp's OpenAPI spec (3.0.81, `DELETE /batches/{batch_id}`): "Since only
    one batch request is run at a time, this can be used to cancel a long running request."
    (Mailchimp promises no order; submission order is one it may take.)"""

    def __init__(self, sandbox: MailchimpSandbox) -> None:
        self.sandbox = sandbox
        self._tasks: set[asyncio.Task[None]] = set()
        self._archives: dict[str, Archive] = {}
        self._names: dict[str, str] = {}  # a finished batch's id: its archive's name
        # Per account: its batches waiting to run, and whether one of them is running.
        self._queues: dict[str, deque[tuple[AccountData, Batch]]] = {}

    def submit(self, data: AccountData, batch: Batch) -> None:
        account = data.account.id
        queue = self._queues.get(account)
        if queue is not None:
            queue.append((data, batch))  # its account's runner takes it in turn
            return
        self._queues[account] = deque([(data, batch)])
        task = asyncio.get_running_loop().create_task(self._run_account(account))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_account(self, account: str) -> None:
        queue = self._queues[account]
        failed: Exception | None = None
        try:
            while queue:
                data, batch = queue.popleft()
                try:
                    await self._run(data, batch)
                except Exception as exc:  # the next batches still run; raised at the end
                    failed = failed or exc
        finally:
            del self._queues[account]
        if failed is not None:
            raise failed

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        # A runner cancelled before its first step never ran its `finally`.
        self._queues.clear()

    async def _run(self, data: AccountData, batch: Batch) -> None:
        sandbox = self.sandbox
        if sandbox.batch_start_delay:
            await asyncio.sleep(sandbox.batch_start_delay)
        # A plain flag that tests flip (no event to create in the right loop); while it is up, a
        # release the test gives lets this one batch start.
        while sandbox.batches_paused and not (batch.cancelled or sandbox.take_batch_release()):  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        with sandbox.state.lock:
            if batch.cancelled:
                return
            batch.status = "preprocessing"
        await self._preprocess(batch)
        with sandbox.state.lock:
            if batch.cancelled:
                return
            batch.status = "started"
        for operation in batch.operations:
            if batch.cancelled:
                return
            if sandbox.batch_operation_latency:
                await asyncio.sleep(sandbox.batch_operation_latency)
            else:
                # Mailchimp runs batches apart from its API: the sandbox's API keeps answering
                # between a batch's operations (the handlers never suspend by themselves).
                await asyncio.sleep(0)
            result = await self._execute(data, operation)
            with sandbox.state.lock:
                batch.results.append(result)
                batch.finished_operations += 1
                if result.status_code >= 400:
                    batch.errored_operations += 1
        with sandbox.state.lock:
            batch.status = "finalizing"
        content = await self._finalize(batch)
        with sandbox.state.lock:
            self._names[batch.id] = name = f"{batch.id}-{sandbox.state.new_id(10)}-response.tar.gz"
            self._archives[name] = Archive(content=content)
            self.sign(batch)
            batch.completed_at = sandbox.clock.iso()
            batch.status = "finished"

    def sign(self, batch: Batch) -> None:
        """Give the finished batch's archive a URL valid `batch_result_ttl` from now, as a
        pre-signed S3 URL (held under the state lock)."""
        sandbox = self.sandbox
        name = self._names.get(batch.id)
        archive = self._archives.get(name or "")
        if name is None or archive is None:
            return
        expires = int(sandbox.clock.now() + sandbox.batch_result_ttl)
        archive.signed.add(expires)
        batch.response_body_url = (
            f"{sandbox.public_base_url}/_batch-results/{name}"
            f"?AWSAccessKeyId=SANDBOX&Expires={expires}&Signature=sandbox"
        )

    def delete_results(self, batch_id: str) -> None:
        """Mailchimp deleting a batch's old results (mailchimp/mc-magento2#821): its archive
        answers 404 ``NoSuchKey`` from now on, whatever URL."""
        with self.sandbox.state.lock:
            self._archives.pop(self._names.get(batch_id, ""), None)

    async def _execute(self, data: AccountData, operation: BatchOperation) -> BatchResult:
        sandbox = self.sandbox
        path = operation.path if operation.path.startswith("/") else f"/{operation.path}"
        query = _query(operation.params)
        body: Any = None
        result: ApiResult
        with sandbox.state.lock:
            forced = sandbox.faults.batch_operation_status(data.account.id, operation.operation_id)
        try:
            body = json_body.loads(operation.body) if operation.body else None
        except ValueError:
            error = json_parse_error()
            result = ApiResult(error.status, error.document(), problem=True)
        else:
            if forced is not None:
                error = internal_error() if forced >= 500 else too_many_requests("Slow down.")
                result = ApiResult(forced, {**error.document(), "status": forced}, problem=True)
            else:
                result = await sandbox.router.call(
                    ApiRequest(
                        sandbox=sandbox,
                        account=data,
                        method=operation.method,
                        path=path,
                        query=query,
                        body=body,
                        via="batch",
                    )
                )
        with sandbox.state.lock:
            sandbox.state.request_log.append(
                LoggedRequest(
                    method=operation.method,
                    path=path,
                    query=query,
                    body=body,
                    status=result.status,
                    account_id=data.account.id,
                    via="batch",
                    at=sandbox.clock.now(),
                )
            )
        # orjson: the same JSON, ten times faster than the standard library's encoder.
        response = "" if result.body is None else json_body.dumps(result.body)
        return BatchResult(
            status_code=result.status, operation_id=operation.operation_id, response=response
        )

    async def _preprocess(self, batch: Batch) -> None:
        """Mailchimp's ``preprocessing`` (its operations were checked at ``POST``): one turn of
        the event loop, in which a client may see it."""
        await asyncio.sleep(0)

    async def _finalize(self, batch: Batch) -> bytes:
        """Mailchimp's ``finalizing``: the results archived, after a turn of the event loop in
        which a client may see the status with no ``response_body_url`` yet."""
        await asyncio.sleep(0)
        return self._archive(batch)

    def _archive(self, batch: Batch) -> bytes:
        buffer = io.BytesIO()
        # The fastest gzip level: how hard the archive is squeezed is invisible to a client
        # (tarfile's default, 9, was a tenth of this sandbox's CPU in an initial sync).
        with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
            chunks = [
                batch.results[i : i + RESULTS_PER_FILE]
                for i in range(0, len(batch.results), RESULTS_PER_FILE)
            ] or [[]]
            for index, chunk in enumerate(chunks):
                raw = orjson.dumps(
                    [
                        {
                            "status_code": r.status_code,
                            "operation_id": r.operation_id,
                            "response": r.response,
                        }
                        for r in chunk
                    ]
                )
                info = tarfile.TarInfo(name=f"{batch.id}-{index}.json")
                info.size = len(raw)
                info.mtime = int(self.sandbox.clock.now())
                tar.addfile(info, io.BytesIO(raw))
        return buffer.getvalue()

    def serve_archive(self, name: str, expires: str | None) -> Response:
        archive = self._archives.get(name)
        if archive is None:
            return Response(S3_NO_KEY, status_code=404, media_type="application/xml")
        try:
            until = int(expires or "")
        except ValueError:
            until = None
        if until is None or until not in archive.signed:
            return Response(S3_UNSIGNED, status_code=403, media_type="application/xml")
        if self.sandbox.clock.now() >= until:
            return Response(S3_EXPIRED, status_code=403, media_type="application/xml")
        return Response(archive.content, media_type="application/x-gzip")
