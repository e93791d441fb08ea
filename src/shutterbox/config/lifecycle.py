"""Storage over time: the trash, failed uploads, the originals' storage classes and their
transitions, restores from archive classes and how often the rules are applied."""

from __future__ import annotations

from typing import ClassVar, Self

from pydantic import BaseModel, Field, model_validator

from shutterbox.config.problems import InvalidSetting
from shutterbox.config.types import Days, PositiveSeconds
from shutterbox.domain.storage import StorageClass, parse_storage_class


class LifecycleSettings(BaseModel):
    section: ClassVar[str] = "Storage over time"  # its heading in docs/configuration.md

    trash_retention_days: Days = Field(
        default=30.0,
        description="How long a deleted image stays in its owner's trash (restorable) before "
        "its bytes are removed. 0: removed at once.",
    )
    failed_upload_retention_days: Days = Field(
        default=7.0,
        description="How long an image that failed processing is kept (for its owner to see "
        "why) before it and its original are removed.",
    )
    original_transitions: str | None = Field(
        default=None,
        pattern=r"^$|^[A-Za-z_]+:\d+(\.\d+)?(,[A-Za-z_]+:\d+(\.\d+)?)*$",
        json_schema_extra={
            "allowed": "comma-separated CLASS:DAYS (e.g. STANDARD_IA:30,GLACIER:90) with "
            "classes STANDARD_IA, GLACIER_IR, GLACIER or DEEP_ARCHIVE; empty: no transitions"
        },
        description="Lifecycle of originals: comma-separated CLASS:DAYS, e.g. "
        "STANDARD_IA:30,GLACIER:90 moves an original to STANDARD_IA at 30 days old and to "
        "GLACIER at 90. Classes: STANDARD_IA, GLACIER_IR, GLACIER, DEEP_ARCHIVE. Variants "
        "always stay in STANDARD. Empty: originals stay where they were written. Default: "
        "GLACIER:90 on S3; none on a local disk (or memory), where only classes readable at "
        "once (STANDARD_IA, GLACIER_IR) are allowed, unless SHUTTERBOX_STORAGE_CLASS_URLS "
        "gives the archive class a location of its own.",
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
    restore_check_seconds: PositiveSeconds = Field(
        default=900.0,
        description="How often a restore that the object store has not finished is checked "
        "again (S3 Glacier restores take hours).",
    )
    lifecycle_interval_seconds: PositiveSeconds = Field(
        default=3600.0,
        description="How often workers apply the lifecycle rules (class transitions, trash "
        "and failed-upload expiry, restored copies that ran out) and merge SQLite's search "
        "index when it is spread over many pieces.",
    )

    @model_validator(mode="after")
    def _storage_classes_are_known(self) -> Self:
        transitions = self.transitions
        value = self.original_transitions
        if any(storage_class == StorageClass.STANDARD for storage_class, _ in transitions):
            raise InvalidSetting(
                "original_transitions", value, "originals move out of STANDARD, not into it"
            )
        order = list(StorageClass)
        classes = [order.index(storage_class) for storage_class, _ in transitions]
        if classes != sorted(set(classes)):
            raise InvalidSetting(
                "original_transitions", value, "each step must go to a colder class"
            )
        self.class_locations  # noqa: B018 - raises on an unknown class
        if self.originals_class.is_archive:
            raise InvalidSetting(
                "originals_storage_class",
                self.originals_storage_class,
                "new originals must be readable to be processed; use STANDARD, STANDARD_IA "
                "or GLACIER_IR (and a transition to archive them)",
            )
        return self

    @property
    def transitions(self) -> list[tuple[StorageClass, float]]:
        """(class, age in days) pairs of the originals' lifecycle, youngest first."""
        pairs = []
        for item in filter(None, (self.original_transitions or "").split(",")):
            name, days = item.rsplit(":", 1)
            pairs.append((self._storage_class("original_transitions", name), float(days)))
        return sorted(pairs, key=lambda pair: pair[1])

    @property
    def class_locations(self) -> dict[StorageClass, str]:
        locations = {}
        for item in filter(None, (i.strip() for i in self.storage_class_urls.split(","))):
            name, _, url = item.partition("=")
            locations[self._storage_class("storage_class_urls", name)] = url.strip()
        return locations

    @property
    def originals_class(self) -> StorageClass:
        return self._storage_class("originals_storage_class", self.originals_storage_class)

    def _storage_class(self, setting: str, name: str) -> StorageClass:
        try:
            return parse_storage_class(name)
        except ValueError as error:
            raise InvalidSetting(setting, getattr(self, setting), str(error)) from None
