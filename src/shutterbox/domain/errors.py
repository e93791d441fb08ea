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


class DuplicateUpload(Conflict):
    """The same bytes as an image the uploader already has, sent with details that image does
    not have: answering with that image would silently drop them."""

    code = "duplicate_upload"

    def __init__(self, message: str, image_id: str) -> None:
        super().__init__(message)
        self.image_id = image_id


class Gone(ShutterboxError):
    status = 410
    code = "gone"


class QuotaExceeded(ShutterboxError):
    status = 413
    code = "quota_exceeded"


class RateLimited(ShutterboxError):
    """Too many requests; ``retry_after``: seconds until the limit lets the client again."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TooManyStreams(RateLimited):
    """A user already holds as many live-status streams as one process allows."""

    code = "too_many_streams"


class Unavailable(ShutterboxError):
    """A service this one depends on (the database, the blob store) cannot be reached right
    now; nothing was changed, and the same request may succeed after ``retry_after`` seconds."""

    status = 503
    code = "unavailable"

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ImageRejected(Exception):
    """The worker cannot make variants from these bytes; ``reason`` is for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
