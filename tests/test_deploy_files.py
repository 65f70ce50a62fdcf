"""The deployment files agree with the app: every variable of .env.example is a setting (or one
compose itself uses), compose's services run commands `addon` has, and a blank secret is unset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from addon.cli import cli
from addon.config import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "WEB_PORT"}


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


def test_every_variable_of_env_example_is_a_setting() -> None:
    names = set(env_example())
    settings = {name.upper() for name in Settings.model_fields}
    assert names - COMPOSE_ONLY <= settings, names - COMPOSE_ONLY - settings
    filled = {
        k.lower(): v or "filled-in"
        for k, v in env_example().items()
        if k not in COMPOSE_ONLY and not k.startswith("MAILCHIMP_")
    }
    # compose.yaml gives DATABASE_URL (PostgreSQL) and APP_ENV to every service.
    database_url = compose()["x-app"]["environment"]["DATABASE_URL"]
    assert database_url.startswith("postgresql+asyncpg://")
    loaded = Settings(
        **filled,
        app_env=compose()["x-app"]["environment"]["APP_ENV"],
        database_url=database_url,
        _env_file=None,  # type: ignore[call-arg]
    )
    assert loaded.app_url.startswith("https://") and loaded.is_saleor_url_allowed(
        "https://shop.example.com/graphql/"
    )


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "compose.yaml").read_text()))


def test_compose_runs_addon_commands() -> None:
    services = compose()["services"]
    assert {"db", "migrate", "web", "worker"} <= set(services)
    commands = {c.name or c.callback.__name__ for c in cli.registered_commands if c.callback}
    for name in ("migrate", "web", "worker"):
        assert "entrypoint" not in services[name], name  # the image's: `addon`
        assert services[name]["command"][0] in commands, name
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )


def test_blank_secrets_are_unset() -> None:
    settings = Settings(metrics_token="", secret_key="  ", _env_file=None)  # type: ignore[arg-type]
    assert settings.metrics_token is None and settings.secret_key is None
    with pytest.raises(ValidationError, match="SECRET_KEY must be set"):
        Settings(app_env="production", secret_key="", _env_file=None)  # type: ignore[arg-type]
