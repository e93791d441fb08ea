"""A stand-in edge cache speaking real HTTP, for tests of the purges the origin sends."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RecordingEdge:
    """A stand-in edge cache speaking real HTTP: records PURGE requests, answers ``status``."""

    def __init__(self) -> None:
        self.purged: list[str] = []
        self.status = 200
        edge = self

        class Handler(BaseHTTPRequestHandler):
            def do_PURGE(self) -> None:
                edge.purged.append(self.path)
                self.send_response(edge.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
