"""`shutterbox serve --api-processes N`: N API processes answering on one port, and the jobs
in a worker process of their own.

The parent brings the schema up to date once, starts the worker process (so that making
variants never competes with a request for an API process's event loop), then hands the
listening socket to uvicorn's process manager, which starts the API processes, restarts one
that dies, and stops them all on SIGINT or SIGTERM. The worker process goes last.

On SQLite every process shares the database file: WAL lets readers run beside the one writer,
and each process's writes open with ``BEGIN IMMEDIATE``, so writers from different processes
queue on the busy timeout rather than fail with "database is locked". The rate limits are
counted in the database, where every API process sees the same counts. Prometheus metrics are
kept per process in files under the data directory and summed when ``/metrics`` is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from shutterbox.config import Settings

APP_FACTORY = "shutterbox.entrypoints.http.app:create_api_process_app"
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus_client at import
API_PROCESSES_VARIABLE = "SHUTTERBOX_API_PROCESSES"


def serve_api_processes(
    settings: Settings, *, host: str, port: int, api_processes: int, workers: int
) -> None:
    import uvicorn

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # The API processes read their settings from the environment: they learn from it that
    # they are several (and so count rate limits where all of them see the counts).
    os.environ[API_PROCESSES_VARIABLE] = str(api_processes)
    asyncio.run(_migrate(settings))
    _share_metrics(settings.data_dir / "metrics")
    worker = _start_worker_process(workers) if workers > 0 else None
    try:
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            workers=api_processes,
            host=host,
            port=port,
            log_level="info",
            access_log=settings.access_log,
            proxy_headers=True,
        )
    finally:
        if worker is not None:
            _stop(worker)


async def _migrate(settings: Settings) -> None:
    from shutterbox.adapters.db.engine import open_database
    from shutterbox.adapters.db.migrate import upgrade_to_head

    db = open_database(settings.resolved_database_url())
    try:
        await upgrade_to_head(db)
    finally:
        await db.dispose()


def _share_metrics(directory: Path) -> None:
    """Every child process keeps its metrics in ``directory``, emptied first: the files of an
    earlier run would otherwise be counted again."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    os.environ[METRICS_DIR_VARIABLE] = str(directory)


def _start_worker_process(concurrency: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "shutterbox", "worker", "--concurrency", str(concurrency)]
    return subprocess.Popen([*command, "--parent-pid", str(os.getpid())])


def _stop(process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """SIGTERM (the worker finishes or hands back its jobs), then SIGKILL if it hangs."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait()
