"""Settings, read from ``SHUTTERBOX_*`` environment variables.

Every setting has a default (the embedded, zero-setup mode) and a description;
``docs/configuration.md`` lists them all and a test keeps it in step.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shutterbox.domain.storage import StorageClass, parse_storage_class


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
    trash_retention_days: float = Field(
        default=30.0,
        ge=0,
        description="How long a deleted image stays in its owner's trash (restorable) before "
        "its bytes are removed. 0: removed at once.",
    )
    failed_upload_retention_days: float = Field(
        default=7.0,
        ge=0,
        description="How long an image that failed processing is kept (for its owner to see "
        "why) before it and its original are removed.",
    )
    original_transitions: str = Field(
        default="GLACIER:90",
        pattern=r"^$|^[A-Za-z_]+:\d+(\.\d+)?(,[A-Za-z_]+:\d+(\.\d+)?)*$",
        description="Lifecycle of originals: comma-separated CLASS:DAYS, e.g. "
        "STANDARD_IA:30,GLACIER:90 moves an original to STANDARD_IA at 30 days old and to "
        "GLACIER at 90. Classes: STANDARD_IA, GLACIER_IR, GLACIER, DEEP_ARCHIVE. Variants "
        "always stay in STANDARD. Empty: originals stay where they were written.",
    )
    originals_storage_class: str = Field(
        default="STANDARD",
        description="Storage class new originals are written in: STANDARD, STANDARD_IA or "
        "GLACIER_IR (they must be readable to be processed).",
    )
    storage_class_urls: str = Field(
        default="",
        description="For a local or memory blob store: where each storage class lives, as "
        "comma-separated CLASS=URL (e.g. GLACIER=file:///mnt/cold,DEEP_ARCHIVE=file:///mnt/"
        "tape). Default: a directory per class beside the blob directory (blobs-glacier, ...). "
        "On S3 the classes are the objects' own and this is not used.",
    )
    restore_days: int = Field(
        default=7,
        ge=1,
        description="How many days an archived original stays downloadable once restored.",
    )
    restore_check_seconds: float = Field(
        default=900.0,
        gt=0,
        description="How often a restore that the object store has not finished is checked "
        "again (S3 Glacier restores take hours).",
    )
    lifecycle_interval_seconds: float = Field(
        default=3600.0,
        gt=0,
        description="How often workers apply the lifecycle rules (class transitions, trash "
        "and failed-upload expiry, restored copies that ran out).",
    )
    secret_key: str | None = Field(
        default=None,
        description="Key that signs the URLs the origin hands out (e.g. direct uploads to a "
        "local store) and the web sessions' CSRF tokens. Set the same value on every API node; "
        "default: a random key kept in the data directory.",
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
        "sends PURGE to when an image is deleted or its visibility changes, before the API "
        "answers.",
    )
    direct_upload_expiry_seconds: int = Field(
        default=900,
        gt=0,
        description="How long a direct-upload URL (POST /api/v1/uploads) stays valid.",
    )
    direct_upload_grace_seconds: int = Field(
        default=86400,
        ge=0,
        description="How long after its URL expired an uncompleted direct upload is kept "
        "before it and any bytes it left are removed.",
    )
    token_ttl_days: int = Field(
        default=30,
        description="Lifetime of an API bearer token, and of a web session (the pages' login "
        "cookie).",
    )
    events_poll_seconds: float = Field(
        default=0.5,
        gt=0,
        description="How often each open live-status stream (GET /api/v1/events) looks in the "
        "database for its user's images that changed.",
    )
    events_keepalive_seconds: float = Field(
        default=15.0,
        gt=0,
        description="How often an idle live-status stream sends a keep-alive comment, so that "
        "proxies do not close it.",
    )
    login_rate: str = Field(
        default="10/minute",
        pattern=r"^\s*$|^\s*\d+\s*/\s*(second|minute|hour)s?\s*$",
        description="Failed logins allowed per username and client address (POST "
        "/api/v1/auth/token, POST /api/v1/session, the /login form), as N/second, N/minute or "
        "N/hour; more answer 429 with Retry-After. Counted in each API node's memory. 0 or "
        "empty: no limit.",
    )
    upload_rate: str = Field(
        default="120/minute",
        pattern=r"^\s*$|^\s*\d+\s*/\s*(second|minute|hour)s?\s*$",
        description="Uploads each user may start (POST /api/v1/images, POST /api/v1/uploads), "
        "as N/second, N/minute or N/hour; more answer 429 with Retry-After. Counted in each API "
        "node's memory. 0 or empty: no limit.",
    )
    user_quota_bytes: int = Field(
        default=10 * 1024**3,
        ge=0,
        description="Bytes of originals each user may store, the trash included (its bytes "
        "are still stored until it is purged); an upload that would go over is refused with "
        "413. Default 10 GiB. 0: no quota.",
    )
    idempotency_ttl_hours: int = Field(
        default=24, description="How long an Idempotency-Key keeps answering with its first result."
    )
    price_sheet_path: Path | None = Field(
        default=None,
        description="A TOML price sheet that replaces the built-in one (AWS us-east-1 list "
        "prices) for cost estimates and the live bill; start from a copy of "
        "shutterbox/pricing/prices.toml. Default: the built-in sheet.",
    )

    @model_validator(mode="after")
    def _storage_classes_are_known(self) -> Settings:
        transitions = self.transitions
        if any(storage_class == StorageClass.STANDARD for storage_class, _ in transitions):
            raise ValueError("original_transitions: originals move out of STANDARD, not into it")
        order = list(StorageClass)
        classes = [order.index(storage_class) for storage_class, _ in transitions]
        if classes != sorted(set(classes)):
            raise ValueError("original_transitions: each step must go to a colder class")
        self.class_locations  # noqa: B018 - raises on an unknown class
        if self.originals_class.is_archive:
            raise ValueError(
                "originals_storage_class: new originals must be readable to be processed; "
                "use STANDARD, STANDARD_IA or GLACIER_IR (and a transition to archive them)"
            )
        return self

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
    def transitions(self) -> list[tuple[StorageClass, float]]:
        """(class, age in days) pairs of the originals' lifecycle, youngest first."""
        pairs = []
        for item in filter(None, self.original_transitions.split(",")):
            name, days = item.rsplit(":", 1)
            pairs.append((parse_storage_class(name), float(days)))
        return sorted(pairs, key=lambda pair: pair[1])

    @property
    def class_locations(self) -> dict[StorageClass, str]:
        locations = {}
        for item in filter(None, (i.strip() for i in self.storage_class_urls.split(","))):
            name, _, url = item.partition("=")
            locations[parse_storage_class(name)] = url.strip()
        return locations

    @property
    def originals_class(self) -> StorageClass:
        return parse_storage_class(self.originals_storage_class)

    @property
    def purge_targets(self) -> list[str]:
        return [u.strip().rstrip("/") for u in self.cdn_purge_urls.split(",") if u.strip()]

    @property
    def staging_dir(self) -> Path:
        return self.data_dir / "staging"
