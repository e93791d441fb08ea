from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import Backends, Cluster
from tests.support.servers import S3Endpoint, require_nats

LEASE_SECONDS = 5  # also JetStream's ack wait: a killed worker's job is taken over after this


@pytest.fixture
def cluster(tmp_path: Path, postgres_url: str, s3_endpoint: S3Endpoint) -> Iterator[Cluster]:
    """A scaled installation's backends (a fresh database, bucket and NATS stream) and a
    place for its processes; every process is stopped and the stream deleted afterwards,
    the database dropped by ``postgres_url``."""
    nats_url = require_nats()
    backends = Backends(postgres_url, s3_endpoint, s3_endpoint.create_bucket(), nats_url)
    settings = {
        "SHUTTERBOX_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "SHUTTERBOX_JOB_POLL_SECONDS": "0.5",
        "SHUTTERBOX_JOB_RETRY_BASE_SECONDS": "0.5",
        "SHUTTERBOX_QUEUE_SWEEP_SECONDS": "2",
    }
    with Cluster(tmp_path / "run", backends, **settings) as running:
        yield running
