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

``check_manifest`` runs the rules in Saleor's order; this module holds those on the app itself
(``tokenTargetUrl``, ``requiredSaleorVersion``, ``author``, ``brand``, permissions, ``id``), the
others live in their own: ``manifest_fields`` (the fields required, their types and their
database columns), ``manifest_entries`` (extensions and webhooks), ``manifest_urls``
(``AppURLValidator``), ``webhook_headers`` (``customHeaders``) and ``manifest_errors``
(:class:`InstallationFailed`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .manifest_entries import check_extension, check_identifiers, check_webhook
from .manifest_errors import InstallationFailed, fail, manage_apps_refused
from .manifest_events import Version
from .manifest_fields import check_columns, check_structure
from .manifest_urls import app_url_valid, is_png
from .permissions import ALL_PERMISSIONS
from .version_ranges import version_satisfies
from .versions import version_tuple

__all__ = ["InstallationFailed", "check_manifest", "refuses_duplicate_identifier"]

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
    check_structure(manifest, modern)
    _check_app_fields(manifest, version, modern)
    permissions = _check_permissions(granted, "permissions")
    manage_apps = refuse_manage_apps and found >= MANAGE_APPS_REFUSED_SINCE
    if manage_apps and "MANAGE_APPS" in permissions:
        raise manage_apps_refused("permissions")
    taken = installed if refuses_duplicate_identifier(version) else None
    _check_identifier(manifest, taken, found)
    extensions: list[dict[str, Any]] = manifest.get("extensions") or []
    webhooks: list[dict[str, Any]] = manifest.get("webhooks") or []
    if found >= EXTENSION_IDENTIFIER_SINCE:
        check_identifiers(extensions, "extension")
    for extension in extensions:
        check_extension(extension, manifest, permissions, modern, manage_apps)
    if found >= WEBHOOK_IDENTIFIER_SINCE:
        check_identifiers(webhooks, "webhook")
    for webhook in webhooks:
        check_webhook(webhook, version)
    check_columns(manifest)


def _check_app_fields(manifest: dict[str, Any], version: str, modern: bool) -> None:
    """`tokenTargetUrl`, `requiredSaleorVersion`, `author` and `brand` (clean_manifest_data)."""
    if not app_url_valid(manifest["tokenTargetUrl"]):
        message = "Invalid target url." if modern else "Incorrect format."
        raise fail(message, "INVALID_URL_FORMAT", "tokenTargetUrl")
    constraint = manifest.get("requiredSaleorVersion")
    if constraint:  # clean_required_saleor_version, raise_for_saleor_version=True
        try:
            satisfied = version_satisfies(constraint, version)
        except ValueError:
            message = "Incorrect value for required Saleor version."
            raise fail(message, "INVALID", "requiredSaleorVersion") from None
        if not satisfied:
            raise fail(
                f"Saleor version {version} is not supported by the app.",
                "UNSUPPORTED_SALEOR_VERSION",
                "requiredSaleorVersion",
            )
    author = manifest.get("author")
    if author is not None and not author.strip():  # clean_author
        raise fail("Incorrect value for field: author", "INVALID", "author")
    brand = manifest.get("brand")
    if brand is not None:  # brand_validator (saleor/app/validators.py@3.20.119)
        logo = brand.get("logo") if isinstance(brand, dict) else None
        if not isinstance(logo, dict) or "default" not in logo:
            raise fail("Missing required field: logo.default.", "REQUIRED", "brand")
        if not app_url_valid(logo["default"]):
            message = "Incorrect value for field: logo.default."
            raise fail(message, "INVALID_URL_FORMAT", "brand")
        if not is_png(logo["default"]):
            message = "Invalid file type for field: logo.default."
            raise fail(message, "INVALID_URL_FORMAT", "brand")


def _check_permissions(granted: object, field: str) -> list[str]:
    """`clean_permissions`: each must be a permission Saleor has."""
    if not isinstance(granted, list):
        raise fail("Input should be a valid list", "INVALID", field)
    unknown = [str(p) for p in granted if p not in ALL_PERMISSIONS]
    if unknown:
        message = f"Given permissions don't exist: {', '.join(unknown)}."
        raise fail(message, "INVALID_PERMISSION", field)
    return granted


def _check_identifier(
    manifest: dict[str, Any], installed: Mapping[str, str] | None, found: Version
) -> None:
    identifier = manifest["id"]
    if installed is not None and identifier in installed:  # since 3.20.1 (and 3.19.61)
        code = "UNIQUE" if found >= DUPLICATE_APP_CODE_SINCE else None
        message = f"App with the same identifier is already installed: {installed[identifier]}"
        raise fail(message, code, "identifier")
    if found >= GIFT_CARD_ID_REFUSED_SINCE and identifier == GIFT_CARD_APP_ID:
        message = "App with this identifier cannot be installed"
        raise fail(message, "UNIQUE", "identifier")
