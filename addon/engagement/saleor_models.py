"""Saleor's answers to engagement's documents (addon/saleor/queries/engagement_*.graphql),
parsed at the boundary: the collector and the metadata writer read these models, not dicts.

A shape Saleor's schema does not allow (a missing `id`, `errors` not a list) is Saleor's fault,
not the run's data: it is raised as a :class:`SaleorError`, which the job's retry policy knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from addon.saleor.client import SaleorError

__all__ = [
    "CustomersAnswer",
    "MetadataWrite",
    "parse",
    "parse_writes",
]


class _Saleor(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class _PageInfo(_Saleor):
    has_next_page: bool = Field(alias="hasNextPage")
    end_cursor: str | None = Field(None, alias="endCursor")


class _Customer(_Saleor):
    id: str
    email: str  # `User.email: String!`


class _CustomerEdge(_Saleor):
    node: _Customer


class _Customers(_Saleor):
    page_info: _PageInfo = Field(alias="pageInfo")
    edges: list[_CustomerEdge]


class CustomersAnswer(_Saleor):
    """`engagement_customers`: a page of customers' ids and addresses (`customers` is
    nullable in Saleor's schema: None reads as an empty last page)."""

    customers: _Customers | None = None

    def pairs(self) -> list[tuple[str, str]]:
        """(customer id, address) of the page's customers that have an address."""
        if self.customers is None:
            return []
        return [(e.node.id, e.node.email) for e in self.customers.edges if e.node.email]


class _MetadataError(_Saleor):
    field: str | None = None
    message: str | None = None
    code: str  # `MetadataErrorCode!`


class MetadataWrite(_Saleor):
    """One `updatePrivateMetadata` of `engagement_write_metadata*` (`w<index>`)."""

    errors: list[_MetadataError]

    @property
    def not_found(self) -> bool:
        return any(e.code == "NOT_FOUND" for e in self.errors)


M = TypeVar("M", bound=BaseModel)
_WRITES: TypeAdapter[dict[str, MetadataWrite | None]] = TypeAdapter(dict[str, MetadataWrite | None])


def _refused(document: str, exc: ValidationError) -> SaleorError:
    return SaleorError(
        f"Saleor's answer to {document} did not have the expected shape "
        f"({exc.error_count()} problems)."
    )


def parse(model: type[M], document: str, data: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _refused(document, exc) from exc


def parse_writes(document: str, data: Mapping[str, Any]) -> dict[str, MetadataWrite | None]:
    """The answer of a metadata write, by alias (`w0`, `w1`, ...; None: that field failed)."""
    try:
        return _WRITES.validate_python(data)
    except ValidationError as exc:
        raise _refused(document, exc) from exc
