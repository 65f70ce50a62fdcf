"""The app's GraphQL documents, kept as `.graphql` files so tests validate each against Saleor."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from graphql import DocumentNode, parse

QUERIES_DIR = Path(__file__).resolve().parent / "queries"


@cache
def load_document(name: str) -> DocumentNode:
    """Parse `queries/<name>.graphql` once."""
    return parse((QUERIES_DIR / f"{name}.graphql").read_text())
