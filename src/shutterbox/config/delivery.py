"""Serving: the keys that sign URLs, signed links for private images, the CDN in front, redirects
to the object store, edge purges and the live-status streams."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from shutterbox.config.types import PositiveSeconds


class DeliverySettings(BaseModel):
    section: ClassVar[str] = "Delivery"  # its heading in docs/configuration.md

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
    media_accel_redirect: str = Field(
        default="",
        pattern=r"^(/[A-Za-z0-9._~-]+)*$",
        description="Behind nginx on the machine that holds a local blob store: the prefix of "
        "nginx's internal location for media files (deploy/nginx uses /_shutterbox_files). "
        "After its access checks the API answers a media request with an empty body and "
        "X-Accel-Redirect: PREFIX + the file's absolute path, and nginx sends the file with "
        "sendfile. Only with nginx between the API and every client (an edge cache straight "
        "in front of the API would keep the empty body). Empty: the API sends the bytes itself.",
    )
    cdn_purge_urls: str = Field(
        default="",
        description="Comma-separated base URLs of the edge caches (e.g. Varnish) the origin "
        "sends PURGE to when an image is deleted or its visibility changes, before the API "
        "answers.",
    )
    events_poll_seconds: PositiveSeconds = Field(
        default=0.5,
        description="On SQLite, how often each API process's one poller looks for users with "
        "new live-status events (GET /api/v1/events) written by other processes; a write "
        "committed in the same process wakes the streams at once. On PostgreSQL the database "
        "notifies the process (LISTEN/NOTIFY) and nothing polls at this pace.",
    )
    events_safety_poll_seconds: PositiveSeconds = Field(
        default=20.0,
        description="How often every open live-status stream looks in the database even "
        "without a wake-up: a safety net for a notification missed while the PostgreSQL "
        "listener was reconnecting.",
    )
    events_streams_per_user: int = Field(
        default=5,
        ge=1,
        description="Open live-status streams a user may hold on one API process (a browser "
        "tab with the upload page open holds one); one more is refused with 429, and the page "
        "falls back to asking for its images' status from time to time.",
    )
    events_keepalive_seconds: PositiveSeconds = Field(
        default=15.0,
        description="How often an idle live-status stream sends a keep-alive comment, so that "
        "proxies do not close it.",
    )

    @property
    def purge_targets(self) -> list[str]:
        return [u.strip().rstrip("/") for u in self.cdn_purge_urls.split(",") if u.strip()]
