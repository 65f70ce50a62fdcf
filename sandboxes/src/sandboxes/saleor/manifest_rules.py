"""What Saleor checks in an app's manifest when it installs the app (``SandboxApps.install_app``).

Saleor's installation task fetches the manifest, replaces its ``permissions`` by those granted at
installation and runs ``clean_manifest_data(manifest_data, raise_for_saleor_version=True)``
(saleor/app/installation_utils.py@3.20.119, ``install_app``; the rules are in
saleor/app/manifest_validations.py). The rules come in two generations:

* up to 3.22 (the sandbox plays 3.20.119): hand-written checks (``clean_manifest_data``,
  ``clean_extensions``, ``clean_webhooks``, ``validate_required_fields`` @3.20.119); an
  extension's ``mount`` and ``target`` must name a value of ``AppExtensionMount`` /
  ``AppExtensionTarget`` (saleor/app/types.py@3.20.119), upper-case;
* since 3.23.0: a pydantic ``ManifestSchema`` checks the structure first
  (saleor/app/manifest_schema.py@3.23.28); ``mount`` and ``target`` are free strings (lower-cased),
  extension (since 3.23.19) and webhook (since 3.23.23) ``identifier`` must be unique.

Saleor gathers every problem into the installation's message; the sandbox raises the first one,
with Saleor's message and ``AppErrorCode`` (saleor/app/error_codes.py), and ``field`` naming the
manifest field. Where a generation is looser on a detail (``isActive: 1``, a ``null`` field) the
sandbox applies the stricter rule to both; a value of the wrong type gets pydantic's message.
What Saleor only refuses when it writes the app (a value longer than its database column) is
refused with the message its task gives any unexpected error (saleor/app/tasks.py@3.20.119,
``install_app_task``).
"""

from __future__ import annotations

import ipaddress
import mimetypes
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from graphql import GraphQLError, parse, validate

from .manifest_events import (
    EXTENSION_MOUNTS_3_20,
    EXTENSION_TARGETS_3_20,
    SYNC_EVENTS,
    Version,
    async_events,
)
from .permissions import ALL_PERMISSIONS
from .schema import sandbox_schema
from .version_ranges import version_satisfies
from .versions import version_tuple

# Saleor's URL pattern, as webhook_urls.py reads it for `webhookCreate`.
from .webhook_urls import UNSAFE_CHARS, URL_MAX_LENGTH, URL_PATTERN

MANIFEST_SCHEMA_SINCE: Version = (3, 23, 0)
EXTENSION_IDENTIFIER_SINCE: Version = (3, 23, 19)
WEBHOOK_IDENTIFIER_SINCE: Version = (3, 23, 23)
# An app whose `id` an installed (not removed) app has is refused: saleor/saleor#16272 (commit
# 0813152, "Prevent from installing two apps with the same `App.identifier`"), in
# `clean_manifest_data` of saleor/app/manifest_validations.py. First tagged 3.20.1 and backported
# to 3.19.61: tags 3.19.61 ... 3.19.102 and 3.20.1 onwards hold the check; 3.19.60, 3.20.0 (and
# its pre-releases) and every 3.18 tag do not.
DUPLICATE_IDENTIFIER_REFUSED_SINCE: Version = (3, 20, 1)
DUPLICATE_IDENTIFIER_REFUSED_BACKPORT: Version = (3, 19, 61)
DUPLICATE_APP_CODE_SINCE: Version = (3, 22, 2)  # before, the error had no code
# saleor/saleor#19166 (commit 4eb5981, "Prevent granting MANAGE_APPS to app"): on main after
# 3.23, in no tag yet; the sandbox's current version (main@723cd4e) holds it.
MANAGE_APPS_REFUSED_SINCE: Version = (3, 24, 0)
GIFT_CARD_ID_REFUSED_SINCE: Version = (3, 23, 0)
GIFT_CARD_APP_ID = "saleor.io.gift-card-payment-gateway"  # saleor/giftcard/const.py
IDENTIFIER_MAX_LENGTH = 256  # of an extension or a webhook (manifest_schema.py@3.23.28)

UNKNOWN_ERROR = "Unknown error. Contact with app support."  # saleor/app/tasks.py@3.20.119


class InstallationFailed(Exception):
    """The app installation failed; ``message`` is what Saleor would show in the dashboard,
    ``code`` its ``AppErrorCode`` (upper-case) and ``field`` the manifest field at fault."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        field: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.field = field


def _fail(message: str, code: str | None, field: str) -> InstallationFailed:
    return InstallationFailed(message, code=code, field=field)


# -- URLs -----------------------------------------------------------------------------------------

APP_URL_SCHEMES = ("http", "https", "ftp", "ftps")  # AppURLValidator(): URLValidator's defaults
WEBHOOK_URL_SCHEMES = ("http", "https", "awssqs", "gcpubsub")


def app_url_valid(url: object, schemes: tuple[str, ...] = APP_URL_SCHEMES) -> bool:
    """``AppURLValidator(schemes=...)(url)`` passes (saleor/app/validators.py@3.20.119): Django's
    ``URLValidator.__call__`` with Saleor's pattern, as webhook_urls.py reads it, and the IPv6
    check of a bracketed host."""
    if not isinstance(url, str) or len(url) > URL_MAX_LENGTH or UNSAFE_CHARS.intersection(url):
        return False
    if url.split("://")[0].lower() not in schemes:
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    if not URL_PATTERN.search(url) or host is None or len(host) > 253:
        return False
    bracketed = re.search(r"^\[(.+)\](?::[0-9]{1,5})?$", parts.netloc)
    if bracketed:
        try:
            ipaddress.IPv6Address(bracketed[1])
        except ValueError:
            return False
    return True


def _is_png(url: str) -> bool:
    """``mimetypes.guess_type(url)[0] in ICON_MIME_TYPES`` (["image/png"]) as on Saleor's Python
    3.12, which reads a URL's type from everything after the scheme, query included."""
    _, _, rest = url.partition(":")
    return mimetypes.guess_type(rest)[0] == "image/png"


# -- the manifest ---------------------------------------------------------------------------------

_OPTIONAL_STRINGS = (
    "about",
    "appUrl",
    "dataPrivacyUrl",
    "homepageUrl",
    "supportUrl",
    "audience",
    "requiredSaleorVersion",
    "author",
)
# What each entry of `extensions` / `webhooks` must hold (`validate_required_fields`).
_ENTRY_REQUIRED = {
    "extensions": ("label", "url", "mount"),
    "webhooks": ("name", "targetUrl", "query"),
}
_ENTRY_LABEL = {"extensions": "app extension", "webhooks": "webhook"}
# The database columns the installation writes manifest values to (saleor/app/models.py and
# saleor/webhook/models.py, @3.20.119 as on main): a longer value fails the task.
_APP_COLUMNS = {
    "version": 60,
    "author": 60,
    "id": 256,
    "audience": 256,
    "appUrl": 200,  # URLField's default max_length
    "homepageUrl": 200,
    "supportUrl": 200,
    "dataPrivacyUrl": 200,
}
_ENTRY_COLUMNS = {
    "extensions": {"label": 256, "url": 200, "mount": 256, "target": 128},
    "webhooks": {"name": 255, "targetUrl": 255},
}
APP_NAME_MAX_LENGTH = 60  # AppInstallation.app_name, which the dashboard fills with `name`


def refuses_duplicate_identifier(version: str) -> bool:
    """Whether a Saleor of ``version`` refuses an app whose ``id`` an installed app has."""
    found = version_tuple(version)
    backport = DUPLICATE_IDENTIFIER_REFUSED_BACKPORT
    return found >= DUPLICATE_IDENTIFIER_REFUSED_SINCE or backport <= found < (3, 20, 0)


def check_manifest(
    manifest: dict[str, Any],
    *,
    version: str,
    granted: object,
    installed: Mapping[str, str] | None = None,
    refuse_manage_apps: bool = False,
) -> None:
    """Raise :class:`InstallationFailed` for the first rule of Saleor ``version`` that
    ``manifest`` breaks, ``granted`` being the permissions given at installation.

    With ``installed`` (identifier -> name of the apps installed) an ``id`` already taken is
    refused where the version refuses it; with ``refuse_manage_apps``, MANAGE_APPS where the
    version refuses it."""
    found = version_tuple(version)
    modern = found >= MANIFEST_SCHEMA_SINCE
    _check_structure(manifest, modern)
    _check_app_fields(manifest, version, modern)
    permissions = _check_permissions(granted, "permissions")
    manage_apps = refuse_manage_apps and found >= MANAGE_APPS_REFUSED_SINCE
    if manage_apps and "MANAGE_APPS" in permissions:
        raise _manage_apps_refused("permissions")
    taken = installed if refuses_duplicate_identifier(version) else None
    _check_identifier(manifest, taken, found)
    extensions: list[dict[str, Any]] = manifest.get("extensions") or []
    webhooks: list[dict[str, Any]] = manifest.get("webhooks") or []
    if found >= EXTENSION_IDENTIFIER_SINCE:
        _check_identifiers(extensions, "extension")
    for extension in extensions:
        _check_extension(extension, manifest, permissions, modern, manage_apps)
    if found >= WEBHOOK_IDENTIFIER_SINCE:
        _check_identifiers(webhooks, "webhook")
    for webhook in webhooks:
        _check_webhook(webhook, version)
    _check_columns(manifest)


def _string(value: object, field: str, *, optional: bool = False) -> None:
    if not (isinstance(value, str) or (optional and value is None)):
        raise _fail("Input should be a valid string", "INVALID", field)


def _strings(value: object, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _fail("Input should be a valid list", "INVALID", field)
    return value


def _check_structure(manifest: dict[str, Any], modern: bool) -> None:
    """Required fields and the type of each field the installation reads (``ManifestSchema``
    since 3.23; before, ``validate_required_fields`` and what the task would fail on)."""
    missing = [f for f in ("id", "version", "name", "tokenTargetUrl") if not manifest.get(f)]
    if missing:
        raise _fail(f"Field required: {', '.join(missing)}.", "REQUIRED", missing[0])
    strings = ["id", "version", "name"]
    if modern:  # before, a tokenTargetUrl that is no string fails the URL check
        strings.append("tokenTargetUrl")
    for field in strings:
        _string(manifest[field], field)
    for field in _OPTIONAL_STRINGS:
        _string(manifest.get(field), field, optional=True)
    for field, required in _ENTRY_REQUIRED.items():
        entries = manifest.get(field, [])
        if entries is None and modern:  # `DefaultIfNone`; before 3.23 the task iterates it
            continue
        if not isinstance(entries, list):
            raise _fail("Input should be a valid list", "INVALID", field)
        for entry in entries:
            if not isinstance(entry, dict):
                raise _fail("Input should be a valid dictionary", "INVALID", field)
            absent = sorted(set(required).difference(entry))
            if absent:
                raise _fail(
                    f"Missing required fields for {_ENTRY_LABEL[field]}: {', '.join(absent)}.",
                    "REQUIRED",
                    field,
                )
            for key in required:
                _string(entry[key], field)
            _string(entry.get("identifier"), field, optional=True)
            if field == "extensions":
                _check_extension_types(entry)
            else:
                _check_webhook_types(entry)


def _check_extension_types(extension: dict[str, Any]) -> None:
    if "target" in extension:
        _string(extension["target"], "extensions")
    _strings(extension.get("permissions", []), "extensions")
    if not isinstance(extension.get("options", {}), dict):
        raise _fail("Input should be a valid dictionary", "INVALID", "extensions")


def _check_webhook_types(webhook: dict[str, Any]) -> None:
    # clean_webhooks@3.20.119; since 3.23 pydantic's `bool` also takes 1 or "true": not here.
    if not isinstance(webhook.get("isActive", True), bool):
        raise _fail("Incorrect value for field: isActive.", "INVALID", "webhooks")
    _strings(webhook.get("asyncEvents", []), "webhooks")
    _strings(webhook.get("syncEvents", []), "webhooks")
    if not isinstance(webhook.get("customHeaders") or {}, dict):
        raise _fail("Input should be a valid dictionary", "INVALID", "webhooks")


def _check_app_fields(manifest: dict[str, Any], version: str, modern: bool) -> None:
    """`tokenTargetUrl`, `requiredSaleorVersion`, `author` and `brand` (clean_manifest_data)."""
    if not app_url_valid(manifest["tokenTargetUrl"]):
        message = "Invalid target url." if modern else "Incorrect format."
        raise _fail(message, "INVALID_URL_FORMAT", "tokenTargetUrl")
    constraint = manifest.get("requiredSaleorVersion")
    if constraint:  # clean_required_saleor_version, raise_for_saleor_version=True
        try:
            satisfied = version_satisfies(constraint, version)
        except ValueError:
            message = "Incorrect value for required Saleor version."
            raise _fail(message, "INVALID", "requiredSaleorVersion") from None
        if not satisfied:
            raise _fail(
                f"Saleor version {version} is not supported by the app.",
                "UNSUPPORTED_SALEOR_VERSION",
                "requiredSaleorVersion",
            )
    author = manifest.get("author")
    if author is not None and not author.strip():  # clean_author
        raise _fail("Incorrect value for field: author", "INVALID", "author")
    brand = manifest.get("brand")
    if brand is not None:  # brand_validator (saleor/app/validators.py@3.20.119)
        logo = brand.get("logo") if isinstance(brand, dict) else None
        if not isinstance(logo, dict) or "default" not in logo:
            raise _fail("Missing required field: logo.default.", "REQUIRED", "brand")
        if not app_url_valid(logo["default"]):
            message = "Incorrect value for field: logo.default."
            raise _fail(message, "INVALID_URL_FORMAT", "brand")
        if not _is_png(logo["default"]):
            message = "Invalid file type for field: logo.default."
            raise _fail(message, "INVALID_URL_FORMAT", "brand")


def _check_permissions(granted: object, field: str) -> list[str]:
    """`clean_permissions`: each must be a permission Saleor has."""
    if not isinstance(granted, list):
        raise _fail("Input should be a valid list", "INVALID", field)
    unknown = [str(p) for p in granted if p not in ALL_PERMISSIONS]
    if unknown:
        message = f"Given permissions don't exist: {', '.join(unknown)}."
        raise _fail(message, "INVALID_PERMISSION", field)
    return granted


def _manage_apps_refused(field: str) -> InstallationFailed:
    # `_ensure_app_permissions_allowed` (manifest_validations.py on main@723cd4e)
    message = "MANAGE_APPS permission cannot be granted to an app."
    return _fail(message, "OUT_OF_SCOPE_PERMISSION", field)


def _check_identifier(
    manifest: dict[str, Any], installed: Mapping[str, str] | None, found: Version
) -> None:
    identifier = manifest["id"]
    if installed is not None and identifier in installed:  # since 3.20.1 (and 3.19.61)
        code = "UNIQUE" if found >= DUPLICATE_APP_CODE_SINCE else None
        message = f"App with the same identifier is already installed: {installed[identifier]}"
        raise _fail(message, code, "identifier")
    if found >= GIFT_CARD_ID_REFUSED_SINCE and identifier == GIFT_CARD_APP_ID:
        message = "App with this identifier cannot be installed"
        raise _fail(message, "UNIQUE", "identifier")


def _check_identifiers(entries: list[dict[str, Any]], kind: str) -> None:
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
            raise _fail(message, "INVALID", field)
        if identifier in seen:
            message = f"Duplicate {kind} identifier: {identifier}."
            raise _fail(message, f"DUPLICATED_{kind.upper()}_IDENTIFIER", field)
        seen.add(identifier)


def _check_extension(
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
            raise _fail("Incorrect value for field: target", "INVALID", "extensions")
        if extension["mount"] not in EXTENSION_MOUNTS_3_20:
            raise _fail("Incorrect value for field: mount", "INVALID", "extensions")
    if not _extension_url_valid(extension["url"], target, manifest, modern):
        raise _fail("Incorrect value for field: url.", "INVALID_URL_FORMAT", "extensions")
    permissions: list[str] = extension.get("permissions", [])
    unknown = [p for p in permissions if p not in ALL_PERMISSIONS]
    if unknown:
        message = f"Given permissions don't exist: {', '.join(unknown)}."
        raise _fail(message, "INVALID_PERMISSION", "extensions")
    if manage_apps and "MANAGE_APPS" in permissions:
        raise _manage_apps_refused("extensions")
    # `_clean_extension_permissions`: those of the app's that it names, as many as it names.
    if len(set(permissions).intersection(granted)) != len(permissions):
        message = "Extension permission must be listed in App's permissions."
        raise _fail(message, "OUT_OF_SCOPE_PERMISSION", "extensions")


def _extension_url_valid(url: str, target: str, manifest: dict[str, Any], modern: bool) -> bool:
    app_url = manifest.get("appUrl")
    if modern:  # `_clean_extension_url` (@3.23.28): a path needs an appUrl, unchecked
        return bool(app_url) if url.startswith("/") else app_url_valid(url)
    # `clean_extension_url` (@3.20.119): APP_PAGE takes a path only; a path of another target
    # needs a valid appUrl (a manifest without the key fails the task: refused too).
    if url.startswith("/"):
        return target == "APP_PAGE" or (bool(app_url) and app_url_valid(app_url))
    return target != "APP_PAGE" and app_url_valid(url)


def _check_webhook(webhook: dict[str, Any], version: str) -> None:
    """`clean_webhooks` (@3.20.119) / `_clean_webhooks` (since 3.23)."""
    known = async_events(version)
    if any(name not in known for name in webhook.get("asyncEvents", [])):
        raise _fail("Invalid asynchronous event.", "INVALID", "webhooks")
    if any(name not in SYNC_EVENTS for name in webhook.get("syncEvents", [])):
        raise _fail("Invalid synchronous event.", "INVALID", "webhooks")
    # `SubscriptionQuery(query).is_valid`, against the schema of the version played: a type it
    # lacks (e.g. CustomerDeleted before 3.23.5) does not install.
    problems = _subscription_problems(webhook["query"], version)
    if problems:
        raise _fail("Subscription query is not valid: " + problems, "INVALID", "webhooks")
    if not app_url_valid(webhook["targetUrl"], WEBHOOK_URL_SCHEMES):
        raise _fail("Invalid target url.", "INVALID_URL_FORMAT", "webhooks")
    headers = webhook.get("customHeaders")
    if headers:
        problem = custom_headers_problem(headers)
        if problem:
            message = f"Invalid custom headers: {problem}"
            raise _fail(message, "INVALID_CUSTOM_HEADERS", "webhooks")


# Validating a subscription against Saleor's schema takes milliseconds, and every install of
# the same manifest into the same version asks the same question (each test installs the app).
@lru_cache(maxsize=256)
def _subscription_problems(query: str, version: str) -> str:
    try:
        document = parse(query)
    except GraphQLError as exc:
        return exc.message
    return "; ".join(e.message for e in validate(sandbox_schema(version), document))


# `custom_headers_validator` (saleor/webhook/validators.py@3.20.119, the same on main): RFC 5322
# field names (printable ASCII but ":") and bodies (printable ASCII, space and tab).
HEADERS_NUMBER_LIMIT = 5
HEADERS_LENGTH_LIMIT = 998
_KEY_CHARS = frozenset(chr(c) for c in range(33, 127)) - {":"}
_VALUE_CHARS = frozenset(chr(c) for c in range(32, 127)) | {"\t"}


def custom_headers_problem(headers: dict[Any, Any]) -> str | None:
    """Why Saleor refuses a webhook's ``customHeaders``, or None."""
    if len(headers) > HEADERS_NUMBER_LIMIT:
        return f"Number of headers exceeds the limit: {HEADERS_NUMBER_LIMIT}."
    for key, value in headers.items():
        if not isinstance(key, str) or not isinstance(value, str):
            return "Header must consist of strings."
        if len(key) + len(value) + 2 > HEADERS_LENGTH_LIMIT:
            return (
                f'Header with key: "{key}" exceeds the limit of characters: {HEADERS_LENGTH_LIMIT}.'
            )
        if not _KEY_CHARS.issuperset(key):
            return f'Key "{key}" contains invalid character.'
        if not _VALUE_CHARS.issuperset(value):
            return f'Value "{value}" contains invalid character.'
        lowered = key.lower()
        if not (lowered.startswith(("x-", "authorization")) or lowered == "brokerproperties"):
            return (
                f'"{key}" does not match allowed key pattern: '
                '"X-*", "Authorization*", or "BrokerProperties".'
            )
    return None


def _check_columns(manifest: dict[str, Any]) -> None:
    """Values longer than the columns Saleor writes them to."""
    name = manifest["name"]
    if len(name) > APP_NAME_MAX_LENGTH:  # the appInstall mutation's model validation
        message = (
            f"Ensure this value has at most {APP_NAME_MAX_LENGTH} characters (it has {len(name)})."
        )
        raise _fail(message, "INVALID", "name")
    for field, limit in _APP_COLUMNS.items():
        value = manifest.get(field)
        if isinstance(value, str) and len(value.strip() if field == "author" else value) > limit:
            raise _fail(UNKNOWN_ERROR, None, field)
    for field, columns in _ENTRY_COLUMNS.items():
        for entry in manifest.get(field) or []:
            for key, limit in columns.items():
                value = entry.get(key)
                if isinstance(value, str) and len(value) > limit:
                    raise _fail(UNKNOWN_ERROR, None, field)
