"""Where things are: the data directory, the metadata database, the blob store, the job
queue, the public base URL and the price sheet."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import BaseModel, Field, model_validator


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

    @model_validator(mode="after")
    def _replica_is_another_store(self) -> Self:
        if self.replica_url and self.replica_url.rstrip("/") == (
            self.resolved_storage_url().rstrip("/")
        ):
            raise ValueError("the replica URL must name another store than the storage URL")
        return self

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
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

    @property
    def staging_dir(self) -> Path:
        return self.data_dir / "staging"
