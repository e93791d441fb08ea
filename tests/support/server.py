"""`shutterbox serve` and `shutterbox worker` as real subprocesses, for end-to-end tests."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.ports import free_port
from tests.support.processes import ManagedProcess, http_ok, shutterbox_command


class ServerProcess(ManagedProcess):
    """`shutterbox serve` on a free port (or ``port``) over ``data_dir``; ready when
    /readyz answers 200. Its log is ``serve-PORT.log`` next to the data directory."""

    def __init__(
        self, data_dir: Path, port: int | None = None, serve_args: tuple[str, ...] = (), **env: str
    ) -> None:
        self.data_dir = data_dir
        self.serve_args = serve_args
        self.port = port or free_port()
        super().__init__(
            "server",
            shutterbox_command("serve", "--port", str(self.port), *serve_args),
            log_path=data_dir.parent / f"serve-{self.port}.log",
            env={**os.environ, "SHUTTERBOX_DATA_DIR": str(data_dir), **env},
            ready=http_ok(f"{self.url}/readyz"),
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class WorkerProcess(ManagedProcess):
    """`shutterbox worker` on the same data directory (started without waiting)."""

    def __init__(self, data_dir: Path, **env: str) -> None:
        super().__init__(
            "worker",
            shutterbox_command("worker"),
            log_path=data_dir.parent / "worker.log",
            env={**os.environ, "SHUTTERBOX_DATA_DIR": str(data_dir), **env},
            group_terminate=False,
        )

    def start(self, timeout: float = 60.0) -> None:
        self.launch()
