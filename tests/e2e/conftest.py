"""Fixtures of the end-to-end tests (the server factory is the root conftest's)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a `shutterbox` command over a data directory of this test's."""
    return {"SHUTTERBOX_DATA_DIR": str(tmp_path / "data"), "SHUTTERBOX_WORKERS": "2"}
