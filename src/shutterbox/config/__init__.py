"""Settings, read from ``SHUTTERBOX_*`` environment variables.

Every setting has a default (the embedded, zero-setup mode) and a description;
``docs/configuration.md`` lists them all and a test keeps it in step. The settings are
grouped by what they are about, one module each; ``Settings`` is all of them together, and
every setting is still read as ``settings.<name>``.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from shutterbox.config.accounts import AccountSettings
from shutterbox.config.delivery import DeliverySettings
from shutterbox.config.lifecycle import LifecycleSettings
from shutterbox.config.places import PlacesSettings
from shutterbox.config.processing import ProcessingSettings
from shutterbox.config.resilience import ResilienceSettings
from shutterbox.config.social import SocialSettings
from shutterbox.config.uploads import UploadSettings


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


__all__ = ["Settings"]
