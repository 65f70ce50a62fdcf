"""`sandboxes serve --host/--port`: the app installs itself in the Saleor sandbox from APP_URL
and the printed dashboard link is under it, so both follow where the stack listens, unless
APP_URL says otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandboxes.cli import served_settings


@pytest.fixture(autouse=True)
def _no_app_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, keep_logging: None) -> None:
    monkeypatch.chdir(tmp_path)  # no .env of the checkout's
    monkeypatch.delenv("APP_URL", raising=False)


def test_the_app_url_follows_the_port_and_host() -> None:
    assert served_settings("127.0.0.1", 8000).app_url == "http://127.0.0.1:8000"
    assert served_settings("127.0.0.1", 8765).app_url == "http://127.0.0.1:8765"
    assert served_settings("0.0.0.0", 8765).app_url == "http://127.0.0.1:8765"
    assert served_settings("::1", 9000).app_url == "http://[::1]:9000"


def test_an_app_url_given_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_URL", "http://shop-dev.example:8080")
    assert served_settings("0.0.0.0", 8765).app_url == "http://shop-dev.example:8080"
