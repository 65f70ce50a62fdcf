"""The README's table of features by minimum Saleor version is `compatibility_table()`, and each
feature's documents validate against the schema of every contract version it claims."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest
from graphql import GraphQLSchema, parse, validate

from addon.saleor.versions import (
    FEATURES,
    OLDEST_SUPPORTED,
    Feature,
    SaleorVersion,
    compatibility_table,
)

from .saleor import REPO_ROOT, oldest_saleor_schema, saleor_schema
from .test_saleor_documents import document_as_sent, project_documents

# The contract schemas and the versions they are (shared/contracts/README.md).
CONTRACTS: dict[SaleorVersion, Callable[[], GraphQLSchema]] = {
    SaleorVersion(3, 20, 119): oldest_saleor_schema,
    SaleorVersion(3, 24, 0): saleor_schema,
}


def _errors(name: str, schema: GraphQLSchema) -> list[str]:
    source = document_as_sent(REPO_ROOT / name)
    assert source is not None, f"{name} is not an operation document"
    return [error.message for error in validate(schema, parse(source))]


def test_the_readme_shows_the_table() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert compatibility_table() in readme


def test_every_document_the_app_sends_belongs_to_one_feature() -> None:
    claimed = Counter(name for feature in FEATURES for name in feature.documents)
    assert [name for name, count in claimed.items() if count > 1] == []
    sent = {
        str(path.relative_to(REPO_ROOT))
        for path in project_documents()
        if document_as_sent(path) is not None
        and not str(path.relative_to(REPO_ROOT)).startswith("sandboxes/src/sandboxes/")
    }
    assert sent == set(claimed)


@pytest.mark.parametrize("feature", FEATURES, ids=lambda feature: feature.name)
def test_each_feature_runs_on_the_versions_it_claims(feature: Feature) -> None:
    for version, schema in CONTRACTS.items():
        if version < feature.minimum:
            continue
        for name in feature.documents:
            assert _errors(name, schema()) == [], f"{name} on Saleor {version}"


@pytest.mark.parametrize(
    "feature",
    [feature for feature in FEATURES if feature.minimum > OLDEST_SUPPORTED],
    ids=lambda feature: feature.name,
)
def test_a_newer_minimum_is_real_and_older_versions_are_explained(feature: Feature) -> None:
    """A feature claimed from a later version either does not validate on 3.20 (the schema
    shows the minimum) or depends on behaviour, and then cites the Saleor change."""
    assert feature.older, "say what happens on older versions"
    oldest = oldest_saleor_schema()
    invalid = [name for name in feature.documents if _errors(name, oldest)]
    if not invalid:
        assert "saleor/saleor#" in feature.older, "a behavioural minimum cites Saleor's change"
