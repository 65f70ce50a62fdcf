"""The extensions and webhooks of an app's manifest as Saleor checks them at installation
(``manifest_rules``): ``clean_extensions`` / ``clean_webhooks`` of
saleor/app/manifest_validations.py@3.20.119 and ``_clean_extensions`` / ``_clean_webhooks``
since 3.23. An extension's ``mount``, ``target``, URL and permissions (those of the app's it
names); a webhook's events (of the version played), subscription query (valid against that
version's schema), ``targetUrl`` and ``customHeaders``; and, where the version checks them, the
``identifier`` each entry may carry (unique, at most 256 characters)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .manifest_errors import fail, manage_apps_refused
from .manifest_events import (
    EXTENSION_MOUNTS_3_20,
    EXTENSION_TARGETS_3_20,
    SYNC_EVENTS,
    async_events,
)
from .manifest_urls import WEBHOOK_URL_SCHEMES, app_url_valid
from .permissions import ALL_PERMISSIONS
from .schema import sandbox_schema
from .webhook_headers import custom_headers_problem
from .webhooks import subscription_problem

IDENTIFIER_MAX_LENGTH = 256  # of an extension or a webhook (manifest_schema.py@3.23.28)


def check_identifiers(entries: list[dict[str, Any]], kind: str) -> None:
    """`_clean_extension_identifier` / `_clean_webhook_identifier` (@3.23.28): blank is none,
    at most 256 characters, no two alike."""
    seen: set[str] = set()
    field = f"{kind}s"
    for entry in entries:
        identifier = (entry.get("identifier") or "").strip()
        if not identifier:
            continue
        if len(identifier) > IDENTIFIER_MAX_LENGTH:
            message = (
                f"Identifier is too long. Maximum length is {IDENTIFIER_MAX_LENGTH} characters."
            )
            raise fail(message, "INVALID", field)
        if identifier in seen:
            message = f"Duplicate {kind} identifier: {identifier}."
            raise fail(message, f"DUPLICATED_{kind.upper()}_IDENTIFIER", field)
        seen.add(identifier)


def check_extension(
    extension: dict[str, Any],
    manifest: dict[str, Any],
    granted: list[str],
    modern: bool,
    manage_apps: bool,
) -> None:
    """`clean_extensions` (@3.20.119) / `_clean_extensions` (since 3.23)."""
    target = extension.get("target", "POPUP")
    if not modern:
        if target not in EXTENSION_TARGETS_3_20:
            raise fail("Incorrect value for field: target", "INVALID", "extensions")
        if extension["mount"] not in EXTENSION_MOUNTS_3_20:
            raise fail("Incorrect value for field: mount", "INVALID", "extensions")
    if not _extension_url_valid(extension["url"], target, manifest, modern):
        raise fail("Incorrect value for field: url.", "INVALID_URL_FORMAT", "extensions")
    permissions: list[str] = extension.get("permissions", [])
    unknown = [p for p in permissions if p not in ALL_PERMISSIONS]
    if unknown:
        message = f"Given permissions don't exist: {', '.join(unknown)}."
        raise fail(message, "INVALID_PERMISSION", "extensions")
    if manage_apps and "MANAGE_APPS" in permissions:
        raise manage_apps_refused("extensions")
    # `_clean_extension_permissions`: those of the app's that it names, as many as it names.
    if len(set(permissions).intersection(granted)) != len(permissions):
        message = "Extension permission must be listed in App's permissions."
        raise fail(message, "OUT_OF_SCOPE_PERMISSION", "extensions")


def _extension_url_valid(url: str, target: str, manifest: dict[str, Any], modern: bool) -> bool:
    app_url = manifest.get("appUrl")
    if modern:  # `_clean_extension_url` (@3.23.28): a path needs an appUrl, unchecked
        return bool(app_url) if url.startswith("/") else app_url_valid(url)
    # `clean_extension_url` (@3.20.119): APP_PAGE takes a path only; a path of another target
    # needs a valid appUrl (a manifest without the key fails the task: refused too).
    if url.startswith("/"):
        return target == "APP_PAGE" or (bool(app_url) and app_url_valid(app_url))
    return target != "APP_PAGE" and app_url_valid(url)


def check_webhook(webhook: dict[str, Any], version: str) -> None:
    """`clean_webhooks` (@3.20.119) / `_clean_webhooks` (since 3.23)."""
    known = async_events(version)
    if any(name not in known for name in webhook.get("asyncEvents", [])):
        raise fail("Invalid asynchronous event.", "INVALID", "webhooks")
    if any(name not in SYNC_EVENTS for name in webhook.get("syncEvents", [])):
        raise fail("Invalid synchronous event.", "INVALID", "webhooks")
    # `SubscriptionQuery(query).is_valid`, against the schema of the version played: a type it
    # lacks (e.g. CustomerDeleted before 3.23.5) does not install.
    problems = _subscription_problems(webhook["query"], version)
    if problems:
        raise fail("Subscription query is not valid: " + problems, "INVALID", "webhooks")
    if not app_url_valid(webhook["targetUrl"], WEBHOOK_URL_SCHEMES):
        raise fail("Invalid target url.", "INVALID_URL_FORMAT", "webhooks")
    headers = webhook.get("customHeaders")
    if headers:
        problem = custom_headers_problem(headers)
        if problem:
            message = f"Invalid custom headers: {problem}"
            raise fail(message, "INVALID_CUSTOM_HEADERS", "webhooks")


# Validating a subscription against Saleor's schema takes milliseconds, and every install of
# the same manifest into the same version asks the same question (each test installs the app).
@lru_cache(maxsize=256)
def _subscription_problems(query: str, version: str) -> str:
    """`SubscriptionQuery(query).error_msg` ("" when valid): a type the version lacks, and a
    query Saleor finds no subscription or no event in (`webhooks.subscription_problem`)."""
    problem = subscription_problem(query, sandbox_schema(version))
    return "" if problem is None else problem[0]
