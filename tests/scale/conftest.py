from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import Backends, Cluster
from tests.support.servers import S3Endpoint, require_nats

LEASE_SECONDS = 5  # also JetStream's ack wait: a killed worker's job is taken over after this


@pytest.fixture(params=["nats", "kafka"])
def cluster(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str, s3_endpoint: S3Endpoint
) -> Iterator[Cluster]:
    """A scaled installation's backends (a fresh database, bucket, and NATS stream or Kafka
    topics) and a place for its processes; every process is stopped and the stream deleted
    afterwards, the database dropped by ``postgres_url``."""
    bucket = s3_endpoint.create_bucket()
    if request.param == "kafka":
        broker = request.getfixturevalue("kafka_broker")
        backends = Backends(postgres_url, s3_endpoint, bucket, kafka=broker)
    else:
        backends = Backends(postgres_url, s3_endpoint, bucket, require_nats())
    settings = {
        "SHUTTERBOX_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "SHUTTERBOX_JOB_POLL_SECONDS": "0.5",
        "SHUTTERBOX_JOB_RETRY_BASE_SECONDS": "0.5",
        "SHUTTERBOX_QUEUE_SWEEP_SECONDS": "2",
    }
    with Cluster(tmp_path / "run", backends, **settings) as running:
        yield running
