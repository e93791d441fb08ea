"""A large upload over a slow link that drops three times: a resumable (tus) upload against
a one-shot multipart POST sent again from the start after each drop.

`shutterbox serve` (one background worker) behind a TCP proxy in this script that passes
the client's bytes at ``--rate`` bytes per second (a mobile uplink) and closes the
connection when the bytes it has passed reach 1/4, 2/4 and 3/4 of the file, counted over
every connection of that client. The one-shot client POSTs the whole file again after a
drop (with the same Idempotency-Key); the resumable client asks where the upload is (`HEAD`)
and sends the rest from there. Both then wait until the image is ready. Reported: the bytes
each put on the link, and the time from the first byte to the image being ready, with the
ratio resumable / one-shot.

Run from the repository root: `python -m bench.resumable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

from bench.benchkit import (
    WORK_DIR,
    argument_parser,
    environment_lines,
    markdown_table,
    multipart_body,
    photo_like,
    publish,
    ratio,
    relative,
    running,
    shutterbox_serve,
    sign_up,
)
from tests.support.ports import free_port

SECTION = "resumable"
TUS = {"Tus-Resumable": "1.0.0"}
READY_TIMEOUT_SECONDS = 300.0


class Link:
    """A TCP proxy with a slow uplink that drops every connection at given byte counts."""

    def __init__(self, target_port: int, rate: float, drops: list[int]) -> None:
        self.target_port = target_port
        self.rate = rate
        self.drops = sorted(drops)
        self.sent = 0  # client bytes passed on, over every connection
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> Link:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self.loop).result()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)

    def reset(self, drops: list[int]) -> None:
        self.sent, self.drops = 0, sorted(drops)

    async def _listen(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        server_in, server_out = await asyncio.open_connection("127.0.0.1", self.target_port)
        back = asyncio.ensure_future(self._pipe(server_in, client_out))
        try:
            await self._uplink(client_in, server_out)
        finally:
            back.cancel()
            for writer in (client_out, server_out):
                writer.close()

    async def _uplink(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        started, passed = time.monotonic(), 0
        while chunk := await reader.read(16 * 1024):
            if self.drops and self.sent + len(chunk) >= self.drops[0]:
                keep = self.drops.pop(0) - self.sent
                writer.write(chunk[:keep])
                self.sent += keep
                await writer.drain()
                return  # the link drops: both sides see the connection close
            writer.write(chunk)
            await writer.drain()
            self.sent += len(chunk)
            passed += len(chunk)
            ahead = passed / self.rate - (time.monotonic() - started)
            if ahead > 0:
                await asyncio.sleep(ahead)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(64 * 1024):
                writer.write(chunk)
                await writer.drain()


@dataclass(frozen=True)
class Outcome:
    name: str
    attempts: int
    link_bytes: int
    seconds: float
    sha256_ok: bool


def _ready(http: httpx.Client, image_id: str, auth: dict[str, str]) -> dict[str, object]:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        image: dict[str, object] = http.get(f"/api/v1/images/{image_id}", headers=auth).json()
        if image["status"] != "processing":
            return image
        time.sleep(0.1)
    raise TimeoutError(f"image {image_id} not ready after {READY_TIMEOUT_SECONDS:.0f} s")


def one_shot(
    link_url: str, direct: httpx.Client, auth: dict[str, str], data: bytes
) -> tuple[int, str]:
    """POST the whole file until one attempt gets through: (attempts, image id)."""
    boundary = uuid.uuid4().hex
    body = multipart_body(data, boundary)
    headers = {
        **auth,
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Idempotency-Key": uuid.uuid4().hex,
    }
    with httpx.Client(base_url=link_url, timeout=600) as http:
        for attempt in range(1, 20):
            try:
                answer = http.post("/api/v1/images", headers=headers, content=body)
            except httpx.TransportError:
                continue
            answer.raise_for_status()
            return attempt, str(answer.json()["id"])
    raise RuntimeError("the one-shot upload never got through")


def resumable(
    link_url: str, direct: httpx.Client, auth: dict[str, str], data: bytes
) -> tuple[int, str]:
    """A tus upload sending everything from the server's offset in one PATCH, asking again
    after each drop: (attempts, image id)."""
    created = direct.post("/api/v1/tus/", headers={**auth, **TUS, "Upload-Length": str(len(data))})
    created.raise_for_status()
    path = created.headers["location"]
    with httpx.Client(base_url=link_url, timeout=600) as http:
        for attempt in range(1, 20):
            offset = int(direct.head(path, headers={**auth, **TUS}).headers["upload-offset"])
            headers = {
                **auth,
                **TUS,
                "Content-Type": "application/offset+octet-stream",
                "Upload-Offset": str(offset),
            }
            try:
                answer = http.patch(path, headers=headers, content=data[offset:])
            except httpx.TransportError:
                continue
            if answer.status_code == 409:  # the server had not yet seen the drop's bytes
                time.sleep(0.1)
                continue
            answer.raise_for_status()
            return attempt, answer.headers["shutterbox-image"].rsplit("/", 1)[1]
    raise RuntimeError("the resumable upload never got through")


Client = Callable[[str, httpx.Client, dict[str, str], bytes], tuple[int, str]]


def measure(
    name: str, client: Client, link: Link, base_url: str, auth: dict[str, str], data: bytes
) -> Outcome:
    link.reset([len(data) * k // 4 for k in (1, 2, 3)])
    with httpx.Client(base_url=base_url, timeout=60) as direct:
        started = time.monotonic()
        attempts, image_id = client(f"http://127.0.0.1:{link.port}", direct, auth, data)
        image = _ready(direct, image_id, auth)
        seconds = time.monotonic() - started
        original = direct.get(str(image["original"]["url"]), headers=auth).content  # type: ignore[index]
    digest_ok = hashlib.sha256(original).digest() == hashlib.sha256(data).digest()
    print(
        f"{name}: {attempts} attempts, {link.sent / 1e6:.1f} MB on the link, "
        f"{seconds:.1f} s to ready",
        flush=True,
    )
    return Outcome(name, attempts, link.sent, seconds, digest_ok and image["status"] == "ready")


def make_file(path: Path, megabytes: float) -> bytes:
    """A photo-like PNG of about ``megabytes`` (lossless, so the grain keeps it large)."""
    width, height = 4800, 3000
    data = photo_like(3.0, width=width, height=height).pngsave_buffer(compression=1)
    while len(data) > megabytes * 1e6 * 1.1 and height > 400:
        height -= 200
        data = photo_like(3.0, width=width, height=height).pngsave_buffer(compression=1)
    path.write_bytes(data)
    return data


def report(outcomes: list[Outcome], size: int, rate: float) -> str:
    one, res = outcomes
    rows = [
        [
            o.name,
            str(o.attempts),
            f"{o.link_bytes / 1e6:.1f}",
            f"{o.seconds:.1f}",
            "yes" if o.sha256_ok else "NO",
        ]
        for o in outcomes
    ]
    return "\n".join(
        [
            "## A large upload over a link that drops",
            "",
            f"`python -m bench.resumable`: a {size / 1e6:.1f} MB picture uploaded through a link "
            f"of {rate / 1e6:.1f} MB/s that drops the connection when the bytes it has passed "
            "reach 1/4, 2/4 and 3/4 of the file; the one-shot client sends the whole multipart "
            "POST again after each drop (same Idempotency-Key), the resumable one asks the tus "
            "upload where it is and sends the rest. Time: first byte to the image being ready.",
            "",
            *environment_lines(),
            "",
            markdown_table(
                ["Client", "Attempts", "MB on the link", "Seconds to ready", "Original intact"],
                rows,
            ),
            "",
            f"Resumable / one-shot: bytes {ratio(res.link_bytes / one.link_bytes)}, time to ready "
            f"{ratio(res.seconds / one.seconds)}.",
        ]
    )


def main() -> int:
    parser = argument_parser(__doc__)
    parser.add_argument("--megabytes", type=float, default=40.0, help="size of the picture")
    parser.add_argument("--rate", type=float, default=4e6, help="uplink bytes per second")
    args = parser.parse_args()
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="resumable-", dir=WORK_DIR))
    try:
        data = make_file(run_dir / "photo.png", args.megabytes)
        print(f"input: {relative(run_dir / 'photo.png')}, {len(data) / 1e6:.1f} MB", flush=True)
        process, base_url = shutterbox_serve(
            run_dir / "data",
            run_dir / "serve.log",
            workers=1,
            max_upload_bytes=str(len(data) + 1_000_000),
        )
        with running(process):
            port = int(base_url.rsplit(":", 1)[1])
            outcomes = []
            with Link(port, args.rate, []) as link:
                for name, client in (("one-shot POST", one_shot), ("resumable (tus)", resumable)):
                    # a user each: the same bytes from the same user would be a duplicate
                    token = sign_up(base_url, f"mobile{len(outcomes)}", "bench-password-1")
                    auth = {"Authorization": f"Bearer {token}"}
                    outcomes.append(measure(name, client, link, base_url, auth, data))
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    publish(SECTION, report(outcomes, len(data), args.rate), write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
