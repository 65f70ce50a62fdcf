"""How the sandbox refuses an app's manifest at installation (``manifest_rules``): the
:class:`InstallationFailed` every rule raises, with Saleor's message, its ``AppErrorCode``
(saleor/app/error_codes.py) and the manifest field at fault; the refusal of MANAGE_APPS, which
both the app's permissions and an extension's meet; and the message Saleor's installation task
gives any unexpected error (what it only refuses when it writes the app)."""

from __future__ import annotations

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


def fail(message: str, code: str | None, field: str) -> InstallationFailed:
    return InstallationFailed(message, code=code, field=field)


def manage_apps_refused(field: str) -> InstallationFailed:
    # `_ensure_app_permissions_allowed` (manifest_validations.py on main@723cd4e)
    message = "MANAGE_APPS permission cannot be granted to an app."
    return fail(message, "OUT_OF_SCOPE_PERMISSION", field)
