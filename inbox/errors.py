"""Errors the domain raises on purpose; the HTTP layer and the CLI render them.

Messages are shown to users and written to logs: they never hold personal data.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class InvalidInput(AppError):
    status = 400
    code = "invalid"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class NotFound(AppError):
    """Also what another workspace's id gets: indistinguishable from a missing one."""

    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class TooLarge(AppError):
    status = 413
    code = "too_large"


class Unavailable(AppError):
    status = 503
    code = "unavailable"
