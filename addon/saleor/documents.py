"""The app's GraphQL documents, kept as `.graphql` files so tests validate each against Saleor.

An operation in `queries/<name>.graphql` may spread fragments kept in
`queries/fragments/<FragmentName>.graphql` (one fragment per file), so live and initial sync
select the same fields by construction. `load_document` adds the fragments an operation spreads,
transitively.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    DefinitionNode,
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

QUERIES_DIR = Path(__file__).resolve().parent / "queries"
FRAGMENTS_DIR = QUERIES_DIR / "fragments"


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        self.names.add(node.name.value)


def _spread_names(document: DocumentNode) -> set[str]:
    spreads = _Spreads()
    visit(document, spreads)
    return spreads.names


@cache
def _fragment(name: str) -> DocumentNode:
    path = FRAGMENTS_DIR / f"{name}.graphql"
    if not path.exists():
        raise LookupError(f"no shared fragment {name!r} ({path})")
    return parse(path.read_text())


@cache
def load_document(name: str) -> DocumentNode:
    """Parse `queries/<name>.graphql` once, with the shared fragments it spreads."""
    document = parse((QUERIES_DIR / f"{name}.graphql").read_text())
    definitions: list[DefinitionNode] = list(document.definitions)
    defined = {d.name.value for d in definitions if isinstance(d, FragmentDefinitionNode)}
    pending = sorted(_spread_names(document) - defined)
    while pending:
        fragment = pending.pop()
        if fragment in defined:
            continue
        shared = _fragment(fragment)
        definitions.extend(shared.definitions)
        defined.add(fragment)
        pending.extend(sorted(_spread_names(shared) - defined))
    return DocumentNode(definitions=tuple(definitions))


@cache
def printed_document(name: str) -> str:
    """`load_document(name)` as the query text sent to Saleor, printed once (gql prints the
    document for every request: 3 % of the worker's CPU in an initial sync)."""
    return print_ast(load_document(name))
