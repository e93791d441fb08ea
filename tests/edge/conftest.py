from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import ServerProcess
from tests.edge.varnish import Varnish, render_vcl


@pytest.fixture
def origin_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """`shutterbox serve` subprocesses, each with a data directory of its own; all stopped
    at the end of the test."""
    started: list[ServerProcess] = []

    def make(port: int | None = None, **env: str) -> ServerProcess:
        server = ServerProcess(tmp_path / f"origin-{len(started)}" / "data", port=port, **env)
        server.data_dir.parent.mkdir(parents=True, exist_ok=True)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def edge_factory(tmp_path: Path) -> Iterator[Callable[..., Varnish]]:
    """varnishd with a copy of deploy/varnish/shutterbox.vcl in front of a backend port
    (keyword arguments go to render_vcl); all stopped at the end of the test."""
    started: list[Varnish] = []

    def make(
        origin_port: int, port: int | None = None, vcl: Path | None = None, **render: Any
    ) -> Varnish:
        """``vcl``: an already rendered VCL to run instead (then ``origin_port`` is unused)."""
        workdir = tmp_path / f"edge-{len(started)}"
        if vcl is None:
            vcl = render_vcl(workdir / "vcl", origin_port, **render)
        edge = Varnish(workdir, vcl, port=port)
        started.append(edge)
        return edge

    yield make
    for edge in started:
        edge.stop()
