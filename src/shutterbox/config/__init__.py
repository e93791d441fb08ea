"""Settings, read from ``SHUTTERBOX_*`` environment variables.

Every setting has a default (the embedded, zero-setup mode) and a description;
``docs/configuration.md`` lists them all and a test keeps it in step. The settings are
grouped by what they are about, one module each; ``Settings`` is all of them together, and
every setting is still read as ``settings.<name>``. A setting that cannot be read stops every
command with one line naming it (``config/problems.py``): a new setting gets that from its
type and bounds, or from ``json_schema_extra={"allowed": ...}`` where those do not say enough.
"""

from __future__ import annotations

from typing import Self

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shutterbox.config.accounts import AccountSettings
from shutterbox.config.delivery import DeliverySettings
from shutterbox.config.lifecycle import LifecycleSettings
from shutterbox.config.places import PlacesSettings
from shutterbox.config.problems import InvalidSetting
from shutterbox.config.processing import ProcessingSettings
from shutterbox.config.resilience import ResilienceSettings
from shutterbox.config.social import SocialSettings
from shutterbox.config.uploads import UploadSettings

# Stores whose objects carry storage classes of their own, where archiving old originals is
# what the bucket's price is about; elsewhere (a local disk, memory) an archived original is
# one that every download, scrub and reprocess would have to restore first.
OBJECT_STORES_WITH_CLASSES = ("s3", "s3a")
OBJECT_STORE_TRANSITIONS = "GLACIER:90"


class Settings(
    BaseSettings,
    PlacesSettings,
    UploadSettings,
    ProcessingSettings,
    LifecycleSettings,
    DeliverySettings,
    AccountSettings,
    SocialSettings,
    ResilienceSettings,
):
    model_config = SettingsConfigDict(env_prefix="SHUTTERBOX_", extra="ignore")

    @model_validator(mode="after")
    def _transitions_suit_the_store(self) -> Self:
        """Unset, the originals' transitions are GLACIER:90 on S3 and none elsewhere; on a
        local disk a transition to an archive class is refused unless the operator gave that
        class a location of its own (SHUTTERBOX_STORAGE_CLASS_URLS)."""
        scheme = self.resolved_storage_url().split("://", 1)[0].lower()
        if self.original_transitions is None:
            on_s3 = scheme in OBJECT_STORES_WITH_CLASSES
            self.original_transitions = OBJECT_STORE_TRANSITIONS if on_s3 else ""
            return self
        if scheme not in ("file", "memory"):
            return self
        placed = self.class_locations
        for storage_class, _days in self.transitions:
            if storage_class.is_archive and storage_class not in placed:
                raise InvalidSetting(
                    "original_transitions",
                    self.original_transitions,
                    f"{storage_class} is an archive class (every read needs a restore) and "
                    "the blob store is a local disk: use STANDARD_IA or GLACIER_IR, leave it "
                    f"empty, or give {storage_class} a location of its own in "
                    "SHUTTERBOX_STORAGE_CLASS_URLS",
                )
        return self


__all__ = ["Settings"]
