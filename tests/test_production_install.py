"""The steps of the Dockerfile, run here (no base image can be pulled on the project's machines):
build the app's wheel, install it into a fresh virtual environment with only its production
dependencies (no dev extras, no sandboxes), and run `addon migrate`, `addon serve` and
`addon worker` from it with production settings against PostgreSQL: `/readyz`, `/metrics`
(both processes counting into one multiprocess directory) and a signed webhook end to end.

Network-free: the dependencies are not downloaded but linked from this environment's
site-packages, only those the wheel's metadata requires (transitively, extras included as
required, dev extras left out), so an import of anything undeclared fails here as it would in
the image. PostgreSQL only (the image's database); a few seconds of process start-up.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import AsyncIterator, Iterator
from email.parser import Parser
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from addon.crypto import SecretBox
from addon.db.engine import Database
from addon.db.types import use_secret_box
from addon.installations.models import Installation
from addon.jobs.models import Job
from sandboxes.saleor import SigningKey
from tests.own_database import own_database

ROOT = Path(__file__).resolve().parent.parent
URL = os.environ.get("TEST_DATABASE_URL", "")
SECRET_KEY = "production-install-test-secret-key-0123456789"
TOKEN = "production-metrics-token"
SALEOR = "http://127.0.0.1:9/graphql/"  # never answers: the app must not need it here
PATIENCE = 120.0

pytestmark = pytest.mark.skipif(not URL.startswith("postgresql"), reason="PostgreSQL only")


def _requirements(requires: list[str], extras: set[str]) -> Iterator[Requirement]:
    for line in requires:
        requirement = Requirement(line)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": e}) for e in extras or {""}):
            yield requirement


def production_closure(requires: list[str]) -> dict[str, Distribution]:
    """The installed distributions `requires` needs, transitively (markers evaluated)."""
    found: dict[str, Distribution] = {}
    todo = list(_requirements(requires, set()))
    while todo:
        requirement = todo.pop()
        try:
            dist = distribution(requirement.name)
        except PackageNotFoundError:
            continue  # an optional dependency this platform's markers did not install
        name = dist.metadata["Name"].lower()
        key = f"{name}[{','.join(sorted(requirement.extras))}]"
        if key in found:
            continue
        found[key] = dist
        todo.extend(_requirements(dist.requires or [], set(requirement.extras)))
    return {key.split("[")[0]: dist for key, dist in found.items()}


def link_distribution(dist: Distribution, site: Path) -> None:
    """Make `dist` importable in `site` by linking its top-level files and directories."""
    base = Path(str(dist.locate_file("")))
    for top in {Path(str(f)).parts[0] for f in dist.files or []}:
        if top == ".." or top.endswith(".pth"):
            continue  # console scripts; path hooks (none of the production ones needs one)
        source, target = base / top, site / top
        if not target.exists():
            target.symlink_to(source)
        elif source.is_dir():  # a namespace shared by two distributions
            if target.is_symlink():
                previous = target.resolve()
                target.unlink()
                target.mkdir()
                for child in previous.iterdir():
                    (target / child.name).symlink_to(child)
            for child in source.iterdir():
                if not (target / child.name).exists():
                    (target / child.name).symlink_to(child)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def production_database() -> AsyncIterator[str]:
    async with own_database(URL, "production") as url:
        yield url


def install_into_fresh_venv(tmp_path: Path) -> Path:
    """Build the wheel and install it as the Dockerfile does; answer the venv's `addon`."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = wheels.glob("saleor_mailchimp_addon-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    metadata = next(
        name for name in zipfile.ZipFile(wheel).namelist() if name.endswith(".dist-info/METADATA")
    )
    requires = Parser().parsestr(zipfile.ZipFile(wheel).read(metadata).decode())
    closure = production_closure(requires.get_all("Requires-Dist") or [])
    assert "pytest" not in closure and "hypothesis" not in closure  # no dev extras
    assert "prometheus-client" in closure or "prometheus_client" in closure
    for dist in closure.values():
        link_distribution(dist, site)
    # The wheel carries what addon/paths.py reads (its data files, nothing copied in by hand):
    # every file of the checkout's manifest, webhooks and dashboard pages, installed under the
    # environment's share/ (a file a glob in pyproject.toml misses fails here).
    shared = venv / "share" / "saleor-mailchimp-addon"
    installed = {str(p.relative_to(shared)) for p in shared.rglob("*") if p.is_file()}
    checkout = {
        str(p.relative_to(ROOT))
        for name in ("webhooks", "settings_ui")
        for p in (ROOT / name).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    } | {"manifest.json"}
    assert installed == checkout
    assert not (site / "settings_ui").exists() and not (site / "manifest.json").exists()
    assert site != Path(sysconfig.get_paths()["purelib"])
    return venv / "bin" / "addon"


def migrate(addon: Path, environment: dict[str, str], cwd: Path) -> None:
    migrated = subprocess.run(
        [str(addon), "migrate"], cwd=cwd, env=environment, capture_output=True, text=True
    )
    assert migrated.returncode == 0, migrated.stderr
    assert "Database is up to date." in migrated.stderr


async def test_the_installed_wheel_runs_migrate_serve_and_worker(
    tmp_path: Path, production_database: str
) -> None:
    addon = install_into_fresh_venv(tmp_path)
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    port = free_port()
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "APP_ENV": "production",
        "APP_URL": "https://mailchimp.example.com",
        "DATABASE_URL": production_database,
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_SALEOR_URLS": r"http://127\.0\.0\.1:9/graphql/",
        "METRICS_TOKEN": TOKEN,
        "LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "WORKER_BACKOFF_BASE_SECONDS": "3600",
    }
    migrate(addon, environment, tmp_path)

    # An installation, as registering writes it (its keys known, so nothing asks Saleor).
    key = SigningKey.generate(2048, kid="production-test")
    use_secret_box(SecretBox(SECRET_KEY))
    database = Database(production_database)
    try:
        async with database.transaction() as session:
            session.add(
                Installation(
                    saleor_api_url=SALEOR,
                    saleor_domain="127.0.0.1:9",
                    app_id="QXBwOjE=",
                    app_token=SecretStr("app-token"),
                    jwks={"keys": [key.public_jwk()]},
                )
            )
    finally:
        await database.dispose()

    logs = {name: (tmp_path / f"{name}.log").open("wb") for name in ("serve", "worker")}
    processes = {
        "serve": await asyncio.create_subprocess_exec(
            str(addon), "serve", "--host", "127.0.0.1", "--port", str(port),
            cwd=tmp_path, env=environment, stdout=logs["serve"], stderr=subprocess.STDOUT,
        ),
        "worker": await asyncio.create_subprocess_exec(
            str(addon), "worker",
            cwd=tmp_path, env=environment, stdout=logs["worker"], stderr=subprocess.STDOUT,
        ),
    }  # fmt: skip
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + PATIENCE
            while True:
                for name, process in processes.items():
                    log = (tmp_path / f"{name}.log").read_text()
                    assert process.returncode is None, f"{name} ended:\n{log}"
                # Both processes up: the server answers, and the worker has said it started
                # (on a loaded machine its imports can take longer than the server's, and a
                # worker terminated before it started logs nothing).
                worker_started = '"message": "Worker ' in (tmp_path / "worker.log").read_text()
                try:
                    if (await client.get("/readyz")).status_code == 200 and worker_started:
                        break
                except httpx.TransportError:
                    pass
                assert loop.time() < deadline, (tmp_path / "serve.log").read_text() + (
                    tmp_path / "worker.log"
                ).read_text()
                await asyncio.sleep(0.1)

            manifest = (await client.get("/api/manifest")).json()
            assert manifest["appUrl"].startswith("https://mailchimp.example.com/")
            assert (await client.get("/metrics")).status_code == 401

            body = json.dumps({"product": {"id": "UHJvZHVjdDox"}}).encode()
            headers = {
                "Content-Type": "application/json",
                "Saleor-Event": "product_updated",
                "Saleor-Domain": "127.0.0.1:9",
                "Saleor-Api-Url": SALEOR,
                "Saleor-Signature": key.sign_detached(body),
            }
            delivered = await client.post(
                "/api/webhooks/ecommerce-products", content=body, headers=headers
            )
            assert delivered.status_code == 200, delivered.text
            assert delivered.json()["outcome"] == "queued"

            # A worker (of either process) takes the job; its outcome counts in /metrics.
            engine = create_async_engine(production_database)
            try:
                while True:
                    async with engine.connect() as connection:
                        attempts = await connection.scalar(select(Job.attempts))
                    if attempts:
                        break
                    assert loop.time() < deadline, (tmp_path / "worker.log").read_text()
                    await asyncio.sleep(0.1)
            finally:
                await engine.dispose()
            while True:
                scraped = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
                assert scraped.status_code == 200
                if 'saleor_mailchimp_jobs_total{kind="webhook.ecommerce-products"' in scraped.text:
                    break
                assert loop.time() < deadline, scraped.text
                await asyncio.sleep(0.1)
            received = (
                'saleor_mailchimp_webhooks_received_total{outcome="queued",'
                'webhook="ecommerce-products"} 1.0'
            )
            assert received in scraped.text
        for process in processes.values():
            process.terminate()
        for name, process in processes.items():
            await asyncio.wait_for(process.wait(), PATIENCE)
            log = (tmp_path / f"{name}.log").read_text()
            assert all(json.loads(line) for line in log.splitlines()), log  # JSON lines only
            assert SECRET_KEY not in log and TOKEN not in log
        worker_log = (tmp_path / "worker.log").read_text()
        assert '"message": "Worker ' in worker_log  # JSON lines from the worker
    finally:
        for process in processes.values():
            if process.returncode is None:
                process.kill()
                await process.wait()
        for sink in logs.values():
            sink.close()
