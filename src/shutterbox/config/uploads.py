"""What an upload may be: its size and dimensions, its details, the user's quota and rate,
retries with an Idempotency-Key and direct-to-storage uploads."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from shutterbox.config.types import Rate


class UploadSettings(BaseModel):
    section: ClassVar[str] = "Uploads"  # its heading in docs/configuration.md

    max_upload_bytes: int = Field(
        default=50 * 1024 * 1024,
        gt=0,
        description="Largest accepted upload in bytes (413 above).",
    )
    uploads_in_flight: int = Field(
        default=16,
        ge=1,
        description="Uploads one API process reads and stores at once; more wait their turn "
        "(their bytes wait in the connection), so that reads stay fast during a burst.",
    )
    max_pixels: int = Field(
        default=100_000_000,
        gt=0,
        description="Largest accepted width x height, checked from the header before decoding.",
    )
    max_caption_chars: int = Field(default=2200, description="Longest accepted caption.")
    max_tags: int = Field(default=30, description="Most tags on one image.")
    user_quota_bytes: int = Field(
        default=10 * 1024**3,
        ge=0,
        description="Bytes of originals each user may store, the trash included (its bytes "
        "are still stored until it is purged); an upload that would go over is refused with "
        "413. Default 10 GiB. 0: no quota.",
    )
    upload_rate: Rate = Field(
        default="120/minute",
        description="Uploads each user may start (POST /api/v1/images, POST /api/v1/uploads), "
        "as N/second, N/minute or N/hour; more answer 429 with Retry-After. Counted where "
        "SHUTTERBOX_RATE_LIMIT_URL says. 0 or empty: no limit.",
    )
    idempotency_ttl_hours: int = Field(
        default=24, description="How long an Idempotency-Key keeps answering with its first result."
    )
    direct_upload_expiry_seconds: int = Field(
        default=900,
        gt=0,
        description="How long a direct-upload URL (POST /api/v1/uploads) stays valid.",
    )
    resumable_upload_expiry_seconds: int = Field(
        default=86400,
        gt=0,
        description="How long a resumable (tus) upload waits for its next bytes: every part "
        "received extends it (its `Upload-Expires` header says until when). Then it answers "
        "410, and its parts are removed with the abandoned direct uploads.",
    )
    resumable_chunk_bytes: int = Field(
        default=8 * 1024 * 1024,
        gt=0,
        description="Size of the parts the upload page sends a file in (each resumes on its "
        "own); keep it under any request-body limit of the proxies in front.",
    )
    direct_upload_grace_seconds: int = Field(
        default=86400,
        ge=0,
        description="How long after its URL expired an uncompleted direct upload is kept "
        "before it and any bytes it left are removed.",
    )
