"""The fields of an app's manifest as Saleor reads them at installation (``manifest_rules``): the
ones required, of the app and of each extension and webhook, and the type of each field the
installation reads (a pydantic ``ManifestSchema`` since 3.23, saleor/app/manifest_schema.py
@3.23.28; before, ``validate_required_fields`` of saleor/app/manifest_validations.py@3.20.119 and
what the task would fail on), checked before any rule; and, after every rule, the length of the
values Saleor writes to its database columns, which only fail when it writes the app (with the
message its task gives any unexpected error)."""

from __future__ import annotations

from typing import Any

from .manifest_errors import UNKNOWN_ERROR, fail

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


def _string(value: object, field: str, *, optional: bool = False) -> None:
    if not (isinstance(value, str) or (optional and value is None)):
        raise fail("Input should be a valid string", "INVALID", field)


def _strings(value: object, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise fail("Input should be a valid list", "INVALID", field)
    return value


def check_structure(manifest: dict[str, Any], modern: bool) -> None:
    """Required fields and the type of each field the installation reads (``ManifestSchema``
    since 3.23; before, ``validate_required_fields`` and what the task would fail on)."""
    missing = [f for f in ("id", "version", "name", "tokenTargetUrl") if not manifest.get(f)]
    if missing:
        raise fail(f"Field required: {', '.join(missing)}.", "REQUIRED", missing[0])
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
            raise fail("Input should be a valid list", "INVALID", field)
        for entry in entries:
            if not isinstance(entry, dict):
                raise fail("Input should be a valid dictionary", "INVALID", field)
            absent = sorted(set(required).difference(entry))
            if absent:
                raise fail(
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
        raise fail("Input should be a valid dictionary", "INVALID", "extensions")


def _check_webhook_types(webhook: dict[str, Any]) -> None:
    # clean_webhooks@3.20.119; since 3.23 pydantic's `bool` also takes 1 or "true": not here.
    if not isinstance(webhook.get("isActive", True), bool):
        raise fail("Incorrect value for field: isActive.", "INVALID", "webhooks")
    _strings(webhook.get("asyncEvents", []), "webhooks")
    _strings(webhook.get("syncEvents", []), "webhooks")
    if not isinstance(webhook.get("customHeaders") or {}, dict):
        raise fail("Input should be a valid dictionary", "INVALID", "webhooks")


def check_columns(manifest: dict[str, Any]) -> None:
    """Values longer than the columns Saleor writes them to."""
    name = manifest["name"]
    if len(name) > APP_NAME_MAX_LENGTH:  # the appInstall mutation's model validation
        message = (
            f"Ensure this value has at most {APP_NAME_MAX_LENGTH} characters (it has {len(name)})."
        )
        raise fail(message, "INVALID", "name")
    for field, limit in _APP_COLUMNS.items():
        value = manifest.get(field)
        if isinstance(value, str) and len(value.strip() if field == "author" else value) > limit:
            raise fail(UNKNOWN_ERROR, None, field)
    for field, columns in _ENTRY_COLUMNS.items():
        for entry in manifest.get(field) or []:
            for key, limit in columns.items():
                value = entry.get(key)
                if isinstance(value, str) and len(value) > limit:
                    raise fail(UNKNOWN_ERROR, None, field)
