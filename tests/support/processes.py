"""One way to run a server or worker as a child process: start it in a process group of its
own with its output in a log file, wait until it answers, and stop it (SIGTERM, then SIGKILL).

Used by the end-to-end, edge, fault and scale tests and by the benchmarks.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Generic, TypeVar

import httpx2 as httpx

from tests.support.ports import reachable

ReadyCheck = Callable[[], bool]


def http_ok(url: str, timeout: float = 1.0) -> ReadyCheck:
    """Ready when a GET of ``url`` answers 200."""

    def check() -> bool:
        try:
            return httpx.get(url, timeout=timeout).status_code == 200
        except httpx.TransportError:
            return False

    return check


def port_open(url: str) -> ReadyCheck:
    """Ready when the host and port of ``url`` accept TCP connections."""
    return lambda: reachable(url)


def log_contains(path: Path, marker: bytes) -> ReadyCheck:
    """Ready when the log file at ``path`` contains ``marker``."""
    return lambda: path.exists() and marker in path.read_bytes()


def shutterbox_command(*args: str) -> list[str]:
    """The command line of `shutterbox ARGS` run with this interpreter."""
    return [sys.executable, "-m", "shutterbox.entrypoints.cli", *args]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any SHUTTERBOX_* variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHUTTERBOX_")}
    env.update(extra)
    return env


class ManagedProcess:
    """A child process in a session (process group) of its own, its output appended to
    ``log_path`` (discarded when None).

    ``ready`` says when it answers; ``start`` launches it and waits for that. ``stop`` sends
    SIGTERM (to the whole group unless ``group_terminate`` is false) and SIGKILLs the group
    if it has not exited within the timeout; a process that already exited has its group
    killed, so children it left behind (sandbox workers) go with it.
    """

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        *,
        log_path: Path | None,
        env: Mapping[str, str] | None = None,
        ready: ReadyCheck | None = None,
        group_terminate: bool = True,
        ready_interval: float = 0.1,
        stop_on_timeout: bool = False,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.ready = ready
        self.group_terminate = group_terminate
        self.ready_interval = ready_interval
        self.stop_on_timeout = stop_on_timeout
        self.process: subprocess.Popen[bytes] | None = None

    # Starting -------------------------------------------------------------------------------

    def launch(self) -> None:
        """Start the process without waiting for it to answer."""
        if self.log_path is None:
            self.process = self._popen(subprocess.DEVNULL)
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = self._popen(log)

    def _popen(self, output: int | IO[bytes]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            self.command,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait until ``ready`` says so; RuntimeError (with the log's end) if the process
        exits first or is not ready within ``timeout`` seconds."""
        assert self.process is not None, f"{self.name} was not started"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited early (code {self.process.returncode}):\n{self.log_tail()}"
                )
            if self.ready is None or self.ready():
                return
            time.sleep(self.ready_interval)
        if self.stop_on_timeout:
            self.stop()
        raise RuntimeError(f"{self.name} was not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def start(self, timeout: float = 60.0) -> None:
        """Launch and wait until ready."""
        self.launch()
        self.wait_ready(timeout)

    # Watching -------------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was not started"
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.returncode

    def log_text(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the log, headed by the process's name."""
        text = self.log_text()
        if not text:
            return f"({self.name}: no output)"
        name = self.log_path.name if self.log_path is not None else ""
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- {self.name} ({name}) ---\n{tail}"

    # Stopping -------------------------------------------------------------------------------

    def _signal_group(self, sig: int) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def kill(self) -> None:
        """SIGKILL to the whole group: no shutdown code runs, as when a machine dies."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and wait for the exit (SIGKILL after ``timeout``); the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            if self.group_terminate:
                self._signal_group(signal.SIGTERM)
            else:
                self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        else:
            self._signal_group(signal.SIGKILL)
        return self.process.returncode


P = TypeVar("P", bound=ManagedProcess)


class Started(Generic[P]):
    """The processes a test made, in order; ``stop_all`` stops every one of them (what a
    factory fixture does at the end of the test)."""

    def __init__(self) -> None:
        self.processes: list[P] = []

    def __len__(self) -> int:
        return len(self.processes)

    def add(self, process: P) -> P:
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            process.stop()
