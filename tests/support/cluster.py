"""A scaled shutterbox on one machine, made of real processes.

PostgreSQL, an S3-compatible endpoint (moto's server) and NATS JetStream (or a Kafka-protocol
broker, Tansu) hold the state;
`shutterbox serve --no-workers` API nodes, `shutterbox worker` processes and optionally nginx
(a copy of deploy/nginx with the ports and a test certificate filled in, `tests.support.nginx`)
run as subprocesses, each in a process group of its own, with its own data directory (staging
files only) and log file.

Used by tests/scale and by bench/scaled.py; every process is a `ManagedProcess`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.support.nginx import Nginx
from tests.support.ports import free_port, reachable
from tests.support.processes import (
    ManagedProcess,
    http_ok,
    log_contains,
    shutterbox_command,
)
from tests.support.servers import KafkaBroker, S3Endpoint


def _run_async(coroutine: Any) -> Any:
    """Run a coroutine to completion from synchronous code, also when a loop is running."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def unique_stream_name() -> str:
    return f"SHUTTERBOX_SCALE_{uuid.uuid4().hex[:10].upper()}"


def delete_stream(nats_url: str, stream: str) -> None:
    """Remove a JetStream stream (and its consumers); no error if it does not exist."""

    async def delete() -> None:
        import nats
        from nats.js.errors import NotFoundError

        connection = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=1)
        try:
            with contextlib.suppress(NotFoundError):
                await connection.jetstream().delete_stream(stream)
        finally:
            await connection.close()

    _run_async(delete())


@dataclass
class Backends:
    """Where the state lives: what every API node and worker is pointed at."""

    database_url: str  # SQLAlchemy async URL (postgresql+asyncpg://...)
    s3: S3Endpoint
    bucket: str
    nats_url: str | None = None  # the queue: NATS JetStream, or else
    kafka: KafkaBroker | None = None  # Kafka, or else the database (db://)
    stream: str = field(default_factory=unique_stream_name)
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))

    @property
    def queue_url(self) -> str:
        if self.kafka is not None:
            return self.kafka.queue_url(self.stream.lower().replace("_", "-"))
        if self.nats_url is None:
            return "db://"
        return f"{self.nats_url}?stream={self.stream}"

    @property
    def asyncpg_url(self) -> str:
        """The database URL for asyncpg itself (without SQLAlchemy's driver name)."""
        return self.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    def env(self) -> dict[str, str]:
        return {
            **self.s3.env,
            "SHUTTERBOX_DATABASE_URL": self.database_url,
            "SHUTTERBOX_STORAGE_URL": f"s3://{self.bucket}",
            "SHUTTERBOX_QUEUE_URL": self.queue_url,
            "SHUTTERBOX_SECRET_KEY": self.secret_key,
        }


class Process(ManagedProcess):
    """One `shutterbox ...` command in a process group of its own, output to a log file."""

    def __init__(self, name: str, args: Sequence[str], env: Mapping[str, str], run_dir: Path):
        self.args = list(args)
        self.data_dir = run_dir / name
        super().__init__(
            name,
            shutterbox_command(*self.args),
            log_path=run_dir / f"{name}.log",
            env={**env, "SHUTTERBOX_DATA_DIR": str(self.data_dir)},
        )

    def launch(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        super().launch()

    def start(self, timeout: float = 60.0) -> None:
        """Launch without waiting (wait_ready / wait_started wait for all nodes at once)."""
        self.launch()

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait for a clean exit (SIGKILL after ``timeout``); the exit code."""
        return super().stop(timeout)


class ApiNode(Process):
    def __init__(self, name: str, env: Mapping[str, str], run_dir: Path, port: int | None = None):
        self.port = port or free_port()
        super().__init__(name, ["serve", "--port", str(self.port), "--no-workers"], env, run_dir)
        self.ready = http_ok(f"{self.url}/readyz", timeout=2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests_since_start(self) -> int:
        """Requests the current process answered (uvicorn's access log), /readyz aside."""
        text = self.log_path.read_text(errors="replace")
        current = text[text.rfind(f"Started server process [{self.pid}]") :]
        return len(re.findall(r'^INFO: .* "(?!GET /readyz)[A-Z]+ /', current, re.M))

    def restart(self) -> bool:
        """Stop gracefully (SIGTERM), start again on the same port and wait until ready.
        True if the old process shut down cleanly (uvicorn finishes the requests in flight,
        runs the shutdown code, then exits by the same signal)."""
        old_pid = self.pid
        code = self.stop()
        finished = f"Finished server process [{old_pid}]" in self.log_path.read_text(
            errors="replace"
        )
        self.start()
        self.wait_ready()
        return finished and code in (0, -signal.SIGTERM)


class WorkerNode(Process):
    STARTED = b"worker running with"

    def __init__(self, name: str, env: Mapping[str, str], run_dir: Path, concurrency: int):
        self.concurrency = concurrency
        super().__init__(name, ["worker", "--concurrency", str(concurrency)], env, run_dir)
        self.ready = log_contains(run_dir / f"{name}.log", self.STARTED)

    def wait_started(self, timeout: float = 60.0) -> None:
        self.wait_ready(timeout)


class Cluster:
    """The processes of one scaled installation; closing it stops every one of them and
    deletes the NATS stream (the database and the bucket belong to the caller)."""

    def __init__(self, run_dir: Path, backends: Backends, **settings: str) -> None:
        self.run_dir = run_dir
        self.backends = backends
        base = {k: v for k, v in os.environ.items() if not k.startswith("SHUTTERBOX_")}
        self.env = {**base, **backends.env(), **settings}
        self.apis: list[ApiNode] = []
        self.workers: list[WorkerNode] = []
        self.nginx: Nginx | None = None

    def __enter__(self) -> Cluster:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close(show_logs=error is not None)

    def migrate(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        env = {**self.env, "SHUTTERBOX_DATA_DIR": str(self.run_dir / "migrate")}
        done = subprocess.run(
            shutterbox_command("migrate"),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"shutterbox migrate failed:\n{done.stdout}\n{done.stderr}")

    def start_apis(self, count: int) -> list[ApiNode]:
        nodes = [
            ApiNode(f"api{len(self.apis) + n + 1}", self.env, self.run_dir) for n in range(count)
        ]
        self.apis += nodes
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_ready()
        return nodes

    def start_workers(self, count: int, concurrency: int) -> list[WorkerNode]:
        nodes = [
            WorkerNode(f"worker{len(self.workers) + n + 1}", self.env, self.run_dir, concurrency)
            for n in range(count)
        ]
        self.workers += nodes
        for node in nodes:
            node.start()
        for node in nodes:
            node.wait_started()
        return nodes

    def start_nginx(self) -> Nginx:
        self.nginx = Nginx(self.run_dir / "nginx", [node.port for node in self.apis])
        self.nginx.start()
        return self.nginx

    def logs(self) -> str:
        return "\n".join(node.log_tail() for node in [*self.apis, *self.workers])

    def close(self, *, show_logs: bool = False) -> None:
        if show_logs:
            print(self.logs(), file=sys.stderr)
        problems: list[str] = []
        if self.nginx is not None:
            try:
                self.nginx.stop()
            except Exception as error:
                problems.append(f"nginx: {error!r}")
        for node in [*self.workers, *self.apis]:
            try:
                node.stop()
            except Exception as error:
                problems.append(f"{node.name}: {error!r}")
        try:
            nats_url = self.backends.nats_url
            if nats_url is not None and reachable(nats_url):
                delete_stream(nats_url, self.backends.stream)
        except Exception as error:
            problems.append(f"deleting stream {self.backends.stream}: {error!r}")
        if problems:
            raise RuntimeError("cleaning up the cluster failed: " + "; ".join(problems))
