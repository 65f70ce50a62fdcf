"""The one settings object, read from the environment and `.env`."""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

logger = logging.getLogger(__name__)

DEFAULT_SECRET_KEY_FILE = Path(".secret_key")


class AppEnv(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    """`human`: readable lines (the default); `json`: one JSON object a line (addon.logs)."""

    HUMAN = "human"
    JSON = "json"


class ConfigurationError(Exception):
    """A setting is missing or wrong; the message names the variable."""


def _is_origin(url: str) -> bool:
    """`http(s)://host[:port]` and nothing else (no user, path, query or fragment)."""
    if not url.startswith(("http://", "https://")) or any(c in url for c in "?#@\\"):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises for a port that is not one)
    except ValueError:
        return False
    return (
        bool(parts.hostname)
        and not parts.path
        and not parts.netloc.endswith(":")
        and not any(c.isspace() for c in url)
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    app_env: AppEnv = AppEnv.DEVELOPMENT
    app_url: str = "http://127.0.0.1:8000"
    # Behind a proxy that terminates HTTPS: the addresses (IPs or networks, comma-separated; "*"
    # for any) whose X-Forwarded-For / X-Forwarded-Proto `addon serve` believes. Others' are
    # ignored, so a client cannot claim another address or scheme (see docs/deploy.md).
    forwarded_allow_ips: str = "127.0.0.1"
    database_url: str = "sqlite+aiosqlite:///./addon.db"
    # SQLite only: whether a commit waits for the disk (sqlite.org/pragma.html#pragma_synchronous).
    # FULL keeps every answered webhook through a power loss; OFF is for throwaway databases
    # (the test suite, whose time went mostly to waiting for the disk at each commit).
    sqlite_synchronous: Literal["FULL", "OFF"] = "FULL"
    secret_key: SecretStr | None = None
    # Keys SECRET_KEY replaced (comma-separated): they still decrypt, never encrypt, until
    # `addon rotate-secrets` has re-encrypted everything under SECRET_KEY.
    secret_key_previous: SecretStr | None = None
    secret_key_file: Path = DEFAULT_SECRET_KEY_FILE
    allowed_saleor_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.HUMAN
    # `GET /metrics` (Prometheus): off (404) until set; Prometheus then sends
    # `Authorization: Bearer <METRICS_TOKEN>` (see docs/deploy.md).
    metrics_token: SecretStr | None = None

    # Worker: how jobs are retried and when they give up.
    worker_max_attempts: int = Field(default=8, ge=1)
    worker_backoff_base_seconds: float = Field(default=2.0, gt=0)
    worker_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    # Runs of a job that failed because a service is down or throttling (Mailchimp's 5xx,
    # timeouts and 429s, Saleor unreachable) before it is given up, when more than its kind's
    # own limit: with the backoff capped at an hour, 20 runs span about seven hours, so an
    # outage leaves nothing for an admin to retry by hand. 0: no more than the kind's limit.
    worker_outage_max_attempts: int = Field(default=20, ge=0)
    worker_poll_interval_seconds: float = Field(default=1.0, gt=0)
    worker_batch_size: int = Field(default=20, ge=1)
    # A claimed job is leased this long; a heartbeat renews the lease every third of it while
    # the job runs, so only a dead worker's jobs wait (at most this long) for another worker.
    worker_lease_seconds: float = Field(default=30.0, gt=0, le=3600)
    # SIGTERM: a worker claims nothing more and gives its jobs in hand this long to end; those
    # still running are then stopped and released (due at once for another worker, the attempt
    # not counted). Keep it below the container's stop timeout (compose: stop_grace_period).
    worker_shutdown_grace_seconds: float = Field(default=20.0, ge=0)
    # A job whose runs ended this many times in a row without an outcome (its worker died or
    # stalled past the lease: out of memory, say) is quarantined instead of claimed again: it
    # may be what kills the workers, one after another.
    worker_max_lapses: int = Field(default=3, ge=1)

    # Saleor's signing keys (JWKS), cached per installation. A signature naming an unknown key
    # (`kid`) refetches them, at most once per interval per installation counted from the last
    # attempt, successful or not, by any process; the cached set is refetched once older than
    # the max age, so a key Saleor has retired stops verifying within that age.
    jwks_refresh_min_interval_seconds: float = Field(default=5.0, ge=0)
    jwks_cache_max_age_seconds: float = Field(default=3600.0, gt=0)

    # Deactivation and uninstall without the lifecycle webhooks (Saleor before 3.23.5): each
    # installation is checked this often (and whenever Saleor refuses a call); a refused app
    # token is confirmed by a second check this much later, then processing pauses; a token
    # still refused after the grace period means uninstalled, and the installation is erased
    # (Saleor refuses the token of a deactivated app exactly like that of a deleted one).
    installation_check_interval_seconds: float = Field(default=3600.0, ge=60)
    installation_check_confirm_seconds: float = Field(default=60.0, ge=0)
    uninstall_grace_hours: float = Field(default=168.0, ge=0)
    # Saleor retries a failed delivery for about five minutes, then drops it: a web process
    # that finds the receiver's heartbeat older than this replays what Saleor changed since
    # (`addon/installations/outage.py`); 0 turns the watch off. Between the heartbeat's minute
    # (with room: 90) and Saleor's whole retry span (310 s, so at most 300), else 0.
    webhook_outage_seconds: float = Field(default=240.0, ge=0, le=300)

    # The largest request body any route reads; larger ones get 413 unread. Our webhook
    # subscriptions select ids only (deliveries under 1 kB); Saleor's full legacy payloads (an
    # order with hundreds of lines) reach hundreds of kB: 4 MiB leaves ample room for those
    # while a flood of huge bodies cannot exhaust memory.
    max_request_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # The storefront API's cap (shoppers' browsers, no authentication): its largest body, an
    # account page's save naming every audience, group and permission, is a few kB.
    max_storefront_body_bytes: int = Field(default=64 * 1024, ge=1024)

    # Mailchimp. OAuth needs a registered app (https://admin.mailchimp.com/account/oauth2/)
    # whose redirect URI is {APP_URL}/api/connection/oauth/callback.
    mailchimp_client_id: str | None = None
    mailchimp_client_secret: SecretStr | None = None
    mailchimp_api_url_template: str = "https://{dc}.api.mailchimp.com/3.0"
    mailchimp_login_url: str = "https://login.mailchimp.com"
    mailchimp_signup_url: str = "https://login.mailchimp.com/signup/"
    # Mailchimp allows 10 simultaneous connections per user; keep headroom for other tools.
    mailchimp_max_concurrency: int = Field(default=5, ge=1, le=10)
    mailchimp_max_attempts: int = Field(default=5, ge=1)
    mailchimp_backoff_base_seconds: float = Field(default=0.5, gt=0)
    mailchimp_backoff_max_seconds: float = Field(default=30.0, gt=0)

    # Audiences and subscriptions: how often audiences and groups are re-imported, and the
    # storefront API's limits (per client address per minute, per e-mail address per hour).
    audience_import_interval_hours: float = Field(default=6.0, gt=0)
    # A subscription, or a contact's move to a new address, that Mailchimp refused "for now" is
    # tried again this much later (three times at most: `subscriptions/for_now.py`).
    for_now_retry_hours: float = Field(default=24.0, gt=0)
    # The limits are kept in the app's database, shared by all its processes (see README).
    storefront_rate_limit_per_address: int = Field(default=30, ge=1)
    storefront_rate_limit_address_window_seconds: float = Field(default=60.0, gt=0)
    storefront_rate_limit_per_email: int = Field(default=5, ge=1)
    storefront_rate_limit_email_window_seconds: float = Field(default=3600.0, gt=0)
    # Exchanges of one cart's restore links per address window (docs/abandoned-carts.md): not
    # per address, which a store's server exchanging every shopper's links would use up.
    storefront_rate_limit_per_cart: int = Field(default=10, ge=1)
    # Expired limit records removed per request (keeps the table bounded, each request cheap).
    rate_limit_prune_batch_size: int = Field(default=200, ge=1)

    # E-commerce sync: bursts of checkout updates within this window become one cart push;
    # a record whose push keeps failing is quarantined after this many attempts.
    ecommerce_cart_debounce_seconds: float = Field(default=60.0, ge=0)
    ecommerce_max_attempts: int = Field(default=5, ge=1)
    # How long a cart's restore link (its `checkout_url`) works after the cart was last sent,
    # and how long the storefront may cache a store's site script (docs/abandoned-carts.md).
    cart_restore_link_hours: float = Field(default=168.0, ge=1)
    site_script_cache_seconds: float = Field(default=3600.0, gt=0)
    # Burst absorption: while more pushes than the threshold wait for one installation (its
    # Mailchimp account), products and customers go out as Mailchimp batches of up to this
    # many records, re-read from Saleor a page at a time.
    ecommerce_batch_threshold: int = Field(default=100, ge=1)
    ecommerce_batch_size: int = Field(default=500, ge=1, le=5000)

    # Initial sync: entities per Mailchimp batch, batches in flight per sync (Mailchimp allows
    # 500 pending per account), Saleor page size (its limit is 100), how batches are polled
    # (backoff from base to max), and after how long without progress a sync is failed.
    initial_sync_batch_size: int = Field(default=1000, ge=1, le=5000)
    initial_sync_max_in_flight: int = Field(default=6, ge=1, le=500)
    initial_sync_page_size: int = Field(default=100, ge=1, le=100)
    initial_sync_poll_base_seconds: float = Field(default=2.0, ge=0)
    initial_sync_poll_max_seconds: float = Field(default=60.0, ge=0)
    initial_sync_stall_seconds: float = Field(default=1800.0, gt=0)
    # How long a submitted batch may stay unfinished at Mailchimp (waiting its turn: an
    # account's batches run one at a time; or running) and still count as the sync's progress;
    # after that, the stall time runs. Also the longest an erasure waits for such a batch
    # (`erasure/in_flight.py`).
    initial_sync_batch_wait_seconds: float = Field(default=21600.0, gt=0)
    initial_sync_max_attempts: int = Field(default=6, ge=1)
    # Customers and orders are read in this many slices of their history side by side (each
    # slice a page at a time: up to a batch's worth of pages at once per kind).
    initial_sync_read_slices: int = Field(default=10, ge=1, le=100)
    # A step reads, plans and submits up to this many batches of a kind, the next one read
    # while the last is submitted (each written with its slices' positions: a crash repeats
    # one batch), within INITIAL_SYNC_MAX_IN_FLIGHT.
    initial_sync_step_batches: int = Field(default=4, ge=1, le=50)

    @field_validator("app_url")
    @classmethod
    def _origin(cls, value: str) -> str:
        # The app serves at the root of its origin only: the manifest's URLs, the pages'
        # /static and the cookies' path /api are all built from it, so a path, a query or a
        # fragment would break them all.
        origin = value.rstrip("/")
        if not _is_origin(origin):
            raise ValueError(
                "must be the app's origin alone, scheme, host and optional port, such as "
                "https://mailchimp.example.com: the app serves at its root (no path, query "
                "or fragment)"
            )
        return origin

    @field_validator("mailchimp_api_url_template")
    @classmethod
    def _has_dc(cls, value: str) -> str:
        if "{dc}" not in value:
            raise ValueError("must contain {dc}, e.g. https://{dc}.api.mailchimp.com/3.0")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// "
                "(for example postgresql+asyncpg://user@127.0.0.1:5432/addon)"
            )
        return value

    @field_validator("allowed_saleor_urls", mode="before")
    @classmethod
    def _split_patterns(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("allowed_saleor_urls")
    @classmethod
    def _compile_patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from exc
        return value

    @field_validator("webhook_outage_seconds")
    @classmethod
    def _outage_beyond_a_heartbeat(cls, value: float) -> float:
        if 0 < value < 90:
            raise ValueError(
                "must be 0 (off) or from 90 to 300 seconds: a heartbeat comes once a minute"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("secret_key", "secret_key_previous", "metrics_token")
    @classmethod
    def _blank_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        # `METRICS_TOKEN=` left empty in a .env means "not set", never "the empty token".
        return value if value is None or value.get_secret_value().strip() else None

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if not self.is_production:
            return self
        problems = []
        if self.secret_key is None:
            problems.append(
                "SECRET_KEY must be set when APP_ENV=production "
                "(it encrypts Saleor and Mailchimp credentials at rest)"
            )
        if not self.app_url_is_public:
            given = "" if "app_url" in self.model_fields_set else " (the default)"
            problems.append(
                "APP_URL must be the app's public https origin when APP_ENV=production, "
                f"not {self.app_url}{given}: Saleor and the dashboard's browsers reach it there"
            )
        if "database_url" not in self.model_fields_set:
            # A SQLite file set explicitly is allowed (a single `addon serve` whose file is on
            # a volume; `addon doctor` warns); the default lands in the working directory,
            # in a container its writable layer, lost with the container.
            problems.append(
                "DATABASE_URL must be set when APP_ENV=production: the default, SQLite in "
                "./addon.db, is lost with the container (postgresql+asyncpg://…)"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def oauth_configured(self) -> bool:
        return bool(self.mailchimp_client_id and self.mailchimp_client_secret)

    @property
    def is_production(self) -> bool:
        return self.app_env is AppEnv.PRODUCTION

    def describe_mailchimp(self) -> str:
        """The start-up line's account of which Mailchimp the app talks to."""
        api = f"Mailchimp API: {self.mailchimp_api_url_template}"
        if not self.oauth_configured:
            return f"{api}; OAuth off (no MAILCHIMP_CLIENT_ID/SECRET)"
        return f"{api}; OAuth login: {self.mailchimp_login_url}"

    @property
    def app_url_is_public(self) -> bool:
        """https, and not this machine (`localhost`, a loopback address)."""
        parts = urlsplit(self.app_url)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https" or host == "localhost" or host.endswith(".localhost"):
            return False
        try:
            return not ipaddress.ip_address(host).is_loopback
        except ValueError:
            return True  # a name

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @cached_property
    def saleor_url_patterns(self) -> list[re.Pattern[str]]:
        return [re.compile(pattern) for pattern in self.allowed_saleor_urls]

    def is_saleor_url_allowed(self, saleor_api_url: str) -> bool:
        """Empty allow-list means "allow all", but only outside production."""
        if not self.allowed_saleor_urls:
            return not self.is_production
        return any(p.fullmatch(saleor_api_url) for p in self.saleor_url_patterns)

    @property
    def previous_secret_keys(self) -> list[str]:
        """SECRET_KEY_PREVIOUS's keys, in the order given (blanks between commas skipped)."""
        if self.secret_key_previous is None:
            return []
        keys = self.secret_key_previous.get_secret_value().split(",")
        return [key.strip() for key in keys if key.strip()]

    def resolve_secret_key(self) -> str:
        """The key that encrypts secrets at rest; generated into a local file in development."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.secret_key_file
        if path.exists():
            return path.read_text().strip()
        key = secrets.token_urlsafe(48)
        path.write_text(key + "\n")
        path.chmod(0o600)
        logger.warning(
            "SECRET_KEY is not set: generated a development key into %s. "
            "Set SECRET_KEY in production; losing the key makes stored credentials unreadable.",
            path,
        )
        return key


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning validation errors into one message naming each variable."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper() or "settings"
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{name}: {message}")
        raise ConfigurationError("Invalid configuration: " + "; ".join(problems)) from None
