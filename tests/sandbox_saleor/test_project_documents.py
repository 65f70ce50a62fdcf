"""The sandbox can serve every GraphQL document the app sends or subscribes with.

If this fails, the app started using a Saleor field the sandbox does not implement yet: add it
to ``sandboxes/src/sandboxes/saleor/schema.graphql`` (and a resolver if needed).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse, validate

from sandboxes.saleor.schema import sandbox_schema
from tests.contracts.saleor import REPO_ROOT
from tests.contracts.test_saleor_documents import document_as_sent, project_documents

DOCUMENTS = [p for p in project_documents() if document_as_sent(p) is not None]


@pytest.mark.parametrize("path", DOCUMENTS, ids=[str(p.relative_to(REPO_ROOT)) for p in DOCUMENTS])
def test_sandbox_supports_project_document(path: Path) -> None:
    source = document_as_sent(path)
    assert source is not None
    errors = validate(sandbox_schema(), parse(source))
    assert not errors, f"{path.name}: " + "; ".join(e.message for e in errors)
