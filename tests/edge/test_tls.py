"""deploy/nginx with its TLS in front of a real `shutterbox serve`, driven over https and
HTTP/2 by a client that verifies the certificate (made for the test by a throwaway CA):
the protocol and headers the front answers with, the redirect from plain HTTP, uploads
through it and the ones it refuses, and media with and without X-Accel-Redirect."""

from __future__ import annotations

import hashlib
import json
import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest

from tests.imagegen import jpeg_bytes
from tests.support.clients import (
    register,
    upload,
    upload_ready,
    variant_paths,
    wait_for_status,
)
from tests.support.nginx import Nginx
from tests.support.processes import Started
from tests.support.server import ServerProcess
from tests.support.servers import unavailable

pytestmark = pytest.mark.e2e

HSTS = "max-age=63072000"
ACCEL_PREFIX = "/_shutterbox_files"
FrontFactory = Callable[..., tuple[ServerProcess, Nginx]]


@pytest.fixture
def front_factory(tmp_path: Path, origin_factory) -> Iterator[FrontFactory]:
    """``make(**origin_env)``: a `shutterbox serve` and deploy/nginx in front of it, both
    started; nginx stopped at the end (the origin by its own factory)."""
    fronts: Started[Nginx] = Started()

    def make(**origin_env: str) -> tuple[ServerProcess, Nginx]:
        origin = origin_factory(**origin_env)
        origin.start()
        nginx = fronts.add(
            Nginx(tmp_path / f"nginx-{len(fronts)}", [origin.port], data_dir=origin.data_dir)
        )
        nginx.start()
        return origin, nginx

    yield make
    fronts.stop_all()


def https_client(nginx: Nginx, **options: Any) -> httpx.Client:
    return httpx.Client(
        base_url=nginx.url, http2=True, verify=nginx.client_context(), timeout=60, **options
    )


def tls_version(response: httpx.Response) -> str:
    """The TLS version of the connection the response came on."""
    stream = response.extensions["network_stream"]
    ssl_object = stream.get_extra_info("ssl_object")
    assert ssl_object is not None, "the response did not come over TLS"
    version: str = ssl_object.version()
    return version


def test_https_with_http2_hsts_and_plain_http_redirected(front_factory: FrontFactory):
    _, nginx = front_factory()
    with https_client(nginx) as front:
        answer = front.get("/api/v1/feed")
        assert answer.status_code == 200, answer.text
        assert answer.http_version == "HTTP/2"
        assert tls_version(answer) in ("TLSv1.2", "TLSv1.3")
        assert answer.headers["strict-transport-security"] == HSTS
        assert "server" not in answer.headers or answer.headers["server"] == "nginx"
        # Error answers carry HSTS too.
        missing = front.get("/api/v1/images/no-such-image")
        assert missing.status_code == 404
        assert missing.headers["strict-transport-security"] == HSTS

    # TLS 1.2 is offered with forward-secret AEAD ciphers only.
    legacy = nginx.client_context()
    legacy.maximum_version = legacy.minimum_version = ssl.TLSVersion.TLSv1_2
    with httpx.Client(base_url=nginx.url, http2=True, verify=legacy, timeout=30) as old:
        answer = old.get("/healthz")
        assert answer.status_code == 200
        assert tls_version(answer) == "TLSv1.2"
        cipher = answer.extensions["network_stream"].get_extra_info("ssl_object").cipher()[0]
        assert cipher.startswith("ECDHE-") and ("GCM" in cipher or "CHACHA20" in cipher)

    with httpx.Client(base_url=nginx.http_url, timeout=30) as plain:
        moved = plain.get("/api/v1/feed?limit=5")
        assert moved.status_code in (301, 308)
        assert moved.headers["location"] == f"{nginx.url}/api/v1/feed?limit=5"
        assert "strict-transport-security" not in moved.headers  # only meaningful over https
        posted = plain.post("/api/v1/images", content=b"x")
        assert posted.status_code in (301, 308)
        # Liveness and readiness stay on plain HTTP for load balancers; so do ACME answers.
        assert plain.get("/healthz").status_code == 200
        assert plain.get("/readyz").status_code == 200
        assert plain.get("/.well-known/acme-challenge/unknown-token").status_code == 404
    # An edge cache on this machine reaches the service over plain HTTP, unredirected, and
    # says which scheme its own client used.
    with httpx.Client(base_url=nginx.edge_url, timeout=30) as edge:
        assert edge.get("/api/v1/feed").status_code == 200
        register(edge, "edgy")
        login = {"username": "edgy", "password": "correct horse"}
        over_https = edge.post(
            "/api/v1/session", json=login, headers={"X-Forwarded-Proto": "https"}
        )
        assert "secure" in over_https.headers["set-cookie"].lower().split("; ")
        over_http = edge.post("/api/v1/session", json=login)
        assert "secure" not in over_http.headers["set-cookie"].lower().split("; ")
    with httpx.Client(
        base_url=nginx.http_url, verify=nginx.client_context(), follow_redirects=True, timeout=30
    ) as following:
        followed = following.get("/api/v1/feed")
        assert followed.status_code == 200
        assert str(followed.url).startswith(nginx.url)


def test_uploads_and_media_through_the_https_front(front_factory: FrontFactory, tmp_path: Path):
    origin, nginx = front_factory()
    with https_client(nginx) as front, httpx.Client(base_url=origin.url, timeout=60) as direct:
        auth = register(front, "alice")
        image = upload_ready(front, auth, caption="over h2")
        assert image["caption"] == "over h2"
        for path in variant_paths(image).values():
            served = front.get(path)
            assert served.status_code == 200
            assert served.http_version == "HTTP/2"
            assert served.headers["content-type"] == "image/jpeg"
            assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert served.headers["strict-transport-security"] == HSTS
            assert served.content == direct.get(path).content

        # nginx stops a body larger than any the service would accept before it reaches
        # the node, with a JSON error in the API's shape.
        big = tmp_path / "too-large.jpg"
        big.write_bytes(b"\xff" * (53 * 1024 * 1024))
        status, version, body = curl_upload(nginx, auth, big)
        assert (status, version) == (413, "2")
        assert json.loads(body)["code"] == "payload_too_large"
        refused = [e for e in nginx.access_log_entries() if e["status"] == "413"]
        assert refused and all(entry["up"] == "-" for entry in refused)

        # The node sees https (X-Forwarded-Proto) and the host with its port: the login
        # cookie is Secure, and the page's own origin is recognised as same-site.
        login = {"username": "alice", "password": "correct horse"}
        session = front.post("/api/v1/session", json=login, headers={"Origin": nginx.url})
        assert session.status_code == 200, session.text
        cookie = session.headers["set-cookie"].lower()
        assert "secure" in cookie.split("; ")
        plain_login = direct.post("/api/v1/session", json=login)
        assert "secure" not in plain_login.headers["set-cookie"].lower().split("; ")
        foreign = front.post(
            "/api/v1/session", json=login, headers={"Origin": "https://elsewhere.example"}
        )
        assert foreign.status_code == 403


def curl_upload(nginx: Nginx, auth: dict[str, str], path: Path) -> tuple[int, str, str]:
    """POST ``path`` as an upload with curl over HTTP/2: (status, HTTP version, body).

    curl, because httpx's HTTP/2 client cannot take an answer that comes before it has sent
    the whole body (it waits for flow-control credit nginx never gives once it has answered),
    while browsers and curl take it as HTTP/2 allows."""
    curl = shutil.which("curl")
    if curl is None:
        unavailable("curl (Debian/Ubuntu package `curl`)")
        raise AssertionError("unreachable")
    done = subprocess.run(
        [
            *(curl, "--silent", "--show-error", "--http2", "--max-time", "120"),
            *("--cacert", str(nginx.certificate.directory / "chain.pem")),
            *("--header", f"Authorization: {auth['Authorization']}"),
            *("--form", f"file=@{path};type=image/jpeg"),
            *("--write-out", "\n%{http_code} %{http_version}"),
            f"{nginx.url}/api/v1/images",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    body, _, status_line = done.stdout.rpartition("\n")
    status, version = status_line.split()
    return int(status), version, body


def test_media_sent_by_nginx_after_the_node_checked_access(front_factory: FrontFactory):
    origin, nginx = front_factory(SHUTTERBOX_MEDIA_ACCEL_REDIRECT=ACCEL_PREFIX)
    with https_client(nginx) as front, httpx.Client(base_url=origin.url, timeout=60) as direct:
        auth = register(front, "alice")
        image = upload_ready(front, auth)
        full = variant_paths(image)["full"]
        stored = next((origin.data_dir / "blobs" / "variants").rglob(f"{image['id']}-full.jpg"))
        content = stored.read_bytes()
        etag = f'"{hashlib.sha256(content).hexdigest()}"'

        served = front.get(full)
        assert served.status_code == 200
        assert served.http_version == "HTTP/2"
        assert served.content == content
        assert served.headers["content-type"] == "image/jpeg"
        assert served.headers["etag"] == etag
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.headers["strict-transport-security"] == HSTS
        assert "x-accel-redirect" not in served.headers
        assert "x-shutterbox-file-bytes" not in served.headers
        last_modified = served.headers["last-modified"]
        assert last_modified == direct.head(full).headers["last-modified"]

        ranged = front.get(full, headers={"Range": "bytes=100-199"})
        assert ranged.status_code == 206
        assert ranged.content == content[100:200]
        head = front.head(full)
        assert head.status_code == 200 and int(head.headers["content-length"]) == len(content)
        assert front.get(full, headers={"If-None-Match": etag}).status_code == 304
        negotiated = front.get(full, headers={"Accept": "image/webp"})
        assert negotiated.headers["content-type"] == "image/webp"
        assert negotiated.headers["vary"] == "Accept"

        # The node answers with the file's name only: its bytes never pass through it.
        handed = direct.get(full)
        assert handed.status_code == 200 and handed.content == b""
        assert handed.headers["x-accel-redirect"] == f"{ACCEL_PREFIX}{stored.absolute()}"

        # Every access check stays in the node: a private image's files answer 404 to a
        # stranger without a signed URL and 403 with a forged one, and their bytes to the
        # owner and to a valid signed URL; the internal location cannot be asked for.
        photo = jpeg_bytes(800, 600, noise=True)
        created = upload(front, auth, photo, visibility="private")
        assert created.status_code == 201, created.text
        private = wait_for_status(front, created.json()["id"], auth)
        assert private["status"] == "ready", private
        signed = private["original"]["url"]
        original = urlsplit(signed).path
        assert front.get(original).status_code == 404
        assert front.get(variant_paths(private)["thumb"]).status_code == 404
        forged = signed.replace("signature=", "signature=0")
        assert front.get(forged).status_code == 403
        owned = front.get(original, headers=auth)
        assert owned.status_code == 200 and owned.content == photo
        assert owned.headers["cache-control"] == "private, no-store"
        by_link = front.get(signed)
        assert by_link.status_code == 200 and by_link.content == photo
        assert front.get(f"{ACCEL_PREFIX}{stored.absolute()}").status_code == 404
