"""Scale-out with real processes: two API nodes behind nginx, two workers, PostgreSQL, an
S3-compatible bucket (moto's server), and NATS JetStream or Kafka (Tansu) as the queue.

A client sends 200 uploads through nginx, half multipart and half direct to the bucket,
while one API node is restarted (SIGTERM, then started again on its port) and one worker is
killed with SIGKILL in the middle of a job; with Kafka, the broker is also restarted mid-run,
which (its storage is in memory) loses every message and committed offset. Every upload must
end up as exactly one image, `ready`, with its original and variants in the bucket under the
recorded checksums, and nothing else in the bucket.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import boto3
import httpx2 as httpx
import pytest

from shutterbox.domain.images import VARIANT_NAMES, variant_specs_for
from tests.imagegen import jpeg_bytes
from tests.support.cluster import Cluster
from tests.support.faults import assert_scrub_clean
from tests.support.servers import S3Endpoint, unavailable

pytestmark = pytest.mark.e2e

UPLOADS = 200
USERS = 4
CONCURRENCY = 20
RESTART_AFTER_ACCEPTED = 50  # SIGTERM an API node once this many uploads are in
KILL_AFTER_READY = 10  # SIGKILL a worker mid-job once this many images are ready
BROKER_RESTART_AFTER_READY = 40  # with Kafka: restart the broker once this many are ready
READY_DEADLINE_SECONDS = 180.0
MAX_ATTEMPTS = 10
RETRYABLE_STATUSES = {502, 503, 504}
PASSWORD = "correct horse battery"
# Small but real photos: different sizes, every one with different bytes.
SIZES = [(640, 480), (800, 600), (1024, 768), (768, 1024)]


@dataclass
class Upload:
    index: int
    kind: str  # "multipart" or "direct"
    user: str
    data: bytes
    image_id: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Client:
    """The uploading client: retries what failed on the way (a connection error or nginx's
    502/503/504) and counts each retry by request kind."""

    http: httpx.AsyncClient
    tokens: dict[str, str] = field(default_factory=dict)
    retries: Counter[str] = field(default_factory=Counter)
    replays: int = 0
    failures: list[str] = field(default_factory=list)

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    async def send(
        self, kind: str, request: Callable[[], Awaitable[httpx.Response]]
    ) -> httpx.Response:
        for attempt in range(MAX_ATTEMPTS):
            try:
                response = await request()
            except httpx.TransportError as error:
                problem = f"{type(error).__name__}: {error}"
            else:
                if response.status_code not in RETRYABLE_STATUSES:
                    return response
                problem = f"{response.status_code} {response.text[:120]}"
            self.retries[kind] += 1
            self.failures.append(f"{kind}: {problem}")
            await asyncio.sleep(0.2 * (attempt + 1))
        raise AssertionError(f"{kind} failed {MAX_ATTEMPTS} times: {self.failures[-3:]}")

    async def register(self, user: str) -> None:
        created = await self.send(
            "register",
            lambda: self.http.post("/api/v1/users", json={"username": user, "password": PASSWORD}),
        )
        assert created.status_code == 201, created.text
        token = await self.send(
            "token",
            lambda: self.http.post(
                "/api/v1/auth/token", data={"username": user, "password": PASSWORD}
            ),
        )
        assert token.status_code == 200, token.text
        self.tokens[user] = token.json()["access_token"]

    async def upload_multipart(self, upload: Upload) -> str:
        headers = {**self.auth(upload.user), "Idempotency-Key": str(uuid.uuid4())}
        before = self.retries["multipart"]
        response = await self.send(
            "multipart",
            lambda: self.http.post(
                "/api/v1/images",
                headers=headers,
                files={"file": (f"photo-{upload.index}.jpg", upload.data, "image/jpeg")},
                data={"caption": f"photo {upload.index}", "tags": "scale"},
            ),
        )
        assert response.status_code == 201, response.text
        if response.headers.get("idempotent-replayed") == "true":
            assert self.retries["multipart"] > before  # only a retry can be a replay
            self.replays += 1
        return str(response.json()["id"])

    async def upload_direct(self, upload: Upload, bucket_url: str) -> str:
        auth = self.auth(upload.user)
        started = await self.send(
            "direct start",
            lambda: self.http.post(
                "/api/v1/uploads",
                headers=auth,
                json={
                    "filename": f"photo-{upload.index}.jpg",
                    "content_type": "image/jpeg",
                    "size": len(upload.data),
                },
            ),
        )
        assert started.status_code == 201, started.text
        ticket = started.json()
        assert ticket["url"].startswith(bucket_url), ticket["url"]  # straight to the bucket
        put = await self.send(
            "direct put",
            lambda: self.http.put(ticket["url"], content=upload.data, headers=ticket["headers"]),
        )
        assert put.status_code == 200, put.text
        before = self.retries["direct complete"]
        done = await self.send(
            "direct complete",
            lambda: self.http.post(
                f"/api/v1/uploads/{ticket['id']}/complete",
                headers=auth,
                json={"caption": f"photo {upload.index}", "tags": ["scale"]},
            ),
        )
        retried = self.retries["direct complete"] > before
        assert done.status_code == 201 or (retried and done.status_code == 200), done.text
        if done.status_code == 200:
            self.replays += 1
        return str(done.json()["id"])

    async def pages(self, path: str, user: str | None = None, limit: int = 17) -> list[str]:
        """Every id of a feed, following next_cursor page by page."""
        headers = self.auth(user) if user else {}
        ids: list[str] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            page = await self.send(
                "list", lambda params=params: self.http.get(path, params=params, headers=headers)
            )
            assert page.status_code == 200, page.text
            body = page.json()
            ids += [item["id"] for item in body["items"]]
            if not (cursor := body["next_cursor"]):
                return ids


async def _wait_until(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def _bucket_objects(s3: S3Endpoint, bucket: str) -> dict[str, str]:
    """Every object in the bucket: key -> sha256 of its bytes."""
    client = boto3.client("s3", endpoint_url=s3.url, region_name="us-east-1", **_credentials(s3))
    keys = [
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
    ]

    def digest(key: str) -> str:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        try:
            return hashlib.sha256(body.read()).hexdigest()
        finally:
            body.close()

    with ThreadPoolExecutor(8) as pool:
        return dict(zip(keys, pool.map(digest, keys), strict=True))


def _credentials(s3: S3Endpoint) -> dict[str, str]:
    return {
        "aws_access_key_id": s3.env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": s3.env["AWS_SECRET_ACCESS_KEY"],
    }


async def test_uploads_through_nginx_survive_an_api_restart_and_a_killed_worker(
    cluster: Cluster,
):
    if shutil.which("nginx") is None:
        unavailable("nginx")
    cluster.migrate()
    api = cluster.start_apis(2)
    victim, survivor = cluster.start_workers(2, concurrency=2)
    nginx = cluster.start_nginx()
    backends = cluster.backends

    users = [f"user{n}" for n in range(USERS)]
    uploads = [
        Upload(
            n,
            "multipart" if n % 2 == 0 else "direct",
            users[n % USERS],
            jpeg_bytes(*SIZES[n % len(SIZES)], noise=n % 3 == 0),
        )
        for n in range(UPLOADS)
    ]
    assert len({u.sha256 for u in uploads}) == UPLOADS

    db = await asyncpg.create_pool(backends.asyncpg_url, min_size=1, max_size=3)
    limits = httpx.Limits(max_connections=CONCURRENCY + 4, max_keepalive_connections=CONCURRENCY)
    http = httpx.AsyncClient(
        base_url=nginx.url, timeout=60, limits=limits, verify=nginx.client_context()
    )
    chores: list[asyncio.Task[None]] = []
    try:
        client = Client(http)
        for user in users:
            await client.register(user)

        accepted = 0
        events: dict[str, Any] = {}

        async def upload_one(upload: Upload, slots: asyncio.Semaphore) -> None:
            nonlocal accepted
            async with slots:
                if upload.kind == "multipart":
                    upload.image_id = await client.upload_multipart(upload)
                else:
                    upload.image_id = await client.upload_direct(upload, backends.s3.url)
                accepted += 1

        async def enough_accepted() -> bool:
            return accepted >= RESTART_AFTER_ACCEPTED

        async def restart_an_api_node() -> None:
            await _wait_until(enough_accepted, 120, "uploads")
            events["restart at accepted"] = accepted
            started = time.monotonic()
            events["restart was graceful"] = await asyncio.to_thread(api[0].restart)
            events["restart seconds"] = time.monotonic() - started
            events["accepted when back"] = accepted

        async def kill_a_worker_mid_job() -> None:
            marker = f"%:{victim.pid}:%"

            async def victim_is_busy() -> bool:
                ready = await db.fetchval("select count(*) from images where status = 'ready'")
                held = await db.fetchval(
                    "select count(*) from jobs where state = 'running' and worker_id like $1",
                    marker,
                )
                return bool(ready >= KILL_AFTER_READY and held)

            await _wait_until(victim_is_busy, 120, "the worker to be busy")
            await asyncio.to_thread(victim.kill)
            rows = await db.fetch(
                "select image_id from jobs where state = 'running' and worker_id like $1", marker
            )
            events["jobs cut short"] = sorted(row["image_id"] for row in rows)
            events["ready at kill"] = await db.fetchval(
                "select count(*) from images where status = 'ready'"
            )

        async def all_ready() -> bool:
            counts = dict(await db.fetch("select status, count(*) from images group by status"))
            assert sum(counts.values()) <= UPLOADS, f"more images than uploads: {counts}"
            if counts.get("failed"):
                reasons = await db.fetch(
                    "select id, failure_reason from images where status='failed'"
                )
                raise AssertionError(f"images failed: {[tuple(r) for r in reasons]}")
            return bool(counts.get("ready") == UPLOADS)

        async def restart_the_broker() -> None:
            async def enough_ready() -> bool:
                ready = await db.fetchval("select count(*) from images where status = 'ready'")
                return bool(ready >= BROKER_RESTART_AFTER_READY)

            await _wait_until(enough_ready, 120, "images to be ready")
            assert backends.kafka is not None
            await asyncio.to_thread(backends.kafka.restart)
            events["ready at broker restart"] = await db.fetchval(
                "select count(*) from images where status = 'ready'"
            )

        slots = asyncio.Semaphore(CONCURRENCY)
        began = time.monotonic()
        chores += [
            asyncio.create_task(restart_an_api_node()),
            asyncio.create_task(kill_a_worker_mid_job()),
        ]
        if backends.kafka is not None:
            chores.append(asyncio.create_task(restart_the_broker()))
        await asyncio.gather(*(upload_one(u, slots) for u in uploads))
        uploaded = time.monotonic()
        await asyncio.gather(*chores)
        await _wait_until(all_ready, READY_DEADLINE_SECONDS, "every image to be ready")
        finished = time.monotonic()

        # The disruptions happened while there was work to disrupt.
        assert events["restart was graceful"]
        assert events["restart at accepted"] < UPLOADS
        assert events["jobs cut short"], "the worker finished its jobs before the kill"
        assert events["ready at kill"] < UPLOADS
        if backends.kafka is not None:
            assert events["ready at broker restart"] < UPLOADS
        assert survivor.running and not victim.running

        # Each upload is exactly one image, and the client was told its id.
        ids = {u.image_id: u for u in uploads}
        assert None not in ids and len(ids) == UPLOADS

        rows = await db.fetch(
            "select id, status, deleted_at, original_key, original_sha256, original_bytes "
            "from images"
        )
        assert {r["id"] for r in rows} == set(ids) and len(rows) == UPLOADS
        assert all(r["status"] == "ready" and r["deleted_at"] is None for r in rows)
        for row in rows:
            sent = ids[row["id"]]
            assert (row["original_sha256"], row["original_bytes"]) == (sent.sha256, len(sent.data))
        variants = await db.fetch("select image_id, name, format, key, sha256 from variants")
        # every size a picture of at most 1080 px needs (medium and thumb), in JPEG and WebP
        sizes = {len(variant_specs_for(max(size))) for size in SIZES}
        assert sizes == {2}
        assert len(variants) == UPLOADS * 2 * 2
        assert Counter(v["image_id"] for v in variants) == Counter(
            {image_id: 2 * 2 for image_id in ids}
        )
        assert await db.fetchval("select count(*) from jobs where kind != 'lifecycle_pass'") == 0
        assert await db.fetchval("select count(*) from idempotency_keys") == UPLOADS // 2
        completed = await db.fetch(
            "select image_id from direct_uploads where completed_at is not null"
        )
        assert sorted(r["image_id"] for r in completed) == sorted(
            u.image_id for u in uploads if u.kind == "direct"
        )

        # Listed once each, through nginx, page by page: the public feed and each profile.
        feed = await client.pages("/api/v1/feed")
        assert len(feed) == UPLOADS and set(feed) == set(ids)
        for user in users:
            own = await client.pages(f"/api/v1/users/{user}/images", user)
            assert len(own) == len(set(own)) == UPLOADS // USERS
            assert set(own) == {u.image_id for u in uploads if u.user == user}

        # Every image reads as ready through nginx, with its original's checksum.
        async def read(upload: Upload) -> None:
            async with slots:
                response = await client.send(
                    "read",
                    lambda: http.get(
                        f"/api/v1/images/{upload.image_id}", headers=client.auth(upload.user)
                    ),
                )
            body = response.json()
            assert body["status"] == "ready", body
            assert body["original"]["sha256"] == upload.sha256
            assert set(body["variants"]) == set(VARIANT_NAMES)

        await asyncio.gather(*(read(u) for u in uploads))

        # Delivery through nginx: a sample of variants, ETag = sha256 of the body.
        by_key = {(v["image_id"], v["name"], v["format"]): v["sha256"] for v in variants}
        for upload in uploads[::10]:
            image = (await http.get(f"/api/v1/images/{upload.image_id}")).json()
            seen: set[str] = set()
            for name, variant in image["variants"].items():
                if variant["url"] in seen:
                    continue  # a size the picture is too small for: a smaller one's URL
                seen.add(variant["url"])
                media = await client.send("media", lambda url=variant["url"]: http.get(url))
                assert media.status_code == 200
                digest = hashlib.sha256(media.content).hexdigest()
                assert digest == by_key[(upload.image_id, name, "jpeg")]  # Accept: */*
                assert media.headers["etag"] == f'"{digest}"'

        # The bucket holds exactly what the rows reference, with the recorded checksums.
        stored = await asyncio.to_thread(_bucket_objects, backends.s3, backends.bucket)
        expected = {r["original_key"]: r["original_sha256"] for r in rows}
        expected |= {v["key"]: v["sha256"] for v in variants}
        assert not [k for k in stored if k.startswith("incoming/")], "direct uploads left over"
        assert set(stored) - set(expected) == set(), "objects no row references"
        assert set(expected) - set(stored) == set(), "objects missing"
        assert stored == expected
        # And the scrub, which checks the same from the other side, finds nothing to say.
        await asyncio.to_thread(assert_scrub_clean, cluster.run_dir / "scrub", **backends.env())

        # Both API nodes served requests through nginx, the restarted one after its restart.
        log = nginx.access_log_entries()
        served = Counter(address for entry in log for address in entry["up"].split(", "))
        for node in api:
            assert served[f"127.0.0.1:{node.port}"] > 0, served
        after_restart = api[0].requests_since_start()
        assert after_restart > 0
        passed_on = sum(", " in entry["up"] for entry in log)  # nginx tried a second node
        statuses = Counter(entry["status"] for entry in log)
        print(
            f"\nscale-out: {UPLOADS} uploads ({UPLOADS // 2} multipart, {UPLOADS // 2} direct) "
            f"at concurrency {CONCURRENCY} in {uploaded - began:.1f} s "
            f"= {UPLOADS / (uploaded - began):.1f} uploads/s; all ready "
            f"{finished - began:.1f} s after the first upload\n"
            f"  API node restarted after {events['restart at accepted']} uploads, back after "
            f"{events['restart seconds']:.1f} s (at {events['accepted when back']} accepted)\n"
            f"  worker killed with {len(events['jobs cut short'])} jobs in flight "
            f"({events['ready at kill']} ready by then)\n"
            f"  client retries: {dict(client.retries) or 'none'}; replayed answers: "
            f"{client.replays}\n"
            f"  nginx: statuses {dict(statuses)}, requests per node {dict(served)}, "
            f"{passed_on} passed on to the other node; the restarted node answered "
            f"{after_restart} requests after its restart"
        )
        for failure in client.failures:
            print(f"  retried: {failure}")
    except BaseException:
        print(cluster.logs())  # shown with the failure
        raise
    finally:
        for chore in chores:
            chore.cancel()
        await asyncio.gather(*chores, return_exceptions=True)
        await http.aclose()
        await db.close()
