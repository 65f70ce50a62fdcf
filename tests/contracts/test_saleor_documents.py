"""Every GraphQL document the project sends, and the sandbox's schema, agree with Saleor's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    build_schema,
    parse,
    print_ast,
)
from graphql.language import DocumentNode, ExecutableDefinitionNode

from addon.saleor.documents import FRAGMENTS_DIR, QUERIES_DIR, load_document
from sandboxes.saleor.documents import SANDBOX_DOCUMENTS
from sandboxes.saleor.schema import SCHEMA_PATH

from .saleor import REPO_ROOT, assert_valid_document, saleor_schema

DOCUMENT_ROOTS = ("webhooks", "addon")


def _is_executable(document: DocumentNode) -> bool:
    return all(isinstance(d, ExecutableDefinitionNode) for d in document.definitions)


def project_documents() -> Iterator[Path]:
    """All ``.graphql`` files of the project holding operations (type definitions excluded)."""
    for root in DOCUMENT_ROOTS:
        for path in sorted((REPO_ROOT / root).rglob("*.graphql")):
            if ".venv" in path.parts or path.resolve() == SCHEMA_PATH.resolve():
                continue
            yield path


def document_as_sent(path: Path) -> str | None:
    """The operation document in `path` as the app sends it (queries with their shared
    fragments); None for a shared fragment (checked in every document that spreads it) or a
    schema definition file."""
    if path.parent == FRAGMENTS_DIR:
        return None
    source = path.read_text(encoding="utf-8")
    if not _is_executable(parse(source)):
        return None
    return print_ast(load_document(path.stem)) if path.parent == QUERIES_DIR else source


def _document_params() -> list[object]:
    params: list[object] = [
        pytest.param(path, id=str(path.relative_to(REPO_ROOT))) for path in project_documents()
    ]
    return params or [pytest.param(None, id="no-documents-yet")]


@pytest.mark.parametrize("path", _document_params())
def test_project_document_is_valid_against_saleor(path: Path | None) -> None:
    if path is None:
        pytest.skip("no .graphql documents in the project yet")
    source = document_as_sent(path)
    if source is None:
        pytest.skip("a shared fragment (validated where it is spread) or a schema file")
    assert_valid_document(source, str(path.relative_to(REPO_ROOT)))


# Documents that need a newer Saleor than the oldest supported one (strict xfail: remove an entry
# once it validates). `orders(where:)` exists since 3.22; the initial sync's optional "orders
# since a date" sends it only to a Saleor reporting 3.22 or later (initial_sync_orders_since_day
# serves older ones; see tests/contracts/test_compatibility_table.py).
NEEDS_NEWER_SALEOR = {
    "addon/saleor/queries/initial_sync_orders_since.graphql": "3.22",
    # `OrderLine.discounts` (3.21+): sent only to a Saleor reporting it (`versions.order_document`).
    "addon/saleor/queries/ecommerce_order_line_discounts.graphql": "3.21",
    "addon/saleor/queries/ecommerce_orders_by_ids_line_discounts.graphql": "3.21",
    "addon/saleor/queries/initial_sync_orders_line_discounts.graphql": "3.21",
    "addon/saleor/queries/initial_sync_orders_since_day_line_discounts.graphql": "3.21",
    # Registered by the app itself on 3.23.5 and later (addon/installations/webhook_upkeep.py).
    "webhooks/registered/erasure_customer_deleted.graphql": "3.23.5",
    "webhooks/registered/ecommerce_discounted_prices.graphql": "3.23.0",
    "webhooks/registered/ecommerce_checkouts_authorized.graphql": "3.22.0",
}


def _oldest_params() -> list[object]:
    params: list[object] = []
    for path in project_documents():
        name = str(path.relative_to(REPO_ROOT))
        needs = NEEDS_NEWER_SALEOR.get(name)
        marks = [pytest.mark.xfail(strict=True, reason=f"needs Saleor {needs}")] if needs else []
        params.append(pytest.param(path, id=name, marks=marks))
    return params or [pytest.param(None, id="no-documents-yet")]


@pytest.mark.parametrize("path", _oldest_params())
def test_project_document_is_valid_against_the_oldest_supported_saleor(path: Path | None) -> None:
    """The manifest accepts Saleor 3.20: every document must run there too."""
    if path is None:
        pytest.skip("no .graphql documents in the project yet")
    source = document_as_sent(path)
    if source is None:
        pytest.skip("a shared fragment (validated where it is spread) or a schema file")
    assert_valid_document(source, str(path.relative_to(REPO_ROOT)), oldest=True)


def test_every_shared_fragment_is_spread_by_a_document() -> None:
    """A fragment no document uses would never be validated (nor sent)."""
    used = {
        definition.name.value
        for path in QUERIES_DIR.glob("*.graphql")
        for definition in load_document(path.stem).definitions
        if definition.kind == "fragment_definition"
    }
    shared = {path.stem for path in FRAGMENTS_DIR.glob("*.graphql")}
    assert shared and shared <= used, shared - used


@pytest.mark.parametrize("name", sorted(SANDBOX_DOCUMENTS))
def test_sandbox_document_is_valid_against_saleor(name: str) -> None:
    assert_valid_document(SANDBOX_DOCUMENTS[name], f"sandbox document {name}")


def test_sandbox_schema_is_a_subset_of_saleors() -> None:
    ours = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
    theirs = saleor_schema()
    problems: list[str] = []
    for name, our_type in ours.type_map.items():
        if name.startswith("__"):
            continue
        their_type = theirs.type_map.get(name)
        if their_type is None:
            problems.append(f"type {name} does not exist in Saleor")
            continue
        if type(our_type) is not type(their_type):
            problems.append(
                f"{name} is a {type(our_type).__name__} here but a {type(their_type).__name__}"
            )
            continue
        if isinstance(our_type, GraphQLScalarType):
            continue
        if isinstance(our_type, GraphQLEnumType):
            assert isinstance(their_type, GraphQLEnumType)
            problems += [
                f"enum value {name}.{value} does not exist in Saleor"
                for value in our_type.values
                if value not in their_type.values
            ]
            continue
        if isinstance(our_type, GraphQLUnionType):
            assert isinstance(their_type, GraphQLUnionType)
            their_members = {t.name for t in their_type.types}
            problems += [
                f"union {name} has no member {t.name} in Saleor"
                for t in our_type.types
                if t.name not in their_members
            ]
            continue
        if isinstance(our_type, GraphQLObjectType | GraphQLInterfaceType):
            assert isinstance(their_type, GraphQLObjectType | GraphQLInterfaceType)
            their_interfaces = {i.name for i in their_type.interfaces}
            problems += [
                f"{name} does not implement {i.name} in Saleor"
                for i in our_type.interfaces
                if i.name not in their_interfaces
            ]
        assert isinstance(
            our_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
        )
        assert isinstance(
            their_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
        )
        for field_name, field in our_type.fields.items():
            their_field = their_type.fields.get(field_name)
            if their_field is None:
                problems.append(f"field {name}.{field_name} does not exist in Saleor")
                continue
            if str(field.type) != str(their_field.type):
                problems.append(
                    f"field {name}.{field_name} is {field.type} here but {their_field.type}"
                )
            our_args = getattr(field, "args", {}) or {}
            their_args = getattr(their_field, "args", {}) or {}
            for arg_name, arg in our_args.items():
                their_arg = their_args.get(arg_name)
                if their_arg is None:
                    problems.append(f"argument {name}.{field_name}({arg_name}) not in Saleor")
                elif str(arg.type) != str(their_arg.type):
                    problems.append(
                        f"argument {name}.{field_name}({arg_name}) is {arg.type} here "
                        f"but {their_arg.type}"
                    )
    assert not problems, "Sandbox schema deviates from Saleor's:\n" + "\n".join(problems)
