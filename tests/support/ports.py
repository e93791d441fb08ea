"""Local TCP ports: a free one to listen on, and waiting until something answers on one."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlparse


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reachable(url: str) -> bool:
    """True if a TCP connection to the host and port of ``url`` succeeds."""
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=2):
            return True
    except OSError:
        return False


def wait_for_port(url: str, timeout: float = 30.0, interval: float = 0.05) -> None:
    """Wait until the host and port of ``url`` accept connections; TimeoutError if not."""
    deadline = time.monotonic() + timeout
    while not reachable(url):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listening at {url} after {timeout:.0f} s")
        time.sleep(interval)
