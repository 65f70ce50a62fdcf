"""The import contracts of pyproject.toml ([tool.importlinter]) hold, and would catch a cycle.

`lint-imports` is the command a developer runs; the second half checks, on the app's real
import graph with one import added, that each contract breaks when it should (a contract that
cannot fail proves nothing).
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import grimp
import pytest
from importlinter import api
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.domain.contract import Contract

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"


def test_lint_imports_passes() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run(
        [str(lint_imports), "--no-cache", "--config", str(PYPROJECT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.fixture(scope="module")
def configuration() -> dict[str, Any]:
    return api.read_configuration(str(PYPROJECT))


def _contract(configuration: dict[str, Any], contract_id: str) -> Contract:
    [options] = [c for c in configuration["contracts_options"] if c.get("id") == contract_id]
    kind = {"acyclic_siblings": AcyclicSiblingsContract, "forbidden": ForbiddenContract}
    return kind[options["type"]](
        name=options["name"],
        session_options=configuration["session_options"],
        contract_options=options,
    )


@pytest.fixture(scope="module")
def app_graph() -> grimp.ImportGraph:
    # External packages (the sandboxes among them) appear as one module each, as in lint-imports.
    return grimp.build_graph("addon", cache_dir=None, include_external_packages=True)


def _kept(app_graph: grimp.ImportGraph, contract: Contract, *added: tuple[str, str]) -> bool:
    graph = copy.deepcopy(app_graph)  # checking a contract removes its ignored imports
    for importer, imported in added:
        graph.add_import(importer=importer, imported=imported)
    return contract.check(graph, verbose=False).kept


@pytest.mark.parametrize(
    ("contract_id", "importer", "imported"),
    [
        # saleor/ is the protocol: it may not use installations, which uses it.
        ("acyclic", "addon.saleor.client", "addon.installations.models"),
        # connection reacts to nothing of audiences (audiences react to its job).
        ("acyclic", "addon.connection.service", "addon.audiences.service"),
        # jobs is infrastructure: it knows no capability, nor the services handlers receive ...
        ("acyclic", "addon.jobs.repository", "addon.installations.models"),
        ("acyclic", "addon.jobs.worker", "addon.services"),
        # ... and initial sync builds on ecommerce (the E-commerce page asks through a port).
        ("acyclic", "addon.ecommerce.service", "addon.initial_sync.repository"),
        # a cycle between two modules of one package counts too.
        ("acyclic", "addon.ecommerce.models", "addon.ecommerce.sync"),
        ("composition-root", "addon.ecommerce.sync", "addon.capabilities"),
        ("protocols", "addon.mailchimp.client", "addon.connection.models"),
        ("no-sandbox", "addon.ecommerce.sync", "sandboxes"),
    ],
)
def test_each_contract_breaks_on_a_forbidden_import(
    configuration: dict[str, Any],
    app_graph: grimp.ImportGraph,
    contract_id: str,
    importer: str,
    imported: str,
) -> None:
    contract = _contract(configuration, contract_id)
    assert _kept(app_graph, contract)
    assert not _kept(app_graph, contract, (importer, imported))
