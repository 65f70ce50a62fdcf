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


def assert_valid_document(source: str, name: str) -> None:
    """Fail with a readable message if ``source`` is not a valid document for Saleor's schema."""
    try:
        document = parse(source)
    except GraphQLSyntaxError as exc:
        pytest.fail(f"{name}: GraphQL syntax error: {exc.message} at {exc.locations}")
    errors = validate(saleor_schema(), document)
    if errors:
        lines = []
        for error in errors:
            where = ", ".join(f"line {loc.line} col {loc.column}" for loc in error.locations or [])
            lines.append(f"  - {error.message}" + (f" ({where})" if where else ""))
        pytest.fail(f"{name} is not valid against Saleor's schema:\n" + "\n".join(lines))
