"""Errors the domain raises; the API maps each to an HTTP status with a message."""

from __future__ import annotations


class ShutterboxError(Exception):
    """Base class: ``status`` is the HTTP status the API answers with."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ShutterboxError):
    status = 422
    code = "invalid_input"


class PayloadTooLarge(ShutterboxError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ShutterboxError):
    status = 415
    code = "unsupported_media_type"


class ImageTooLarge(ShutterboxError):
    status = 422
    code = "image_too_large"


class NotFound(ShutterboxError):
    status = 404
    code = "not_found"


class Forbidden(ShutterboxError):
    status = 403
    code = "forbidden"


class Unauthorized(ShutterboxError):
    status = 401
    code = "unauthorized"


class Conflict(ShutterboxError):
    status = 409
    code = "conflict"


class Gone(ShutterboxError):
    status = 410
    code = "gone"


class ImageRejected(Exception):
    """The worker cannot make variants from these bytes; ``reason`` is for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
