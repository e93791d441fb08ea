"""What every use case needs, wired once by ``bootstrap``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from shutterbox.config import Settings
from shutterbox.domain.resilience import CircuitBreaker
from shutterbox.ports import BlobStore, JobQueue, MultipartUploads, StorageTiers
from shutterbox.ports.events import EventFeed
from shutterbox.ports.imaging import ImagingRunner
from shutterbox.ports.metadata import Metadata
from shutterbox.services.billing.egress import EgressMeter
from shutterbox.services.delivery.media_urls import MediaUrls
from shutterbox.services.images.event_hub import EventHub
from shutterbox.services.people.limits import RateLimiter


@dataclass
class Services:
    settings: Settings
    metadata: Metadata  # the repositories, in read or write transactions
    store: BlobStore
    queue: JobQueue
    staging_dir: Path
    imaging: ImagingRunner
    secret_key: bytes
    tiers: StorageTiers | None = None  # storage classes, where the store has them
    multipart: MultipartUploads | None = None  # uploads straight to the bucket in parts (S3)
    # What wakes the live-status streams (nothing connects until the first stream opens;
    # without one, only the safety poll does).
    event_feed: EventFeed | None = None
    # The rate limits (``bootstrap`` gives it the configured rates and where they are
    # counted; the default limits nothing) and the media bytes this process sent, until
    # they are flushed.
    rate_limiter: RateLimiter = field(default_factory=lambda: RateLimiter({}))
    egress_meter: EgressMeter = field(default_factory=EgressMeter)
    # The circuit breaker of each dependency that is another server, by name (database,
    # store, replica, queue, edge): ``services/resilience.py``.
    breakers: dict[str, CircuitBreaker] = field(default_factory=dict)

    @cached_property
    def upload_slots(self) -> asyncio.Semaphore:
        """The uploads this process reads and stores at once (``SHUTTERBOX_UPLOADS_IN_FLIGHT``)."""
        return asyncio.Semaphore(self.settings.uploads_in_flight)

    @cached_property
    def media_urls(self) -> MediaUrls:
        previous = [k.strip().encode() for k in self.settings.previous_secret_keys.split(",")]
        return MediaUrls(
            origin_base=self.settings.public_base_url,
            cdn_base=self.settings.cdn_base_url.rstrip("/"),
            keys=(self.secret_key, *[k for k in previous if k]),
            signed_ttl=self.settings.signed_url_ttl_seconds,
        )

    @cached_property
    def event_hub(self) -> EventHub:
        """This process's open live-status streams (``GET /api/v1/events``)."""
        return EventHub(
            self.event_feed,
            per_user=self.settings.events_streams_per_user,
            safety_seconds=self.settings.events_safety_poll_seconds,
        )

    async def close(self) -> None:
        if "event_hub" in self.__dict__:
            await self.event_hub.close()
        self.imaging.close()
        await self.queue.close()
        await self.rate_limiter.close()
        await self.metadata.close()
