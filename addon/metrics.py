"""The app's Prometheus metrics (prometheus-client), defined here; the modules that count call
the small functions below, and `/metrics` (addon.health.metrics) renders them.

Several processes (`addon serve`, any number of `addon worker`) add up through prometheus-client's
multiprocess mode: when the environment has `PROMETHEUS_MULTIPROC_DIR` (read by the library
itself, at import, so it must be in the process's environment, not only in `.env`), each process
writes its counters and histograms to files in that directory and `/metrics` of any web process
sums them all. Without it, `/metrics` shows its own process only (enough for a lone
`addon serve`, which runs its worker in the same process). A per-process port was not chosen:
the workers serve no HTTP, and one bearer-protected endpoint is one scrape target.

A process's files are named by `process_identifier()` (host name and pid), not by the pid alone
(the library's default): every compose container runs `addon` as PID 1, and processes sharing
a name would overwrite each other's counts. Files of ended processes stay: their counters still
count in the sums (which so never go down), and each process takes its live gauges away at its
exit (one killed outright: when its container restarts under the same name).

Labels never carry an e-mail address, an id from a path or a secret: a Mailchimp endpoint is
its path template (`/3.0/lists/{id}/members/{id}`), a webhook its document's slug, a job its
kind, a rejection its error code.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import socket
import tempfile
import time
from collections.abc import Iterable

import httpx
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

PREFIX = "saleor_mailchimp"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def process_identifier() -> str:
    """This process's name in the multiprocess directory: `<host>-<pid>`. Unique among the
    processes sharing the directory as long as each container has a host name of its own
    (Docker's default, the container's id). Characters other than letters, digits, `.` and
    `-` become `-`: the library splits file names (`gauge_livesum_<id>.db`) at `_` and globs
    them. The library calls it at every count, to notice a fork: the host part is read once."""
    return f"{_HOST}-{os.getpid()}"


_HOST = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "host"


def _leaving() -> None:
    # A process that exits normally takes its in-flight gauge out of the sum.
    with contextlib.suppress(OSError):
        mark_process_dead(process_identifier())  # type: ignore[no-untyped-call]


if multiprocess_dir() is not None:
    # Before any metric exists: each value opens its file when created. Called again at each
    # use, the identifier follows a fork, as the library's pid does.
    values.ValueClass = values.MultiProcessValue(process_identifier)  # type: ignore[no-untyped-call]
    # A process of this name that is not this one has ended (a restarted container's PID 1,
    # killed before it could clean up): its last in-flight values go. Its counters stay, and
    # this process counts on from them.
    _leaving()
    atexit.register(_leaving)

WEBHOOKS_RECEIVED = Counter(
    f"{PREFIX}_webhooks_received",
    "Saleor webhook deliveries accepted, by webhook document and outcome.",
    ["webhook", "outcome"],
)
WEBHOOKS_REJECTED = Counter(
    f"{PREFIX}_webhooks_rejected",
    "Saleor webhook deliveries refused, by webhook document and reason (the error code).",
    ["webhook", "reason"],
)
JOBS = Counter(
    f"{PREFIX}_jobs",
    "Jobs ended by the workers: done, retried (failed, to run again) or quarantined.",
    ["kind", "outcome"],
)
MAILCHIMP_REQUESTS = Counter(
    f"{PREFIX}_mailchimp_requests",
    "Requests sent to Mailchimp, by endpoint (path template), method and HTTP status "
    '("error" when no answer came: timeout, connection).',
    ["endpoint", "method", "status"],
)
MAILCHIMP_SECONDS = Histogram(
    f"{PREFIX}_mailchimp_request_seconds",
    "Time Mailchimp took to answer, by endpoint (path template) and method.",
    ["endpoint", "method"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
)
MAILCHIMP_IN_FLIGHT = Gauge(
    f"{PREFIX}_mailchimp_requests_in_flight",
    "Requests to Mailchimp awaiting their answer now, by Mailchimp account id (summed over the "
    "live processes; the cap is MAILCHIMP_MAX_CONCURRENCY per account).",
    ["account"],
    multiprocess_mode="livesum",
)
JWKS_REFRESHES = Counter(
    f"{PREFIX}_jwks_refreshes",
    "Refetches of a Saleor's signing keys (JWKS), by result (ok, failed).",
    ["result"],
)

# --- hook-ins -------------------------------------------------------------------------------


def webhook_received(webhook: str, outcome: str) -> None:
    WEBHOOKS_RECEIVED.labels(webhook, outcome).inc()


def webhook_rejected(webhook: str, reason: str) -> None:
    WEBHOOKS_REJECTED.labels(webhook, reason).inc()


def job_ended(kind: str, outcome: str) -> None:
    JOBS.labels(kind, outcome).inc()


def jwks_refreshed(ok: bool) -> None:
    JWKS_REFRESHES.labels("ok" if ok else "failed").inc()


# Mailchimp's path words (collections and actions) as the app uses them; any other segment is an
# id (a list id, a subscriber hash, a Saleor id, a batch id), shown as {id}.
_PATH_WORDS = frozenset(
    {
        "3.0",
        "actions",
        "batch-webhooks",
        "batches",
        "carts",
        "customers",
        "delete-permanent",
        "ecommerce",
        "interest-categories",
        "interests",
        "lines",
        "lists",
        "members",
        "merge-fields",
        "metadata",
        "oauth2",
        "orders",
        "ping",
        "products",
        "segments",
        "stores",
        "tags",
        "token",
        "variants",
        "webhooks",
    }
)
_SEGMENT = re.compile(r"[^/]+")


def endpoint_template(path: str) -> str:
    """`/3.0/lists/abc123/members/5f0d…` → `/3.0/lists/{id}/members/{id}`."""
    return _SEGMENT.sub(lambda m: m[0] if m[0] in _PATH_WORDS else "{id}", path) or "/"


def account_label(account_key: str | None) -> str:
    """Mailchimp's account id from an account key (`us21:account:<id>`); a key made from a
    credential's digest (the account not known yet) is not shown."""
    if account_key is None:
        return "none"
    kind, _, rest = account_key.partition(":")[2].partition(":")
    return rest if kind == "account" and rest else "unknown"


async def send_observed(
    client: httpx.AsyncClient, request: httpx.Request, account_key: str | None = None
) -> httpx.Response:
    """`client.send(request)`, counted and timed (the Mailchimp layer's one hook-in)."""
    endpoint, method = endpoint_template(request.url.path), request.method
    in_flight = MAILCHIMP_IN_FLIGHT.labels(account_label(account_key))
    in_flight.inc()
    started = time.perf_counter()
    status = "error"
    try:
        response = await client.send(request)
        status = str(response.status_code)
        return response
    finally:
        in_flight.dec()
        MAILCHIMP_SECONDS.labels(endpoint, method).observe(time.perf_counter() - started)
        MAILCHIMP_REQUESTS.labels(endpoint, method, status).inc()


# --- the scrape -----------------------------------------------------------------------------


def multiprocess_dir_problem() -> str | None:
    """Why PROMETHEUS_MULTIPROC_DIR cannot take this process's metrics, or None (also when it
    is unset). Checked at start and by `addon doctor`: prometheus-client itself finds out only
    at the first count, and then every Mailchimp request, webhook and job outcome raises."""
    directory = multiprocess_dir()
    if directory is None:
        return None
    if not os.path.isdir(directory):
        reason = "is not a directory" if os.path.exists(directory) else "does not exist"
    else:
        try:
            with tempfile.TemporaryFile(dir=directory):
                reason = ""
        except OSError as exc:
            reason = f"is not writable by this process ({exc.strerror})"
    if not reason:
        return None
    return (
        f"PROMETHEUS_MULTIPROC_DIR={directory} {reason}: every process writes its metrics "
        "there. Create it, writable by the app's user and shared by all its processes, or "
        "unset the variable."
    )


class _Families(Collector):
    """Metric families computed for one scrape (e.g. from the database)."""

    def __init__(self, families: Iterable[GaugeMetricFamily]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        return self.families


def render(scraped: Iterable[GaugeMetricFamily] = ()) -> bytes:
    """The text exposition: every process's counters (or this one's), then `scraped`."""
    directory = multiprocess_dir()
    if directory is not None:
        counted = CollectorRegistry()
        MultiProcessCollector(counted, path=directory)  # type: ignore[no-untyped-call]
    else:
        counted = REGISTRY
    extra = CollectorRegistry()
    extra.register(_Families(scraped))
    return generate_latest(counted) + generate_latest(extra)
