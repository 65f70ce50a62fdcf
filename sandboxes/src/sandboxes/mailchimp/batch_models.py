"""A batch of ``POST /batches``: its operations as submitted, and their results."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from .bodies import BodyIn, refuse_null
from .models import OmitsUnset, omitted_when_unset

BatchStatus = Literal["pending", "preprocessing", "started", "finalizing", "finished"]


class BatchOperation(BodyIn):
    """One operation of ``POST /batches``, validated as it is submitted (strictly, as the
    spec's `postBatches_request.operations` types it) and kept as it is."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str
    params: dict[str, Any] = Field(default_factory=dict)
    body: str = ""
    operation_id: str | None = None
    _null = refuse_null("operation_id")


class BatchResult(BaseModel):
    status_code: int
    operation_id: str | None
    response: str


class Batch(OmitsUnset):
    omit_when_unset = ("completed_at",)

    id: str
    status: BatchStatus = "pending"
    total_operations: int
    finished_operations: int = 0
    errored_operations: int = 0
    submitted_at: str
    completed_at: str = omitted_when_unset()
    response_body_url: str = ""
    operations: list[BatchOperation] = Field(default_factory=list, exclude=True)
    results: list[BatchResult] = Field(default_factory=list, exclude=True)
    cancelled: bool = Field(default=False, exclude=True)
