from pathlib import Path

import pytest

from addon.config import ConfigurationError, load_settings


def test_defaults_are_development_on_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APP_ENV", "DATABASE_URL", "APP_URL", "SECRET_KEY", "ALLOWED_SALEOR_URLS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert settings.app_url == "http://127.0.0.1:8000"
    assert settings.database_url == "sqlite+aiosqlite:///./addon.db"
    assert settings.is_saleor_url_allowed("https://any.saleor.cloud/graphql/")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("APP_URL", "not a url"),
        ("DATABASE_URL", "mysql://root@localhost/test"),
        ("LOG_LEVEL", "LOUD"),
        ("ALLOWED_SALEOR_URLS", "https://(unclosed"),
        ("WEBHOOK_OUTAGE_SECONDS", "30"),  # under a heartbeat's minute: always "down"
        ("WEBHOOK_OUTAGE_SECONDS", "600"),  # past Saleor's retries: losses unseen
    ],
)
def test_a_wrong_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError, match=variable):
        load_settings(_env_file=None)


def test_production_refuses_to_start_without_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        load_settings(_env_file=None)


def _production(monkeypatch: pytest.MonkeyPatch) -> None:
    """What production needs to start (ALLOWED_SALEOR_URLS aside)."""
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("APP_URL", "https://mailchimp.example.com")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://addon@db:5432/addon")


def test_production_allows_no_saleor_without_an_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    _production(monkeypatch)
    monkeypatch.delenv("ALLOWED_SALEOR_URLS", raising=False)
    assert not load_settings(_env_file=None).is_saleor_url_allowed(
        "https://a.saleor.cloud/graphql/"
    )
    monkeypatch.setenv("ALLOWED_SALEOR_URLS", r"https://[a-z0-9-]+\.saleor\.cloud/graphql/")
    settings = load_settings(_env_file=None)
    assert settings.is_saleor_url_allowed("https://shop-1.saleor.cloud/graphql/")
    assert not settings.is_saleor_url_allowed("https://shop.saleor.cloud.evil.com/graphql/")


@pytest.mark.parametrize(
    "value",
    [
        "https://mailchimp.example.com/app",  # routes are at /api/…, pages load /static/…
        "https://mailchimp.example.com/app/",
        "https://mailchimp.example.com?x=1",  # the manifest: …?x=1/api/register
        "https://mailchimp.example.com/?x=1",
        "https://mailchimp.example.com#top",
        "https://user:pass@mailchimp.example.com",
        "https://mailchimp.example.com:https",
        "https://mailchimp.example.com:",
        "https://",
        "ftp://mailchimp.example.com",
        "http://[::1",
    ],
)
def test_app_url_is_an_origin_alone(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("APP_URL", value)
    with pytest.raises(ConfigurationError, match="APP_URL: must be the app's origin alone"):
        load_settings(_env_file=None)


@pytest.mark.parametrize(
    ("value", "loaded"),
    [
        ("https://mailchimp.example.com/", "https://mailchimp.example.com"),
        ("https://mailchimp.example.com:8443", "https://mailchimp.example.com:8443"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://[::1]:8000/", "http://[::1]:8000"),
    ],
)
def test_an_origin_loads_without_its_trailing_slash(
    monkeypatch: pytest.MonkeyPatch, value: str, loaded: str
) -> None:
    monkeypatch.setenv("APP_URL", value)
    assert load_settings(_env_file=None).app_url == loaded


@pytest.mark.parametrize(
    "app_url",
    [
        None,  # the default: http://127.0.0.1:8000
        "http://mailchimp.example.com",
        "https://localhost",
        "https://127.0.0.1:8443",
        "https://[::1]",
    ],
)
def test_production_refuses_an_app_url_saleor_cannot_use(
    monkeypatch: pytest.MonkeyPatch, app_url: str | None
) -> None:
    _production(monkeypatch)
    if app_url is None:
        monkeypatch.delenv("APP_URL")
    else:
        monkeypatch.setenv("APP_URL", app_url)
    with pytest.raises(ConfigurationError, match="APP_URL must be the app's public https origin"):
        load_settings(_env_file=None)


def test_production_refuses_the_default_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """The image's default without DATABASE_URL: ./addon.db in the container's writable layer.
    A SQLite file given explicitly (one `addon serve`, the file on a volume) is allowed:
    `addon doctor` warns about it."""
    _production(monkeypatch)
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(ConfigurationError, match="DATABASE_URL must be set"):
        load_settings(_env_file=None)
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:////data/addon.db")
    assert load_settings(_env_file=None).is_sqlite


def test_production_names_every_problem_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SECRET_KEY", "APP_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ConfigurationError) as raised:
        load_settings(_env_file=None)
    message = str(raised.value)
    assert "SECRET_KEY must be set" in message
    assert "not http://127.0.0.1:8000 (the default)" in message
    assert "DATABASE_URL must be set" in message


def test_development_generates_and_reuses_a_secret_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    key_file = tmp_path / ".secret_key"
    settings = load_settings(_env_file=None, secret_key_file=key_file)
    first = settings.resolve_secret_key()
    assert key_file.read_text().strip() == first
    assert "SECRET_KEY is not set" in caplog.text
    assert first not in caplog.text
    assert load_settings(_env_file=None, secret_key_file=key_file).resolve_secret_key() == first


def test_request_lines_in_logs_lose_their_query_values() -> None:
    import logging

    from addon.logs import RedactQueryFilter, redact_query

    assert redact_query("/api/connection/oauth/callback?state=s3cr3t&code=c0de") == (
        "/api/connection/oauth/callback?state=…&code=…"
    )
    assert redact_query("/healthz") == "/healthz"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "GET", "/cb?code=c0de", "1.1", 200),
        None,
    )
    assert RedactQueryFilter().filter(record)
    assert "c0de" not in record.getMessage() and "/cb?code=…" in record.getMessage()


def _development(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "APP_ENV",
        "APP_URL",
        "MAILCHIMP_API_URL_TEMPLATE",
        "MAILCHIMP_LOGIN_URL",
        "MAILCHIMP_SIGNUP_URL",
        "MAILCHIMP_CLIENT_ID",
        "MAILCHIMP_CLIENT_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)


def test_outside_production_mailchimp_defaults_to_the_sandbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sandboxes.devstack import SANDBOX_CLIENT_ID, describe_mailchimp, sandbox_settings

    _development(monkeypatch)
    settings = sandbox_settings(load_settings(_env_file=None))
    sandbox = "http://127.0.0.1:8000/sandbox/mailchimp"
    assert settings.mailchimp_api_url_template == sandbox + "/{dc}/3.0"
    assert settings.mailchimp_login_url == sandbox
    assert settings.mailchimp_client_id == SANDBOX_CLIENT_ID
    assert describe_mailchimp(settings) == (
        f"Mailchimp API: the Mailchimp sandbox ({sandbox}/{{dc}}/3.0); "
        f"OAuth login: the Mailchimp sandbox ({sandbox})"
    )


def test_mailchimp_api_url_from_the_environment_wins_over_the_sandbox(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sandboxes.devstack import describe_mailchimp, sandbox_settings

    _development(monkeypatch)
    monkeypatch.setenv("MAILCHIMP_API_URL_TEMPLATE", "https://proxy.example/{dc}/3.0")
    settings = sandbox_settings(load_settings(_env_file=None))
    assert settings.mailchimp_api_url_template == "https://proxy.example/{dc}/3.0"
    # OAuth was not configured: its settings still come from the sandbox.
    assert settings.mailchimp_login_url == "http://127.0.0.1:8000/sandbox/mailchimp"
    assert describe_mailchimp(settings).startswith(
        "Mailchimp API: https://proxy.example/{dc}/3.0; OAuth login: the Mailchimp sandbox"
    )


def test_mailchimp_oauth_from_the_environment_keeps_its_own_login_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sandboxes.devstack import describe_mailchimp, sandbox_settings

    _development(monkeypatch)
    monkeypatch.setenv("MAILCHIMP_CLIENT_ID", "4242")
    monkeypatch.setenv("MAILCHIMP_CLIENT_SECRET", "staging-secret")
    settings = sandbox_settings(load_settings(_env_file=None))
    assert settings.mailchimp_client_id == "4242"
    assert settings.mailchimp_login_url == "https://login.mailchimp.com"  # not the sandbox's
    assert settings.mailchimp_api_url_template.startswith("http://127.0.0.1:8000/sandbox/")
    assert describe_mailchimp(settings).endswith("OAuth login: https://login.mailchimp.com")


def test_mailchimp_settings_from_an_env_file_count_as_given(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from sandboxes.devstack import sandbox_settings

    _development(monkeypatch)
    env_file = tmp_path / ".env"
    env_file.write_text("MAILCHIMP_API_URL_TEMPLATE=http://127.0.0.1:9000/{dc}/3.0\n")
    settings = sandbox_settings(load_settings(_env_file=env_file))
    assert settings.mailchimp_api_url_template == "http://127.0.0.1:9000/{dc}/3.0"
