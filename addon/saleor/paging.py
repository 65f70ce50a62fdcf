"""A Saleor connection read a page at a time, by its cursor (`pageInfo` of the `NextPage`
fragment), with the app's one Saleor client: the loop every paged read would otherwise write
again.

Saleor pages forward with `first` (at most `PAGINATION_LIMIT`) and `after`, and refuses `last`
or `before` beside them (saleor/graphql/core/connection.py: `_validate_slice_args` asserts
`first <= settings.GRAPHQL_PAGINATION_LIMIT`, 100 in saleor/settings.py;
`_validate_connection_args` refuses `first` with `last` or `before`, and `last` with `after`;
the same at 3.20.119). A `Pager` refuses such variables before asking: Saleor would refuse
every request, each one a failed job. A connection's `hasNextPage` is whether more than `first`
items follow the cursor (`_get_page_info`), so a page that says so has edges, and an
`endCursor` to read on after.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from addon.saleor.client import SaleorClient, SaleorError

PAGINATION_LIMIT = 100  # Saleor's GRAPHQL_PAGINATION_LIMIT: the largest `first`

_M = TypeVar("_M", bound=BaseModel)


class _PageInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    has_next_page: bool = Field(False, alias="hasNextPage")
    end_cursor: str | None = Field(None, alias="endCursor")


class _Edge(BaseModel):
    model_config = ConfigDict(extra="ignore")

    node: dict[str, Any]


class _Connection(BaseModel):
    """A connection as the documents select it; one Saleor answers null (a nullable field, an
    object not found) reads as an empty last page."""

    model_config = ConfigDict(extra="ignore")

    edges: list[_Edge] = []
    page_info: _PageInfo = Field(default_factory=_PageInfo, alias="pageInfo")
    total_count: int | None = Field(None, alias="totalCount")


@dataclass(frozen=True)
class Page:
    nodes: list[dict[str, Any]]
    # Where the next page starts: the page's `endCursor`, or the cursor it was read after when
    # it has none (an empty page), so a position kept between jobs is never lost.
    end_cursor: str | None
    has_next: bool
    total: int | None  # `totalCount`, where the document selects it
    answer: dict[str, Any]  # the whole `data`: what the document reads beside the connection


def _connection(data: Mapping[str, Any], field: str) -> Mapping[str, Any] | None:
    """The value at `field`, a dotted path for a connection inside an object (`voucher.codes`);
    None where any of it is null."""
    value: Any = data
    for name in field.split("."):
        value = value.get(name) if isinstance(value, Mapping) else None
    return value if isinstance(value, Mapping) else None


async def read_page(
    saleor: SaleorClient,
    api_url: str,
    token: SecretStr,
    document: str,
    field: str,
    variables: Mapping[str, Any],
    after: str | None,
    *,
    notify_refusal: bool = True,
) -> Page:
    """One page of the connection at `field` that `document` reads, after `after`."""
    data = await saleor.execute(
        api_url, token, document, {**variables, "after": after}, notify_refusal=notify_refusal
    )
    try:
        found = _Connection.model_validate(_connection(data, field) or {})
    except ValidationError as exc:
        raise SaleorError(
            f"Saleor's {field} in {document} is not a connection ({exc.error_count()} problems)"
        ) from exc
    info = found.page_info
    if info.has_next_page and info.end_cursor is None:
        # Saleor never answers so (see the module's docstring); read on, it would be the same
        # page again and again.
        raise SaleorError(f"Saleor's {field} in {document} has a next page but no endCursor")
    return Page(
        nodes=[edge.node for edge in found.edges],
        end_cursor=info.end_cursor or after,
        has_next=info.has_next_page,
        total=found.total_count,
        answer=data,
    )


class Pager:
    """The pages of a connection from `after` (None: its start), `max_pages` at most (None: to
    its last page). While and after reading, `after` is where the next page starts and `more`
    whether the connection goes on: a job that stops (at `max_pages`, or by leaving the loop)
    keeps them to go on from there later. Iterated again, it reads on from `after`."""

    def __init__(
        self,
        saleor: SaleorClient,
        api_url: str,
        token: SecretStr,
        document: str,
        field: str,
        variables: Mapping[str, Any],
        *,
        after: str | None = None,
        max_pages: int | None = None,
        notify_refusal: bool = True,
    ) -> None:
        _check_forward(variables)
        self._read = (saleor, api_url, token, document, field)
        self._variables = dict(variables)
        self._notify = notify_refusal
        self.max_pages = max_pages
        self.after = after
        self.more = True

    async def __aiter__(self) -> AsyncIterator[Page]:
        read = 0
        while self.more and (self.max_pages is None or read < self.max_pages):
            page = await read_page(
                *self._read, self._variables, self.after, notify_refusal=self._notify
            )
            read += 1
            self.after, self.more = page.end_cursor, page.has_next
            yield page


def _check_forward(variables: Mapping[str, Any]) -> None:
    """What Saleor would refuse of every page (see the module's docstring), refused now."""
    first = variables.get("first")
    if first is not None and not 0 < first <= PAGINATION_LIMIT:
        raise ValueError(f"Saleor pages `first` 1 to {PAGINATION_LIMIT} at a time, not {first}")
    for name in ("last", "before", "after"):
        if variables.get(name) is not None:
            raise ValueError(f"A Pager reads forward from its own `after`, not with `{name}`")


async def read_all(
    saleor: SaleorClient,
    api_url: str,
    token: SecretStr,
    document: str,
    field: str,
    model: type[_M],
    variables: Mapping[str, Any] | None = None,
) -> list[_M]:
    """Every node of a small connection (settings, types: a few pages at most), each as
    `model`, read `PAGINATION_LIMIT` a page unless `variables` say otherwise."""
    pager = Pager(
        saleor, api_url, token, document, field, {"first": PAGINATION_LIMIT, **(variables or {})}
    )
    return [model.model_validate(node) async for page in pager for node in page.nodes]


__all__ = ["PAGINATION_LIMIT", "Page", "Pager", "read_all", "read_page"]
