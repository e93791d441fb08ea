"""Where things are: the data directory, the metadata database, the blob store, the job
queue, the rate-limit counters, the public base URL and the price sheet.

The URLs are checked here only for their form (a scheme the adapters know), so that a typing
mistake is refused at start in one line; whether the place answers is found when it is used."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from shutterbox.config.problems import InvalidSetting

STORE_SCHEMES = ("file", "memory", "s3", "s3a", "gs", "gcs", "az", "azure", "abfs", "abfss")
STORE_FORMS = "file:///path, memory://, s3://bucket[/prefix], gs://bucket or az://container"
QUEUE_SCHEMES = ("db", "nats", "tls", "kafka")
RATE_LIMIT_SCHEMES = ("memory", "db", "redis", "rediss")
DATABASE_DRIVERS = {"sqlite": ("aiosqlite",), "postgresql": ("asyncpg",)}
DATABASE_FORMS = "sqlite+aiosqlite:///path/to/file.db or postgresql+asyncpg://user@host/db"


class PlacesSettings(BaseModel):
    section: ClassVar[str] = "Where things are"  # its heading in docs/configuration.md

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
    replica_url: str | None = Field(
        default=None,
        description="A second store for a copy of every original (another disk, bucket or "
        "provider), in the same URL forms as the storage URL; reads fall back to it when the "
        "first copy is missing or damaged, and scrub --repair restores either copy from the "
        "other. Variants are not copied (they can be made again). Default: no replica.",
    )
    replica_copy: Literal["before_ack", "before_ready"] = Field(
        default="before_ack",
        description="When an original reaches the replica: before_ack (the upload is "
        "answered only once both copies are stored) or before_ready (the upload is answered "
        "after the first copy, and the worker copies it before the image becomes ready: "
        "faster uploads, but a disk lost in between loses the images not processed yet).",
    )
    queue_url: str = Field(
        default="db://",
        description="Job queue: db:// keeps jobs in the metadata database; "
        "nats://host:4222[?stream=NAME] delivers them through NATS JetStream, "
        "kafka://host:9092[,host2:9092][?topic=NAME&group=NAME&partitions=N] through Kafka "
        "(the jobs table stays the source of truth either way).",
    )
    rate_limit_url: str = Field(
        default="",
        json_schema_extra={"allowed": "memory://, db://, redis://host:6379[/N] or empty"},
        description="Where the rate limits (uploads, comments, reports, logins, share-link "
        "passwords) are counted: memory:// in each process (one process only), db:// in the "
        "metadata database (shared by every API node), redis://host:6379[/N][?prefix=P] in Redis "
        "(shared, and no writes to the database; a prefix or database number per "
        "installation). Default: memory:// for the embedded default with one "
        "API process; db:// on PostgreSQL or with several API processes.",
    )
    public_base_url: str = Field(
        default="",
        description="Absolute base for URLs handed out by the API (empty: relative URLs).",
    )
    price_sheet_path: Path | None = Field(
        default=None,
        description="A TOML price sheet that replaces the built-in one (AWS us-east-1 list "
        "prices) for cost estimates and the live bill; start from a copy of "
        "shutterbox/pricing/prices.toml. Default: the built-in sheet.",
    )

    @field_validator("storage_url", "replica_url")
    @classmethod
    def _a_known_store(cls, url: str | None) -> str | None:
        if url and _scheme(url) not in STORE_SCHEMES:
            raise ValueError(f"expected {STORE_FORMS}")
        return url

    @field_validator("queue_url")
    @classmethod
    def _a_known_queue(cls, url: str) -> str:
        if _scheme(url) not in QUEUE_SCHEMES:
            raise ValueError("expected db://, nats://host:4222[?stream=NAME] or kafka://host:9092")
        return url

    @field_validator("rate_limit_url")
    @classmethod
    def _a_known_counter(cls, url: str) -> str:
        if url and _scheme(url) not in RATE_LIMIT_SCHEMES:
            raise ValueError("expected memory://, db://, redis://host:6379[/N] or empty")
        return url

    @field_validator("database_url")
    @classmethod
    def _a_known_database(cls, url: str | None) -> str | None:
        if not url:
            return url
        try:
            parsed = make_url(_with_async_driver(url))
        except ArgumentError:
            raise ValueError(f"expected {DATABASE_FORMS}") from None
        drivers = DATABASE_DRIVERS.get(parsed.get_backend_name())
        if drivers is None or parsed.get_driver_name() not in drivers:
            raise ValueError(f"expected {DATABASE_FORMS}")
        return url

    @model_validator(mode="after")
    def _replica_is_another_store(self) -> Self:
        if self.replica_url and self.replica_url.rstrip("/") == (
            self.resolved_storage_url().rstrip("/")
        ):
            raise InvalidSetting(
                "replica_url",
                self.replica_url,
                "the replica must be another store than SHUTTERBOX_STORAGE_URL",
            )
        return self

    def resolved_database_url(self) -> str:
        """The database's SQLAlchemy async URL (``postgresql://`` and ``sqlite://`` get their
        async drivers)."""
        if self.database_url:
            return _with_async_driver(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'shutterbox.db').resolve()}"

    def sqlite_file(self) -> Path | None:
        """The SQLite database's file, when the database is SQLite (``sqlite:///relative`` or
        ``sqlite:////absolute``, any driver)."""
        url = self.resolved_database_url()
        if not url.startswith("sqlite") or ":///" not in url:
            return None
        path = url.split(":///", 1)[1].split("?", 1)[0]
        return Path(path) if path and path != ":memory:" else None

    def resolved_storage_url(self) -> str:
        if self.storage_url:
            return self.storage_url
        return (self.data_dir / "blobs").resolve().as_uri()

    def resolved_rate_limit_url(self, api_processes: int) -> str:
        """Where rate limits are counted: the setting, or else in memory when one process
        answers on the embedded default, and in the database otherwise."""
        if self.rate_limit_url:
            return self.rate_limit_url
        if self.sqlite_file() is not None and api_processes == 1:
            return "memory://"
        return "db://"

    @property
    def staging_dir(self) -> Path:
        return self.data_dir / "staging"


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


def _with_async_driver(url: str) -> str:
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url
