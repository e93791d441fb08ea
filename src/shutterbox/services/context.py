"""What every use case needs, wired once by ``bootstrap``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shutterbox.adapters.db.engine import Database
from shutterbox.adapters.imaging_sandbox import SandboxPool
from shutterbox.config import Settings
from shutterbox.ports import BlobStore, JobQueue


@dataclass
class Services:
    settings: Settings
    db: Database
    store: BlobStore
    queue: JobQueue
    staging_dir: Path
    imaging: SandboxPool
    secret_key: bytes

    async def close(self) -> None:
        self.imaging.close()
        await self.queue.close()
        await self.db.dispose()
