"""Batch operations (``POST /batches``) built from request models, and the parsing of a
batch's results archive (``response_body_url``).

Mailchimp stores the results of ``POST /batches`` as a gzipped tar of JSON files; each file
holds an array of ``{"status_code", "operation_id", "response"}`` where ``response`` is the
operation's response body as a JSON-encoded string.
"""

from __future__ import annotations

import io
import tarfile
from typing import Any

import orjson

from . import paths
from .ecommerce_models import (
    CustomerInput,
    OrderInput,
    OrderPatch,
    ProductInput,
    ProductPatch,
    ProductVariantInput,
)
from .errors import TransientError
from .models import (
    BatchOperation,
    BatchOperationResult,
)

Body = dict[str, Any]

__all__ = [
    "create_order",
    "create_product",
    "parse_batch_results",
    "update_order",
    "update_product",
    "upsert_customer",
    "upsert_product_variant",
]


# `dumped`: the body's `body()` when the caller has made it already (for its fingerprint too):
# dumping a body is most of the cost of encoding it.


def create_product(
    store_id: str, product: ProductInput, *, operation_id: str, dumped: Body | None = None
) -> BatchOperation:
    body = product if dumped is None else dumped
    return BatchOperation.of(
        "POST", paths.in_store(store_id, "products"), body, operation_id=operation_id
    )


def update_product(
    store_id: str, product_id: str, patch: ProductPatch, *, operation_id: str
) -> BatchOperation:
    path = paths.in_store(store_id, "products", product_id)
    return BatchOperation.of("PATCH", path, patch, operation_id=operation_id)


def upsert_product_variant(
    store_id: str, product_id: str, variant: ProductVariantInput, *, operation_id: str
) -> BatchOperation:
    path = paths.variant(store_id, product_id, variant.id)
    return BatchOperation.of("PUT", path, variant, operation_id=operation_id)


def upsert_customer(
    store_id: str, customer: CustomerInput, *, operation_id: str, dumped: Body | None = None
) -> BatchOperation:
    path = paths.in_store(store_id, "customers", customer.id)
    body = customer if dumped is None else dumped
    return BatchOperation.of("PUT", path, body, operation_id=operation_id)


def create_order(
    store_id: str, order: OrderInput, *, operation_id: str, dumped: Body | None = None
) -> BatchOperation:
    body = order if dumped is None else dumped
    return BatchOperation.of(
        "POST", paths.in_store(store_id, "orders"), body, operation_id=operation_id
    )


def update_order(
    store_id: str, order_id: str, patch: OrderPatch, *, operation_id: str
) -> BatchOperation:
    path = paths.in_store(store_id, "orders", order_id)
    return BatchOperation.of("PATCH", path, patch, operation_id=operation_id)


def parse_batch_results(archive: bytes) -> list[BatchOperationResult]:
    """Parse a gzipped tar of batch results into :class:`BatchOperationResult` objects."""
    results: list[BatchOperationResult] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
            for member in tar:
                if not member.isfile() or not member.name.endswith(".json"):
                    continue
                handle = tar.extractfile(member)
                if handle is None:  # pragma: no cover - isfile() guarantees a handle
                    continue
                entries = orjson.loads(handle.read() or b"[]")
                if isinstance(entries, dict):
                    entries = [entries]
                for entry in entries:
                    results.append(
                        BatchOperationResult(
                            status_code=int(entry.get("status_code", 0)),
                            operation_id=entry.get("operation_id"),
                            body=entry.get("response"),
                        )
                    )
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise TransientError(
            f"The batch results archive could not be read ({type(exc).__name__})."
        ) from exc
    return results
