"""The GraphQL API of ``SaleorSandbox``: a request parsed, validated (once per document) and
executed with the sandbox's executor, answered and its errors formatted as Saleor would, and the
events its mutations queued emitted."""

from __future__ import annotations

import inspect
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    validate,
    visit,
)
from graphql.language import Visitor

from .context import ApiContext
from .executor import SandboxExecutor
from .models import SandboxApp
from .permissions import Viewer
from .query_cost import MAXIMUM_COST, query_cost
from .reading import default_resolver
from .sandbox_base import is_coroutine
from .sandbox_tokens import SandboxTokens
from .sandbox_webhooks import SandboxWebhooks
from .schema import sandbox_schema


class SandboxApi(SandboxTokens, SandboxWebhooks):
    """The GraphQL API: a request executed as Saleor would, then its events emitted."""

    # -- GraphQL ------------------------------------------------------------------------------

    async def handle_graphql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
        *,
        token: str | None = None,
        viewer: Viewer | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Execute a GraphQL request; return ``(http_status, response_body)`` as Saleor would."""
        try:
            document, errors = _checked(query, self.version)
        except GraphQLError as exc:
            return 400, {"errors": [_format_error(exc)]}
        if errors:
            return 400, {"errors": [_format_error(e) for e in errors]}
        cost = query_cost(sandbox_schema(self.version), document, variables)
        if cost > MAXIMUM_COST:  # `query_cost.py`: refused before it runs
            extensions = {"cost": {"requestedQueryCost": cost, "maximumAvailable": MAXIMUM_COST}}
            message = f"The query exceeds the maximum cost of {MAXIMUM_COST}. Actual cost is {cost}"
            error = GraphQLError(message, extensions=extensions)
            return 400, {"errors": [_format_error(error)], "extensions": extensions}
        context = ApiContext(
            self.store, viewer or self.viewer_for_token(token), saleor_version=self.version
        )
        result = execute(
            sandbox_schema(self.version),
            document,
            variable_values=variables,
            operation_name=operation_name,
            context_value=context,
            field_resolver=default_resolver,
            is_awaitable=is_coroutine,
            executor_class=SandboxExecutor,
        )
        if inspect.isawaitable(result):
            result = await result
        assert isinstance(result, ExecutionResult)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [_format_error(e) for e in result.errors]
        # Each payload names who made the request (`Event.issuingPrincipal`: the requestor of
        # the request's context, saleor/graphql/webhook/subscription_types.py; the webhook
        # plugin passes it to every delivery, saleor/plugins/webhook/plugin.py): the app or
        # customer of the token, nobody for an anonymous request (staff users are no
        # customers here, so none either).
        principal = context.viewer.app or context.viewer.user
        for event_type, obj in context.pending_events:
            await self.emit(event_type, obj, issuing_principal=principal)
        return 200, body

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        app: SandboxApp | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """Run a GraphQL document in-process as ``app`` (or with ``token``); return the body."""
        viewer = Viewer.for_app(app) if app is not None else None
        _, body = await self.handle_graphql(query, variables, token=token, viewer=viewer)
        return body


@lru_cache(maxsize=256)
def _checked(query: str, version: str) -> tuple[DocumentNode, tuple[GraphQLError, ...]]:
    """A query's document and its validation errors against the version's schema: the same
    text always gives the same answer, and an app sends the same few documents again and
    again, so each is parsed and validated once (a parse error is raised, not kept)."""
    document = parse(query)
    errors = validate(sandbox_schema(version), document)
    mutations = sum(
        len(node.selection_set.selections)
        for node in document.definitions
        if isinstance(node, OperationDefinitionNode) and node.operation is OperationType.MUTATION
    )
    if mutations > MUTATION_COUNT_LIMIT:
        errors.append(
            GraphQLError(f"Number of mutations exceed the limit of {MUTATION_COUNT_LIMIT}")
        )
    if _alias_count(document) > ALIAS_COUNT_LIMIT:
        errors.append(GraphQLError(f"Number of aliases exceed the limit of {ALIAS_COUNT_LIMIT}"))
    return document, tuple(errors)


def _alias_count(document: DocumentNode) -> int:
    """The aliased fields of the whole document, its fragments' counted once each."""
    counter = _AliasCounter()
    visit(document, counter)
    return counter.seen


class _AliasCounter(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.seen = 0

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.alias is not None:
            self.seen += 1


# Saleor refuses a document whose mutation operations have more top-level fields (aliases
# count) than GRAPHQL_MUTATION_COUNT_LIMIT, 4 unless its operator sets it: MutationCountLimitRule
# (saleor/graphql/core/validators/mutation_count_limit_rule.py), among validate_query's rules
# since 3.20.118 (saleor/settings.py), so on every version the sandbox plays; the request is
# answered as invalid (HTTP 400, saleor/graphql/views.py).
MUTATION_COUNT_LIMIT = 4
# And one with more aliased fields, wherever they are (fragments, nested selections), than
# GRAPHQL_ALIAS_COUNT_LIMIT, 100 by default: AliasCountLimitRule
# (saleor/graphql/core/validators/alias_count_limit_rule.py, `enter_Field` counts each field
# with an alias, `leave_Document` refuses "Number of aliases exceed the limit of 100"), among
# the same rules at tag 3.20.119 and commit 723cd4e.
ALIAS_COUNT_LIMIT = 100


def _format_error(error: GraphQLError) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    extensions = dict(formatted.get("extensions") or {})
    extensions.setdefault("exception", {"code": "GraphQLError"})
    formatted["extensions"] = extensions
    return formatted
