"""A real tus client (tuspy) against a running `shutterbox serve`: an upload whose connection
is cut halfway resumes from where `HEAD` says it is, and parts sent at once to the same
offset make one upload, not a corrupt one."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Callable, Iterator
from io import BytesIO
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest
from tusclient.client import TusClient

from tests.imagegen import jpeg_bytes
from tests.support.clients import register, wait_for_status
from tests.support.server import ServerProcess

CHUNK = 256 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


@pytest.fixture
def server(server_factory: Callable[..., ServerProcess]) -> Iterator[ServerProcess]:
    started = server_factory(SHUTTERBOX_WORKERS="1")
    started.start()
    yield started


def _half_patch(
    server: ServerProcess, auth: dict, path: str, offset: int, data: bytes
) -> socket.socket:
    """A PATCH that announces ``len(data)`` bytes and sends half of them; the open socket."""
    host = urlsplit(server.url)
    head = (
        f"PATCH {path} HTTP/1.1\r\nHost: {host.netloc}\r\n"
        f"Authorization: {auth['Authorization']}\r\nTus-Resumable: 1.0.0\r\n"
        f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode()
    connection = socket.create_connection((host.hostname, host.port))
    connection.sendall(head + data[: len(data) // 2])
    return connection


def _offset(http: httpx.Client, auth: dict, path: str) -> int:
    return int(http.head(path, headers={**auth, **TUS}).headers["upload-offset"])


def _wait_for_offset(http: httpx.Client, auth: dict, path: str, at_least: int) -> int:
    for _ in range(100):  # the server notices the hang-up a moment later
        offset = _offset(http, auth, path)
        if offset >= at_least:
            return offset
        threading.Event().wait(0.05)
    raise AssertionError(f"the upload stayed at {offset}")


def test_an_upload_cut_halfway_resumes_from_head(server: ServerProcess):
    photo = jpeg_bytes(2400, 1800, noise=True)
    assert len(photo) > 4 * CHUNK
    with httpx.Client(base_url=server.url, timeout=30) as http:
        auth = register(http, "alice")
        tus = TusClient(f"{server.url}/api/v1/tus/", headers=auth)
        first = tus.uploader(
            file_stream=BytesIO(photo),
            chunk_size=CHUNK,
            metadata={"filename": "IMG_2.JPG", "caption": "resumed"},
        )
        first.upload_chunk()
        first.upload_chunk()
        path = urlsplit(first.url).path
        assert _offset(http, auth, path) == 2 * CHUNK

        _half_patch(server, auth, path, 2 * CHUNK, photo[2 * CHUNK :]).close()  # cut
        kept = _wait_for_offset(http, auth, path, 2 * CHUNK + 1)
        assert 2 * CHUNK < kept < len(photo)  # what arrived before the cut was kept

        resumed = tus.uploader(file_stream=BytesIO(photo), chunk_size=CHUNK, url=first.url)
        assert resumed.get_offset() == kept
        resumed.upload()
        done = http.get(path, headers=auth)
        assert done.status_code == 200, done.text
        image = wait_for_status(http, done.json()["image"]["id"], auth)
        assert image["status"] == "ready" and image["caption"] == "resumed"
        original = http.get(image["original"]["url"], headers=auth).content
        assert hashlib.sha256(original).hexdigest() == hashlib.sha256(photo).hexdigest()


def test_a_client_back_before_the_server_saw_the_drop(server: ServerProcess):
    """The old request still waits for the rest of its bytes (the drop went unnoticed): the
    client's HEAD makes it stop and keep what arrived, and answers with that offset."""
    photo = jpeg_bytes(1600, 1200, noise=True)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        auth = register(http, "alice")
        created = http.post(
            "/api/v1/tus/", headers={**auth, **TUS, "Upload-Length": str(len(photo))}
        )
        path = created.headers["location"]
        stalled = _half_patch(server, auth, path, 0, photo)
        try:
            threading.Event().wait(0.5)  # the half has arrived; the rest never will
            assert _offset(http, auth, path) == len(photo) // 2
        finally:
            stalled.close()
        TusClient(f"{server.url}/api/v1/tus/", headers=auth).uploader(
            file_stream=BytesIO(photo), chunk_size=CHUNK, url=server.url + path
        ).upload()
        image = wait_for_status(http, http.get(path, headers=auth).json()["image"]["id"], auth)
        assert http.get(image["original"]["url"], headers=auth).content == photo


def test_parts_sent_at_once_to_one_offset(server: ServerProcess):
    photo = jpeg_bytes(1600, 1200, noise=True)
    with httpx.Client(base_url=server.url, timeout=30) as http:
        auth = register(http, "alice")
        created = http.post(
            "/api/v1/tus/", headers={**auth, **TUS, "Upload-Length": str(len(photo))}
        )
        path = created.headers["location"]
        half = len(photo) // 2
        answers: list[int] = []

        def send(part: bytes) -> None:
            with httpx.Client(base_url=server.url, timeout=30) as own:
                answer = own.patch(
                    path,
                    headers={
                        **auth,
                        **TUS,
                        "Content-Type": "application/offset+octet-stream",
                        "Upload-Offset": "0",
                    },
                    content=part,
                )
                answers.append(answer.status_code)

        senders = [threading.Thread(target=send, args=(photo[:half],)) for _ in range(4)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
        # Each newer request stops the one before (which keeps what it had) and then finds
        # the upload elsewhere; any that ran alone got through. Never two parts for one offset.
        assert set(answers) <= {204, 409} and answers.count(409) >= 3, answers
        assert 0 < _offset(http, auth, path) <= half
        tus = TusClient(f"{server.url}/api/v1/tus/", headers=auth)
        tus.uploader(
            file_stream=BytesIO(photo), chunk_size=CHUNK, url=f"{server.url}{path}"
        ).upload()
        image = wait_for_status(http, http.get(path, headers=auth).json()["image"]["id"], auth)
        assert image["status"] == "ready"
        original = http.get(image["original"]["url"], headers=auth).content
        assert original == photo
