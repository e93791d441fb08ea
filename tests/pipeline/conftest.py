from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shutterbox.entrypoints.http.app import create_app
from tests.support.clients import register
from tests.support.settings import make_settings


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One running service (API and two background workers) per test module: each module
    uploads its whole corpus at once and lets the workers process it in parallel."""
    data_dir: Path = tmp_path_factory.mktemp("pipeline") / "data"
    with TestClient(create_app(make_settings(data_dir))) as client:
        yield client


@pytest.fixture(scope="module")
def owner(service: TestClient) -> dict[str, str]:
    return register(service, "photographer")
