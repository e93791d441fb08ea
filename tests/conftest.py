"""Fixtures every test directory shares: settings, an app client, PostgreSQL, S3, and the
server, origin and edge (varnishd) process factories of the e2e, edge and fault tests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shutterbox.config import Settings
from shutterbox.entrypoints.http.app import create_app
from tests.support.processes import Started
from tests.support.server import ServerProcess
from tests.support.servers import KafkaBroker, S3Endpoint, postgres_database
from tests.support.settings import make_settings
from tests.support.varnish import Varnish, render_vcl

# Test directories whose tests each start a whole deployment (API nodes, workers, brokers,
# proxies) on PostgreSQL: under pytest-xdist they form one group, run by one process one at
# a time, so that parallel runs neither exhaust PostgreSQL's connections nor starve each
# other's deadlines.
ONE_AT_A_TIME = {"scale", "faults"}
TESTS = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        top = item.path.relative_to(TESTS).parts[0]
        if top in ONE_AT_A_TIME:
            item.add_marker(pytest.mark.xdist_group("deployments"))


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[S3Endpoint]:
    endpoint = S3Endpoint()
    endpoint.start()
    saved = {k: os.environ.get(k) for k in endpoint.env}
    os.environ.update(endpoint.env)  # the AWS variables every S3 tool reads
    yield endpoint
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    endpoint.stop()


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[KafkaBroker]:
    broker = KafkaBroker()
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty metadata database of each kind: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'metadata.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """`shutterbox serve` subprocesses on one data directory; all stopped at the end."""
    servers: Started[ServerProcess] = Started()

    def make(serve_args: tuple[str, ...] = (), **env: str) -> ServerProcess:
        server = ServerProcess(tmp_path / "data", serve_args=serve_args, **env)
        server.data_dir.mkdir(parents=True, exist_ok=True)
        return servers.add(server)

    yield make
    servers.stop_all()


@pytest.fixture
def origin_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """`shutterbox serve` subprocesses, each with a data directory of its own; all stopped
    at the end of the test."""
    origins: Started[ServerProcess] = Started()

    def make(port: int | None = None, **env: str) -> ServerProcess:
        data_dir = tmp_path / f"origin-{len(origins)}" / "data"
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        return origins.add(ServerProcess(data_dir, port=port, **env))

    yield make
    origins.stop_all()


@pytest.fixture
def edge_factory(tmp_path: Path) -> Iterator[Callable[..., Varnish]]:
    """varnishd with a copy of deploy/varnish/shutterbox.vcl in front of a backend port
    (keyword arguments go to render_vcl); all stopped at the end of the test."""
    edges: Started[Varnish] = Started()

    def make(
        origin_port: int, port: int | None = None, vcl: Path | None = None, **render: Any
    ) -> Varnish:
        """``vcl``: an already rendered VCL to run instead (then ``origin_port`` is unused)."""
        workdir = tmp_path / f"edge-{len(edges)}"
        if vcl is None:
            vcl = render_vcl(workdir / "vcl", origin_port, **render)
        return edges.add(Varnish(workdir, vcl, port=port))

    yield make
    edges.stop_all()
