"""Imaging in child processes, each with an address-space limit and a time limit per call.

A hostile or broken file can make a decoder allocate without bound, loop, or crash. Run in a
child, that costs the child: the worker sees a refused image with a reason and carries on,
and a new child is started for the next job.

What runs in the child is a module-level function, passed as itself: it is pickled by
reference (its module and name) and imported there, so lambdas and nested functions are
refused before anything is sent.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import resource
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any, ParamSpec, TypeVar

import anyio

from shutterbox.domain.errors import ImageRejected

P = ParamSpec("P")
R = TypeVar("R")


def _check_importable(target: Callable[..., Any]) -> None:
    qualname = getattr(target, "__qualname__", "")
    if not getattr(target, "__module__", None) or "<" in qualname or "." in qualname:
        raise TypeError(f"{target!r} is not a module-level function the sandbox can import")


def _child_main(conn: Connection, memory_limit_bytes: int, niceness: int = 0) -> None:
    if niceness > 0:  # below the API's CPU priority: a burst of work never starves requests
        os.nice(niceness)
    if memory_limit_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_limit_bytes, memory_limit_bytes))
    from shutterbox.adapters import imaging

    imaging.configure_vips()
    while True:
        try:
            call = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            target, args, kwargs = pickle.loads(call)  # imports the target's module
            reply: tuple[str, Any] = ("ok", target(*args, **kwargs))
        except ImageRejected as rejected:
            reply = ("rejected", rejected.reason)
        except MemoryError:
            reply = ("rejected", "the picture needs more memory to process than this server allows")
        except Exception as error:
            reply = ("error", f"{type(error).__name__}: {error}")
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return


def peak_memory() -> dict[str, int]:
    """This process's peak address space and peak resident memory, in bytes (Linux)."""
    peaks: dict[str, int] = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmPeak:", "VmHWM:")):
                key, value = line.split(":", 1)
                peaks[key] = int(value.split()[0]) * 1024
    return peaks


class ImagingSandbox:
    """One child process; calls are serialised. Call ``call`` from a thread, not the loop."""

    def __init__(self, memory_limit_mb: int, time_limit_seconds: float, niceness: int = 0) -> None:
        self.memory_limit_bytes = memory_limit_mb * 1024 * 1024
        self.time_limit_seconds = time_limit_seconds
        self.niceness = niceness
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def _start(self) -> Connection:
        if self._process is not None and self._process.poll() is None and self._conn is not None:
            return self._conn
        self._stop()
        ours, theirs = socket.socketpair()
        env = {
            **os.environ,
            # glibc reserves 64 MB of address space per malloc arena (up to one per thread);
            # under an address-space limit that would count against the job.
            "MALLOC_ARENA_MAX": "2",
        }
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "shutterbox.adapters.imaging_sandbox",
                str(theirs.fileno()),
                str(self.memory_limit_bytes),
                str(self.niceness),
            ],
            pass_fds=[theirs.fileno()],
            env=env,
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self._conn = Connection(ours.detach())
        return self._conn

    def _stop(self) -> None:
        if self._conn is not None:
            self._conn.close()
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait(timeout=5)
        self._process, self._conn = None, None

    def call(self, target: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``target`` (a module-level function) in the child. Raises ImageRejected for a
        picture that cannot be processed within the limits, RuntimeError for anything else."""
        _check_importable(target)
        with self._lock:
            conn = self._start()
            conn.send((target, args, kwargs))
            if not conn.poll(self.time_limit_seconds):
                self._stop()
                raise ImageRejected(
                    "processing the picture took longer than the limit of "
                    f"{self.time_limit_seconds:g} seconds"
                )
            try:
                status, value = conn.recv()
            except (EOFError, OSError) as exc:
                self._stop()
                raise ImageRejected(
                    "the picture could not be processed: decoding it failed hard (it may need "
                    "more memory than this server allows)"
                ) from exc
        if status == "ok":
            result: R = value
            return result
        if status == "rejected":
            raise ImageRejected(value)
        raise RuntimeError(value)

    def close(self) -> None:
        with self._lock:
            self._stop()


class SandboxPool:
    """Sandboxes shared by the workers of one process: one per job running at the same time,
    started on first use and kept for the next job."""

    def __init__(self, memory_limit_mb: int, time_limit_seconds: float, niceness: int = 0) -> None:
        self.memory_limit_mb = memory_limit_mb
        self.time_limit_seconds = time_limit_seconds
        self.niceness = niceness
        self._idle: queue.SimpleQueue[ImagingSandbox] = queue.SimpleQueue()
        self._all: list[ImagingSandbox] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _borrow(self) -> Iterator[ImagingSandbox]:
        try:
            sandbox = self._idle.get_nowait()
        except queue.Empty:
            sandbox = ImagingSandbox(self.memory_limit_mb, self.time_limit_seconds, self.niceness)
            with self._lock:
                self._all.append(sandbox)
        try:
            yield sandbox
        finally:
            self._idle.put(sandbox)

    def _call(self, target: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
        with self._borrow() as sandbox:
            return sandbox.call(target, *args, **kwargs)

    async def call(self, target: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``target`` (a module-level function) in an idle sandbox, from a thread."""
        return await anyio.to_thread.run_sync(self._call, target, args, kwargs)

    def close(self) -> None:
        with self._lock:
            for sandbox in self._all:
                sandbox.close()


if __name__ == "__main__":
    _child_main(Connection(int(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3]))
