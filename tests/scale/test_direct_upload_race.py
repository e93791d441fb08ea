"""Completing one direct upload twice at the same moment, on two API nodes.

A client whose `complete` timed out retries it while the first is still being worked on
(completing downloads the whole object from the bucket to check it, which takes a while for a
large file); with several API nodes the two land on different nodes. The upload must still
become exactly one image, and both answers must name it (or the second say it is in
progress, 409).
"""

from __future__ import annotations

import asyncio

import asyncpg
import httpx2 as httpx
import pytest

from tests.imagegen import jpeg_bytes
from tests.support.cluster import Cluster

pytestmark = pytest.mark.e2e

PAIRS = 10
PASSWORD = "correct horse battery"


async def test_concurrent_completes_of_one_direct_upload_make_one_image(cluster: Cluster):
    cluster.migrate()
    first, second = cluster.start_apis(2)
    async with (
        httpx.AsyncClient(base_url=first.url, timeout=60) as one,
        httpx.AsyncClient(base_url=second.url, timeout=60) as other,
    ):
        created = await one.post("/api/v1/users", json={"username": "racer", "password": PASSWORD})
        assert created.status_code == 201, created.text
        token = await one.post(
            "/api/v1/auth/token", data={"username": "racer", "password": PASSWORD}
        )
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        answers: list[tuple[int, int, set[str]]] = []
        for _ in range(PAIRS):
            data = jpeg_bytes(1024, 768, noise=True)
            ticket = (
                await one.post(
                    "/api/v1/uploads",
                    headers=auth,
                    json={"filename": "a.jpg", "content_type": "image/jpeg", "size": len(data)},
                )
            ).json()
            put = await one.put(ticket["url"], content=data, headers=ticket["headers"])
            assert put.status_code == 200, put.text
            path = f"/api/v1/uploads/{ticket['id']}/complete"
            a, b = await asyncio.gather(
                one.post(path, headers=auth), other.post(path, headers=auth)
            )
            named = {r.json()["id"] for r in (a, b) if r.status_code in (200, 201)}
            answers.append((a.status_code, b.status_code, named))

    db = await asyncpg.connect(cluster.backends.asyncpg_url)
    try:
        images = await db.fetchval("select count(*) from images")
    finally:
        await db.close()
    assert images == PAIRS, f"{images} images from {PAIRS} uploads; answers: {answers}"
    for a_status, b_status, named in answers:
        assert {a_status, b_status} <= {200, 201, 409}, answers
        assert len(named) == 1, answers
