"""Making the variants: their formats and quality, the workers, the jobs' leases, retries and
polling, and the limits of the sandbox that decodes one picture."""

from __future__ import annotations

import os
from typing import ClassVar

from pydantic import BaseModel, Field

from shutterbox.config.types import PositiveSeconds


class ProcessingSettings(BaseModel):
    section: ClassVar[str] = "Processing"  # its heading in docs/configuration.md

    variant_formats: str = Field(
        default="jpeg,webp",
        pattern=r"^jpeg(,(webp|avif))*$",
        description="Formats every variant is made in: jpeg, plus webp and/or avif "
        "(e.g. jpeg,webp,avif). Media URLs without an extension negotiate on Accept.",
    )
    jpeg_quality: int = Field(
        default=82, ge=1, le=100, description="JPEG quality of the variants (1-100)."
    )
    max_animation_frames: int = Field(
        default=1000,
        ge=2,
        description="Most frames an animated GIF or WebP may have; one with more is refused "
        "with the reason (its WebP variants keep every frame).",
    )
    max_animation_pixels: int = Field(
        default=50_000_000,
        ge=1,
        description="Largest width x height x frames of an animated GIF or WebP (every frame "
        "is decoded and resized); a bigger one is refused with the reason. The memory a "
        "worker's child needs grows with it: 50 megapixels fit in the default "
        "`SHUTTERBOX_JOB_MEMORY_LIMIT_MB`.",
    )
    workers: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=0,
        description="Background workers run inside `shutterbox serve` (0 disables them).",
    )
    api_processes: int = Field(
        default=1,
        ge=1,
        description="API processes `shutterbox serve` runs on its port. With more than one, "
        "the background workers run in a process of their own beside them.",
    )
    access_log: bool = Field(
        default=True,
        description="Whether each API process logs every request it answers (a line on "
        "stderr). Behind a front server that logs requests (deploy/nginx does) turn it off: "
        "the line costs an API process about as much CPU as answering `/healthz`.",
    )
    job_lease_seconds: PositiveSeconds = Field(
        default=60.0,
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
    queue_sweep_seconds: PositiveSeconds = Field(
        default=15.0,
        description="How often workers look for jobs whose delivery was lost (a message "
        "that never reached the queue) and deliver them again, and clear abandoned direct "
        "uploads.",
    )
    queue_busy_depth: int = Field(
        default=20,
        ge=0,
        description="Jobs of new uploads waiting beyond which an upload's answer says how long "
        "processing will take (`processing_estimate` and `Retry-After`); 0: always.",
    )
    imaging_niceness: int = Field(
        default=10,
        ge=0,
        le=19,
        description="How much lower the CPU priority of the child processes that decode and "
        "encode pictures is than the API's (Unix nice, 0-19): during a burst of uploads the "
        "API keeps answering and the variants wait.",
    )
    job_memory_limit_mb: int = Field(
        default=1024,
        ge=64,
        description="Address-space limit of the child process that decodes one picture; a "
        "picture that needs more fails with a reason instead of exhausting the machine.",
    )
    job_time_limit_seconds: PositiveSeconds = Field(
        default=120.0,
        description="Longest one picture may take to process before it fails with a reason.",
    )

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.strip() for f in self.variant_formats.split(",")))
