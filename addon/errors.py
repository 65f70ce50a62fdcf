"""Errors the app's HTTP API reports, in the shape Saleor shows to installers.

Every error answers `{"success": false, "error": {"code": …, "message": …}}`; the message is a
sentence a store admin understands.
"""

from __future__ import annotations


class AppError(Exception):
    status_code: int = 400
    code: str = "BAD_REQUEST"

    def __init__(self, message: str, *, code: str | None = None, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code


class BadRequest(AppError):
    status_code = 400
    code = "BAD_REQUEST"


class Unauthorized(AppError):
    status_code = 401
    code = "UNAUTHORIZED"


class Forbidden(AppError):
    status_code = 403
    code = "FORBIDDEN"


class NotFound(AppError):
    status_code = 404
    code = "NOT_FOUND"


class Conflict(AppError):
    status_code = 409
    code = "CONFLICT"


class UpstreamUnavailable(AppError):
    status_code = 502
    code = "UPSTREAM_UNAVAILABLE"
