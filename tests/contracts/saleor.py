"""Helpers to check GraphQL documents and schemas against Saleor's official schema.

Saleor's schema (``saleor-schema.graphql``, ~1 MB) lives in the shared contracts directory next
to the repository (``<repo>/../shared/contracts``, overridable with ``SHARED_DIR``). It is read
at test time and never copied into the project.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate
from graphql.error import GraphQLSyntaxError

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_contracts_dir() -> Path:
    """The directory holding the official contracts (``$SHARED_DIR/contracts`` if set)."""
    shared = os.environ.get("SHARED_DIR")
    base = Path(shared) if shared else REPO_ROOT.parent / "shared"
    return base / "contracts"


def saleor_schema_path() -> Path:
    return shared_contracts_dir() / "saleor-schema.graphql"


@cache
def saleor_schema() -> GraphQLSchema:
    """Saleor's official schema, built once per test session (skips if it is unavailable)."""
    path = saleor_schema_path()
    if not path.is_file():
        pytest.skip(f"Saleor's schema is not available at {path}")
    return build_schema(path.read_text(encoding="utf-8"))


OLDEST_SUPPORTED = "3.20"
"""The oldest Saleor the manifest accepts (`requiredSaleorVersion`); its schema is a contract."""


@cache
def oldest_saleor_schema() -> GraphQLSchema:
    """The schema of the oldest supported Saleor (skips if it is unavailable)."""
    path = shared_contracts_dir() / f"saleor-schema-{OLDEST_SUPPORTED}.graphql"
    if not path.is_file():
        pytest.skip(f"Saleor {OLDEST_SUPPORTED}'s schema is not available at {path}")
    return build_schema(path.read_text(encoding="utf-8"))


def assert_valid_document(source: str, name: str, *, oldest: bool = False) -> None:
    """Fail with a readable message if ``source`` is not a valid document for Saleor's schema
    (with ``oldest``, the schema of the oldest supported Saleor)."""
    try:
        document = parse(source)
    except GraphQLSyntaxError as exc:
        pytest.fail(f"{name}: GraphQL syntax error: {exc.message} at {exc.locations}")
    schema, which = (
        (oldest_saleor_schema(), f"Saleor {OLDEST_SUPPORTED}'s schema")
        if oldest
        else (saleor_schema(), "Saleor's schema")
    )
    errors = validate(schema, document)
    if errors:
        lines = []
        for error in errors:
            where = ", ".join(f"line {loc.line} col {loc.column}" for loc in error.locations or [])
            lines.append(f"  - {error.message}" + (f" ({where})" if where else ""))
        pytest.fail(f"{name} is not valid against {which}:\n" + "\n".join(lines))
