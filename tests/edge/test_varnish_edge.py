"""deploy/varnish with a real `varnishd` in front of a real `shutterbox serve` (and, for the
header rules, in front of a small recording origin): what is cached and what is not,
conditional and Range requests, PURGE, grace while the origin is down, the two-tier VCL."""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest

from tests.support.clients import cached_at_edge, register, upload_ready, variant_paths
from tests.support.ports import free_port
from tests.support.server import ServerProcess
from tests.support.varnish import (
    COMMON_VCL,
    SHARD_VCL,
    VCL_DIR,
    Varnish,
    compile_vcl,
    render_shard_vcl,
)

pytestmark = pytest.mark.e2e

OriginFactory = Callable[..., ServerProcess]
EdgeFactory = Callable[..., Varnish]


def start_stack(
    origin_factory: OriginFactory, edge_factory: EdgeFactory, **origin_env: str
) -> tuple[ServerProcess, Varnish]:
    origin = origin_factory(**origin_env)
    origin.start()
    edge = edge_factory(origin.port)
    edge.start()
    return origin, edge


def get(client: httpx.Client, url: str, **headers: str) -> httpx.Response:
    return client.get(url, headers=headers)


def test_public_variants_are_cached_and_served_with_304_and_ranges(origin_factory, edge_factory):
    origin, edge = start_stack(origin_factory, edge_factory)
    with (
        httpx.Client(base_url=origin.url, timeout=30) as api,
        httpx.Client(base_url=edge.url, timeout=30) as cdn,
    ):
        image = upload_ready(api, register(api, "alice"), tags="sea")
        paths = variant_paths(image)
        assert paths.keys() == {"thumb", "medium", "full"}
        full = api.get(paths["full"])
        assert full.status_code == 200 and len(full.content) > 50_000

        first = cdn.get(paths["full"])
        assert first.status_code == 200
        assert first.headers["x-cache"] == "MISS"
        assert first.content == full.content
        assert first.headers["etag"] == full.headers["etag"]
        assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
        time.sleep(1.1)
        second = cdn.get(paths["full"])
        assert second.headers["x-cache"] == "HIT"
        assert int(second.headers["age"]) >= 1
        assert second.content == full.content
        assert second.headers["etag"] == full.headers["etag"]
        assert second.headers["content-type"] == "image/jpeg"

        # Revalidation and Range are answered from the cached copy.
        etag = full.headers["etag"]
        not_modified = get(cdn, paths["full"], **{"If-None-Match": etag})
        assert not_modified.status_code == 304 and not_modified.content == b""
        assert not_modified.headers["x-cache"] == "HIT"
        assert not_modified.headers["etag"] == etag
        assert get(cdn, paths["full"], **{"If-None-Match": '"other"'}).status_code == 200
        part = get(cdn, paths["full"], Range="bytes=100-1099")
        assert part.status_code == 206 and part.headers["x-cache"] == "HIT"
        assert part.content == full.content[100:1100]
        assert part.headers["content-range"] == f"bytes 100-1099/{len(full.content)}"
        tail = get(cdn, paths["full"], Range="bytes=-500")
        assert tail.status_code == 206 and tail.content == full.content[-500:]
        too_far = get(cdn, paths["full"], Range=f"bytes={len(full.content) + 10}-")
        assert too_far.status_code == 416
        head = cdn.head(paths["full"])
        assert head.status_code == 200 and head.headers["x-cache"] == "HIT"
        assert head.headers["content-length"] == str(len(full.content))

        # A Range request that misses: the edge fetches the whole variant (no Range to the
        # origin), answers the part, and has the whole object for the next request.
        thumb = api.get(paths["thumb"]).content
        part = get(cdn, paths["thumb"], Range="bytes=10-19")
        assert part.status_code == 206 and part.headers["x-cache"] == "MISS"
        assert part.content == thumb[10:20]
        whole = cdn.get(paths["thumb"])
        assert whole.headers["x-cache"] == "HIT" and whole.content == thumb

        # A conditional request that misses gets its 304 too.
        medium = api.get(paths["medium"])
        cond = get(cdn, paths["medium"], **{"If-None-Match": medium.headers["etag"]})
        assert cond.status_code == 304 and cond.headers["x-cache"] == "MISS"
        assert cdn.get(paths["medium"]).headers["x-cache"] == "HIT"

        # Cookies do not stop a public variant from being a hit; a query string is passed.
        cookie = get(cdn, paths["thumb"], Cookie="session=abc")
        assert cookie.headers["x-cache"] == "HIT" and cookie.content == thumb
        assert cdn.get(paths["thumb"] + "?v=2").headers["x-cache"] == "PASS"
        assert cdn.get(paths["thumb"]).headers["x-cache"] == "HIT"

        # The API always passes, with or without credentials.
        for _ in range(2):
            feed = cdn.get("/api/v1/feed")
            assert feed.status_code == 200 and feed.headers["x-cache"] == "PASS"
            assert [i["id"] for i in feed.json()["items"]] == [image["id"]]
        me = cdn.get("/api/v1/users/me", headers=register(cdn, "bob"))
        assert me.json()["username"] == "bob" and me.headers["x-cache"] == "PASS"
        assert cdn.get("/api/v1/users/me").status_code == 401


def test_private_media_are_never_cached_at_the_edge(origin_factory, edge_factory):
    origin, edge = start_stack(origin_factory, edge_factory)
    with (
        httpx.Client(base_url=origin.url, timeout=30) as api,
        httpx.Client(base_url=edge.url, timeout=30) as cdn,
    ):
        owner = register(api, "alice")
        image = upload_ready(api, owner, visibility="private")
        for name, path in variant_paths(image).items():
            mine = api.get(path, headers=owner)
            assert mine.status_code == 200 and "private" in mine.headers["cache-control"], name
            for _ in range(2):
                through = cdn.get(path, headers=owner)
                assert through.status_code == 200
                assert through.headers["x-cache"] == "PASS"
                assert through.content == mine.content
                assert "private" in through.headers["cache-control"]
            # Without the token: the origin's 404, never the owner's bytes.
            for _ in range(2):
                anonymous = cdn.get(path)
                assert anonymous.status_code == 404, name
                assert anonymous.headers.get("x-cache") != "HIT"
                assert mine.content not in anonymous.content
            anonymous = get(cdn, path, Cookie="session=alice")
            assert anonymous.status_code == 404 and anonymous.headers.get("x-cache") != "HIT"
            ranged = get(cdn, path, Range="bytes=0-9")
            assert ranged.status_code == 404 and ranged.headers.get("x-cache") != "HIT"

        # Signed URLs (for whoever holds them) pass as well and are not stored either.
        signed = [v["url"] for v in image["variants"].values() if urlsplit(v["url"]).query]
        for url in signed:
            parts = urlsplit(url)
            for _ in range(2):
                held = cdn.get(f"{parts.path}?{parts.query}")
                assert held.status_code == 200 and held.headers["x-cache"] == "PASS"
            assert cdn.get(parts.path).status_code == 404


def test_deleted_image_is_gone_from_the_edge_after_purge(origin_factory, edge_factory):
    """The PURGE is sent by the test here; the origin itself purges nothing."""
    origin, edge = start_stack(origin_factory, edge_factory, SHUTTERBOX_CDN_PURGE_URLS="")
    with (
        httpx.Client(base_url=origin.url, timeout=30) as api,
        httpx.Client(base_url=edge.url, timeout=30) as cdn,
    ):
        auth = register(api, "alice")
        image = upload_ready(api, auth)
        paths = variant_paths(image)
        for path in paths.values():
            assert cdn.get(path).status_code == 200
            assert cdn.get(path).headers["x-cache"] == "HIT"

        deleted = cdn.delete(f"/api/v1/images/{image['id']}", headers=auth)
        assert deleted.status_code == 204 and deleted.headers["x-cache"] == "PASS"
        for path in paths.values():
            assert api.get(path).status_code == 404  # the origin forgets at once ...
            assert cdn.get(path).headers["x-cache"] == "HIT"  # ... a cache until purged

        for path in paths.values():
            purged = cdn.request("PURGE", path)
            assert purged.status_code == 200 and purged.text.strip() == "purged"
        for path in paths.values():
            gone = cdn.get(path)
            assert gone.status_code == 404 and gone.headers["x-cache"] == "MISS"
            assert cdn.get(path).status_code == 404  # and a 404 is not stored as a hit
            assert cdn.get(path).headers["x-cache"] != "HIT"


def test_origin_purges_the_edge_when_an_image_is_deleted(origin_factory, edge_factory):
    edge_port = free_port()
    origin, edge = start_stack(
        origin_factory,
        lambda origin_port: edge_factory(origin_port, port=edge_port),
        SHUTTERBOX_CDN_PURGE_URLS=f"http://127.0.0.1:{edge_port}",
    )
    with (
        httpx.Client(base_url=origin.url, timeout=30) as api,
        httpx.Client(base_url=edge.url, timeout=30) as cdn,
    ):
        auth, image, paths = cached_at_edge(api, cdn)
        assert api.delete(f"/api/v1/images/{image['id']}", headers=auth).status_code == 204
        for path in paths.values():
            assert cdn.get(path).status_code == 404


def test_grace_serves_cached_media_while_the_origin_is_down(origin_factory, edge_factory):
    """Rendered with a 2 s edge TTL and no grace while healthy, so that the cached copies
    are stale when the origin goes away: they are served from grace, not from their TTL."""
    origin = origin_factory()
    origin.start()
    edge = edge_factory(origin.port, ttl_cap="2s", healthy_grace="0s")
    edge.start()
    with (
        httpx.Client(base_url=origin.url, timeout=30) as api,
        httpx.Client(base_url=edge.url, timeout=30) as cdn,
    ):
        image = upload_ready(api, register(api, "alice"))
        paths = variant_paths(image)
        cached = {name: cdn.get(paths[name]) for name in ("thumb", "medium")}
        assert all(r.headers["x-cache"] == "MISS" for r in cached.values())
        fetched_at = time.monotonic()

        origin.stop()  # SIGTERM
        time.sleep(max(0.0, fetched_at + 2.5 - time.monotonic()))  # past the TTL
        for name, response in cached.items():
            stale = cdn.get(paths[name])
            assert stale.status_code == 200, stale.text
            assert stale.headers["x-cache"] == "HIT"
            assert int(stale.headers["age"]) >= 2
            assert stale.content == response.content
            part = get(cdn, paths[name], Range="bytes=0-99")
            assert part.status_code == 206 and part.content == response.content[:100]

        uncached = cdn.get(paths["full"])
        assert uncached.status_code == 503
        assert uncached.json()["code"] == "service_unavailable"
        assert uncached.headers["retry-after"] == "5"
        api_down = cdn.get("/api/v1/feed")
        assert api_down.status_code == 503
        assert api_down.json()["code"] == "service_unavailable"


# --- the header rules, against a recording origin ------------------------------------------


class RecordingOrigin:
    """An HTTP origin in a thread that records each request's method, path and headers.
    /media/ answers with a body naming the Accept header it got, `Vary: Accept` and a strong
    ETag (304 for If-None-Match), cacheable like shutterbox's public variants unless the path
    contains "private"; with ``failing`` set, /media/ answers 500."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.failing = False
        origin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                origin.requests.append(
                    (self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
                )
                if self.path.startswith("/media/") and origin.failing:
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                etag = f'"{zlib.crc32(self.path.encode())}"'
                if self.path.startswith("/media/") and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                if self.path.startswith("/media/"):
                    accept = self.headers.get("Accept", "")
                    body = f"{self.path} as {accept or '-'} ".encode() * 20
                    cache_control = (
                        "private, no-store"
                        if "private" in self.path
                        else "public, max-age=31536000, immutable"
                    )
                    headers = {
                        "Cache-Control": cache_control,
                        "Vary": "Accept",
                        "ETag": etag,
                        "Content-Type": "image/jpeg",
                    }
                else:
                    body = b'{"ok": true}'
                    headers = {"Content-Type": "application/json"}
                self.send_response(200)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_HEAD = do_GET
            do_POST = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def fetches(self, path: str) -> list[dict[str, str]]:
        return [headers for _, p, headers in self.requests if p == path]

    @contextmanager
    def running(self) -> Iterator[RecordingOrigin]:
        self.thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=5)


CHROME_ACCEPT = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
FIREFOX_ACCEPT = "image/avif,image/webp,*/*"
SAFARI_ACCEPT = "image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,*/*;q=0.8"
OLD_ACCEPT = "image/webp,*/*"


def test_edge_normalises_accept_keeps_vary_and_strips_credentials(edge_factory):
    with RecordingOrigin().running() as origin, httpx.Client(timeout=10) as client:
        edge = edge_factory(origin.port)
        edge.start()
        path = "/media/img1/full-0123456789abcdef.jpg"
        url = edge.url + path

        def fetch(accept: str | None, **headers: str) -> httpx.Response:
            if accept is not None:
                headers["Accept"] = accept
            return client.get(url, headers=headers)

        avif = fetch(CHROME_ACCEPT)
        assert avif.headers["x-cache"] == "MISS" and avif.headers["vary"] == "Accept"
        assert f"{path} as image/avif ".encode() in avif.content
        for accept in (FIREFOX_ACCEPT, SAFARI_ACCEPT, "IMAGE/AVIF"):
            again = fetch(accept, Cookie="session=1")
            assert again.headers["x-cache"] == "HIT" and again.content == avif.content

        webp = fetch(OLD_ACCEPT)
        assert webp.headers["x-cache"] == "MISS"
        assert f"{path} as image/webp ".encode() in webp.content
        refused = fetch("image/avif;q=0, image/webp")  # q=0: not acceptable
        assert refused.headers["x-cache"] == "HIT" and refused.content == webp.content

        jpeg = fetch(None)
        assert jpeg.headers["x-cache"] == "MISS"
        assert f"{path} as image/jpeg ".encode() in jpeg.content
        for accept in ("*/*", "image/jpeg,image/png", "image/avif;q=0", ""):
            again = fetch(accept)
            assert again.headers["x-cache"] == "HIT" and again.content == jpeg.content

        # Three variants fetched once each, with normalised Accept, no cookie, no Range.
        seen = origin.fetches(path)
        assert [h.get("accept") for h in seen] == ["image/avif", "image/webp", "image/jpeg"]
        assert not any("cookie" in h or "range" in h for h in seen)

        # Range on a miss: the whole object is fetched, the part answered.
        other = "/media/img1/thumb-0123456789abcdef.jpg"
        part = client.get(edge.url + other, headers={"Range": "bytes=5-14"})
        assert part.status_code == 206 and part.headers["x-cache"] == "MISS"
        assert part.content == f"{other} as image/jpeg ".encode()[5:15]
        assert "range" not in origin.fetches(other)[0]

        # One PURGE drops every Vary variant of the URL.
        purged = client.request("PURGE", url)
        assert purged.status_code == 200 and purged.text.strip() == "purged"
        for accept in (CHROME_ACCEPT, OLD_ACCEPT, None):
            assert fetch(accept).headers["x-cache"] == "MISS"
        assert len(origin.fetches(path)) == 6
        # PURGE of a URL that is not cached is answered all the same.
        assert client.request("PURGE", edge.url + "/media/nothing/here.jpg").status_code == 200

        # Credentials on /media/ pass with their Accept untouched; private answers never
        # become hits; /api/ keeps its Authorization and Cookie headers.
        for _ in range(2):
            owner = client.get(url, headers={"Authorization": "Bearer t", "Accept": "x/y"})
            assert owner.headers["x-cache"] == "PASS"
        assert origin.requests[-1][2]["authorization"] == "Bearer t"
        assert origin.requests[-1][2]["accept"] == "x/y"
        private = edge.url + "/media/img2/private-0123456789abcdef.jpg"
        assert [client.get(private).headers["x-cache"] for _ in range(3)] == ["MISS"] * 3
        for _ in range(2):
            api = client.get(
                edge.url + "/api/v1/users/me",
                headers={"Authorization": "Bearer t", "Cookie": "session=1"},
            )
            assert api.headers["x-cache"] == "PASS"
            assert origin.requests[-1][2]["authorization"] == "Bearer t"
            assert origin.requests[-1][2]["cookie"] == "session=1"

        # Methods: BAN and the like are refused, /metrics is not exposed through the edge.
        for method in ("BAN", "TRACE", "CONNECT", "REFRESH"):
            assert client.request(method, url).status_code == 405, method
        assert client.get(edge.url + "/metrics").status_code == 404
        assert client.get(edge.url + "/healthz").headers["x-cache"] == "PASS"


def test_stale_copies_are_served_when_the_origin_fails_and_revalidated_when_it_works(
    edge_factory,
):
    """Rendered with a 1 s edge TTL and no grace while healthy: every request after a second
    needs the origin. The origin stays healthy for the probe (/healthz) but its /media/
    answers fail, so this is the restart-with-full-grace path, not the sick-backend one."""
    with RecordingOrigin().running() as origin, httpx.Client(timeout=10) as client:
        edge = edge_factory(origin.port, ttl_cap="1s", healthy_grace="0s")
        edge.start()
        path = "/media/img1/medium-0123456789abcdef.jpg"
        first = client.get(edge.url + path)
        assert first.headers["x-cache"] == "MISS"

        time.sleep(1.2)  # stale: revalidated with the cached ETag, the origin answers 304
        again = client.get(edge.url + path)
        assert again.status_code == 200 and again.content == first.content
        assert origin.fetches(path)[-1]["if-none-match"] == first.headers["etag"]
        assert len(origin.fetches(path)) == 2

        time.sleep(1.2)
        origin.failing = True
        stale = client.get(edge.url + path)
        assert len(origin.fetches(path)) >= 3  # the origin was asked and failed
        assert stale.status_code == 200 and stale.content == first.content
        assert stale.headers["x-cache"] == "HIT"
        part = client.get(edge.url + path, headers={"Range": "bytes=3-7"})
        assert part.status_code == 206 and part.content == first.content[3:8]

        uncached = client.get(edge.url + "/media/img1/full-0123456789abcdef.jpg")
        assert uncached.status_code == 503
        assert uncached.json()["code"] == "service_unavailable"

        origin.failing = False  # the failure was not stored: the next refresh succeeds
        time.sleep(0.1)
        assert client.get(edge.url + path).content == first.content


def test_two_tiers_send_each_url_to_one_shield(edge_factory, tmp_path: Path):
    """Two edge nodes running shutterbox-edge-shard.vcl in front of two shields running
    shutterbox.vcl: the shard director sends every URL to the same shield from either edge,
    so the origin is asked once per URL and each URL is cached on exactly one shield."""
    with RecordingOrigin().running() as origin, httpx.Client(timeout=10) as client:
        shields = [edge_factory(origin.port) for _ in range(2)]
        shard_vcl = render_shard_vcl(tmp_path / "shard-vcl", [s.port for s in shields])
        edges = [edge_factory(0, vcl=shard_vcl) for _ in range(2)]
        for tier in (shields, edges):  # shields first: the edges' probes must find them up
            for node in tier:
                node.launch()
            for node in tier:
                node.wait_ready()

        def x_cache(node: Varnish, path: str, accept: str | None = None) -> str:
            headers = {"Accept": accept} if accept else {}
            return client.get(node.url + path, headers=headers).headers["x-cache"]

        paths = [f"/media/img{n}/thumb-0123456789abcdef.jpg" for n in range(16)]
        for path in paths:
            first = client.get(edges[0].url + path, headers={"Accept": CHROME_ACCEPT})
            assert first.status_code == 200 and first.headers["x-cache"] == "MISS"
            other = client.get(edges[1].url + path, headers={"Accept": FIREFOX_ACCEPT})
            assert other.headers["x-cache"] == "MISS"  # new to this edge ...
            assert other.content == first.content
            assert len(origin.fetches(path)) == 1  # ... but a hit on the URL's shield
            assert x_cache(edges[1], path) == "MISS"  # another variant (jpeg)
            assert len(origin.fetches(path)) == 2
            assert x_cache(edges[0], path, FIREFOX_ACCEPT) == "HIT"

        homes = []
        for path in paths:
            hits = [x_cache(shield, path, "image/avif") for shield in shields]
            assert sorted(hits) == ["HIT", "MISS"], hits
            homes.append(hits.index("HIT"))
        assert set(homes) == {0, 1}  # both shields hold a share

        # A PURGE sent to the shields and then to the edges empties both tiers.
        for node in shields + edges:
            assert client.request("PURGE", node.url + paths[0]).status_code == 200
        fetched = len(origin.fetches(paths[0]))
        assert x_cache(edges[0], paths[0]) == "MISS"
        assert len(origin.fetches(paths[0])) == fetched + 1
        assert x_cache(edges[1], paths[0]) == "MISS"
        assert len(origin.fetches(paths[0])) == fetched + 1  # from the shield


def test_purge_is_refused_from_addresses_outside_the_acl(edge_factory):
    with RecordingOrigin().running() as origin, httpx.Client(timeout=10) as client:
        edge = edge_factory(origin.port, purgers=("192.0.2.1",))
        edge.start()
        url = edge.url + "/media/img1/full-0123456789abcdef.jpg"
        client.get(url)
        assert client.get(url).headers["x-cache"] == "HIT"
        refused = client.request("PURGE", url)
        assert refused.status_code == 403
        assert refused.json()["code"] == "forbidden"
        assert client.request("BAN", url).status_code == 405
        assert client.get(url).headers["x-cache"] == "HIT"  # still cached


def test_every_vcl_compiles(tmp_path: Path):
    """shutterbox.vcl (one tier, or the shields) and the shard edge of the two-tier setup,
    as shipped."""
    for name in ("shutterbox.vcl", SHARD_VCL):
        (tmp_path / name).write_text((VCL_DIR / name).read_text())
    (tmp_path / COMMON_VCL).write_text((VCL_DIR / COMMON_VCL).read_text())
    for name in ("shutterbox.vcl", SHARD_VCL):
        result = compile_vcl(tmp_path / name, tmp_path / "instance")
        assert result.returncode == 0, result.stderr[-3000:]
