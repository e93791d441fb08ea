"""Settings for an app under test: a data directory of its own and fast job polling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shutterbox.config import Settings


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings over ``data_dir`` with short job polling and retry delays; ``overrides``
    win."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "job_poll_seconds": 0.2,
        "job_retry_base_seconds": 0.2,
        "workers": 2,
    }
    values.update(overrides)
    return Settings(**values)
