"""Settings, read from ``SHUTTERBOX_*`` environment variables.

Every setting has a default (the embedded, zero-setup mode) and a description;
``docs/configuration.md`` lists them all and a test keeps it in step.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHUTTERBOX_", extra="ignore")

    data_dir: Path = Field(
        default=Path("shutterbox-data"),
        description="Directory for the embedded database, blobs and staging files.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL of the metadata database; "
        "default: a SQLite file inside the data directory.",
    )
    storage_url: str | None = Field(
        default=None,
        description="Where blobs live: file:///path, memory://, s3://bucket[/prefix] "
        "(credentials, region and endpoint from the standard AWS_* variables), gs://bucket, "
        "az://container; default: the 'blobs' directory inside the data directory.",
    )
    queue_url: str = Field(
        default="db://",
        description="Job queue: db:// keeps jobs in the metadata database; "
        "nats://host:4222[?stream=NAME] delivers them through NATS JetStream (the jobs "
        "table stays the source of truth).",
    )
    public_base_url: str = Field(
        default="",
        description="Absolute base for URLs handed out by the API (empty: relative URLs).",
    )
    max_upload_bytes: int = Field(
        default=50 * 1024 * 1024,
        gt=0,
        description="Largest accepted upload in bytes (413 above).",
    )
    max_pixels: int = Field(
        default=100_000_000,
        gt=0,
        description="Largest accepted width x height, checked from the header before decoding.",
    )
    max_caption_chars: int = Field(default=2200, description="Longest accepted caption.")
    max_tags: int = Field(default=30, description="Most tags on one image.")
    variant_formats: str = Field(
        default="jpeg,webp",
        pattern=r"^jpeg(,(webp|avif))*$",
        description="Formats every variant is made in: jpeg, plus webp and/or avif "
        "(e.g. jpeg,webp,avif). Media URLs without an extension negotiate on Accept.",
    )
    jpeg_quality: int = Field(
        default=82, ge=1, le=100, description="JPEG quality of the variants (1-100)."
    )
    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=0,
        description="Background workers run inside `shutterbox serve` (0 disables them).",
    )
    job_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long a claimed job stays leased; a job whose worker died is "
        "claimed again after this.",
    )
    job_max_attempts: int = Field(
        default=5,
        ge=1,
        description="Attempts before a job that keeps failing marks the image failed.",
    )
    job_retry_base_seconds: float = Field(
        default=2.0, description="First retry delay; doubles with every attempt."
    )
    job_poll_seconds: float = Field(
        default=1.0, description="How often an idle worker looks for jobs from other processes."
    )
    queue_sweep_seconds: float = Field(
        default=15.0,
        gt=0,
        description="How often workers look for jobs whose delivery was lost (a message "
        "that never reached the queue) and deliver them again, and clear abandoned direct "
        "uploads.",
    )
    job_memory_limit_mb: int = Field(
        default=1024,
        ge=64,
        description="Address-space limit of the child process that decodes one picture; a "
        "picture that needs more fails with a reason instead of exhausting the machine.",
    )
    job_time_limit_seconds: float = Field(
        default=120.0,
        gt=0,
        description="Longest one picture may take to process before it fails with a reason.",
    )
    trash_retention_seconds: float = Field(
        default=0.0,
        description="How long a deleted image's bytes are kept before a background job "
        "reclaims them.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Key that signs the URLs the origin hands out (e.g. direct uploads to a "
        "local store). Set the same value on every API node; default: a random key kept in "
        "the data directory.",
    )
    previous_secret_keys: str = Field(
        default="",
        description="Comma-separated keys that signed URLs before the current secret key: "
        "URLs they signed stay valid until they expire, so the key can be rotated.",
    )
    signed_url_ttl_seconds: int = Field(
        default=3600,
        ge=60,
        description="Lifetime of the signed URLs handed out for private images.",
    )
    cdn_base_url: str = Field(
        default="",
        description="Base URL of the CDN in front of the origin (e.g. https://cdn.example.com): "
        "media URLs of public images point there. Empty: the origin's own URLs.",
    )
    media_redirect_seconds: int = Field(
        default=0,
        ge=0,
        description="On an object store that signs URLs (S3 …): answer media requests with a "
        "redirect to a presigned GET valid this long instead of streaming the bytes through "
        "the origin. 0: stream them.",
    )
    cdn_purge_urls: str = Field(
        default="",
        description="Comma-separated base URLs of the edge caches (e.g. Varnish) the origin "
        "sends PURGE to when an image is deleted, before the DELETE answers.",
    )
    direct_upload_expiry_seconds: int = Field(
        default=900,
        gt=0,
        description="How long a direct-upload URL (POST /api/v1/uploads) stays valid.",
    )
    direct_upload_grace_seconds: int = Field(
        default=3600,
        ge=0,
        description="How long after its URL expired an uncompleted direct upload is kept "
        "before it and any bytes it left are removed.",
    )
    token_ttl_days: int = Field(default=30, description="Lifetime of an API bearer token.")
    idempotency_ttl_hours: int = Field(
        default=24, description="How long an Idempotency-Key keeps answering with its first result."
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'shutterbox.db').resolve()}"

    def resolved_storage_url(self) -> str:
        if self.storage_url:
            return self.storage_url
        return (self.data_dir / "blobs").resolve().as_uri()

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.strip() for f in self.variant_formats.split(",")))

    @property
    def purge_targets(self) -> list[str]:
        return [u.strip().rstrip("/") for u in self.cdn_purge_urls.split(",") if u.strip()]

    @property
    def staging_dir(self) -> Path:
        return self.data_dir / "staging"
