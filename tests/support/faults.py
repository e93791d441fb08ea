"""Fault injection: the means to break what a server depends on, and to check afterwards.

`TcpProxy` stands between the app and a dependency (PostgreSQL, the S3 endpoint, NATS, Kafka)
and can be stopped and started again on the same port, so a dependency "goes away" without
touching the real server behind it; or turned into a black hole, that accepts connections and
never answers (the way a hung server or a silent network partition looks), and back. `scrub`
runs `shutterbox scrub --json` as a separate process, the way an operator would after an
incident.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

import httpx2 as httpx

from tests.imagegen import jpeg_bytes
from tests.support.ports import free_port
from tests.support.processes import shutterbox_command


class TcpProxy:
    """Forwards 127.0.0.1:<port> to a target. ``stop()`` refuses new connections and cuts the
    open ones; ``start()`` listens again on the same port. ``black_hole()`` keeps every
    connection open but forwards nothing more, either way, and accepts new connections that
    are never answered; ``forward()`` ends it: the connections open while it was silent are
    cut (any that lost bytes could not recover), new ones are forwarded again."""

    def __init__(self, target_host: str, target_port: int, port: int | None = None) -> None:
        self.target = (target_host, target_port)
        self.port = port or free_port()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._silent = False
        self._stalled: set[socket.socket] = set()  # open while silent: cut by forward()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        if self._listener is not None:
            # shutdown wakes the thread blocked in accept(); close() alone would not
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self._connections.clear()

    def black_hole(self) -> None:
        with self._lock:
            self._silent = True
            self._stalled.update(self._connections)

    def forward(self) -> None:
        with self._lock:
            self._silent = False
            stalled, self._stalled = self._stalled, set()
            self._connections -= stalled
        for conn in stalled:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                if self._silent:  # accepted, read, never answered
                    self._connections.add(client)
                    self._stalled.add(client)
                    threading.Thread(target=self._swallow, args=(client,), daemon=True).start()
                    continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _swallow(self, source: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while source.recv(65536):
                pass

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not self._silent:
                    sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def scrub(data_dir: Path, *args: str, **env: str) -> tuple[int, dict[str, Any]]:
    """`shutterbox scrub --json ARGS` on a data directory: (exit status, report)."""
    result = subprocess.run(
        shutterbox_command("scrub", "--json", *args),
        env={**os.environ, "SHUTTERBOX_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode >= 0, f"killed by signal {-result.returncode}: {result.stderr[-3000:]}"
    assert result.stdout, result.stderr[-3000:]
    return result.returncode, json.loads(result.stdout)


def assert_scrub_clean(data_dir: Path, **env: str) -> dict[str, Any]:
    code, report = scrub(data_dir, "--grace-hours", "0", **env)
    assert code == 0 and report["clean"], report
    return report


def upload_noisy(client: httpx.Client, auth: dict[str, str], seed: int) -> httpx.Response:
    """Upload a noisy 800+seed x 600 JPEG (distinct per seed)."""
    photo = jpeg_bytes(800 + seed, 600, noise=True)
    return client.post("/api/v1/images", headers=auth, files={"file": ("p.jpg", photo)})


def assert_unavailable(response: httpx.Response) -> None:
    """A 503 with Retry-After and the "try again" message of a dependency that is down."""
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    body: dict[str, Any] = response.json()
    assert body["code"] == "unavailable"
    assert "try again" in body["detail"]
