"""`make run` outside production: the app and both sandboxes on one origin, installed."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from addon.app import create_app
from addon.capabilities import create_services
from addon.config import AppEnv, Settings, load_settings
from sandboxes.devstack import create_dev_app
from tests.livesite import free_port, serve_in_thread


def _settings(tmp_path: Path, port: int, **overrides: object) -> Settings:
    return load_settings(
        _env_file=None,
        app_url=f"http://127.0.0.1:{port}",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'dev.db'}",
        secret_key_file=tmp_path / ".secret_key",
        **overrides,
    )


def test_the_dev_stack_installs_itself_and_connects_to_the_sandbox(tmp_path: Path) -> None:
    port = free_port()
    settings = _settings(tmp_path, port)
    app = create_dev_app(settings)
    stack = app.state.devstack
    with serve_in_thread(app, port), httpx.Client(base_url=settings.app_url, timeout=10) as client:
        deadline = time.monotonic() + 45  # generous: a loaded machine starts slowly
        while not stack.saleor.store.apps and time.monotonic() < deadline:
            time.sleep(0.05)
        [installed] = stack.saleor.store.apps.values()
        assert [c.slug for c in stack.saleor.store.channels.values()] == ["default-channel"]
        manifest = client.get("/api/manifest").json()
        assert manifest["appUrl"] == f"{settings.app_url}/app/"
        assert client.get("/.well-known/jwks.json").json() == stack.saleor.jwks()
        headers = {
            "authorization-bearer": stack.saleor.mint_dashboard_token(installed),
            "saleor-api-url": stack.saleor.api_url,
        }
        # The app is listed in Saleor before its registration (token hand-over) has ended.
        answer = client.get("/api/installation", headers=headers)
        while answer.status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
            answer = client.get("/api/installation", headers=headers)
        assert answer.json()["app_id"] == installed.global_id, answer.text
        connected = client.post(
            "/api/connection/api-key", json={"api_key": stack.demo_account.api_key}, headers=headers
        )
        assert connected.status_code == 200, connected.text
        assert client.post("/api/connection/check", headers=headers).json()["ok"] is True
        start = client.get(
            "/api/connection/oauth/start", headers={**headers, "accept": "application/json"}
        ).json()
        page = client.get(start["authorize_url"])
        assert page.status_code == 200 and "Demo Store" in page.text
        assert f"action='{settings.app_url}/sandbox/mailchimp/oauth2/authorize'" in page.text


def test_production_has_no_sandbox_routes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    # Served here on a loopback http address, which production settings refuse to load: the
    # development settings, then switched to production without validation.
    settings = _settings(tmp_path, port).model_copy(
        update={"app_env": AppEnv.PRODUCTION, "secret_key": SecretStr("production-secret-key")}
    )
    with pytest.raises(RuntimeError, match="production"):
        create_dev_app(settings)
    app = create_app(create_services(settings), run_worker=False)
    paths = {getattr(route, "path", "") for route in app.routes}
    assert not any(path.startswith("/sandbox") or path.startswith("/.well-known") for path in paths)
    with serve_in_thread(app, port), httpx.Client(base_url=settings.app_url) as client:
        for path in (
            "/sandbox/dashboard/",
            "/sandbox/saleor/graphql/",
            "/sandbox/mailchimp/oauth2/authorize",
        ):
            assert client.get(path).status_code == 404
        assert client.get("/healthz").status_code == 200
