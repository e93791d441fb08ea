"""The MultipartUploads port against its adapter, on a real S3 protocol (moto's server)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx2

from shutterbox.adapters.blobs import S3MultipartUploads, open_blob_store
from tests.support.servers import S3Endpoint

PART = 5 * 1024 * 1024


async def test_start_send_list_complete_and_abort(s3_endpoint: S3Endpoint):
    bucket = s3_endpoint.create_bucket()
    uploads = S3MultipartUploads(f"s3://{bucket}/prefix")
    store = open_blob_store(f"s3://{bucket}/prefix")
    data = bytes(range(256)) * (PART // 256) + b"tail"
    upload_id = await uploads.start("incoming/x", "image/png")
    sizes = {1: PART, 2: 4}
    urls = await uploads.part_urls("incoming/x", upload_id, sizes, timedelta(minutes=5))
    assert await uploads.parts("incoming/x", upload_id) == []
    for url in urls.values():  # each URL is good for a part of its size only
        signed = parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0].split(";")
        assert "content-length" in signed
    for number, chunk in ((1, data[:PART]), (2, data[PART:])):
        assert httpx2.put(urls[number], content=chunk).status_code == 200
    parts = await uploads.parts("incoming/x", upload_id)
    assert [(p.number, p.size) for p in parts] == [(1, PART), (2, 4)]
    await uploads.complete("incoming/x", upload_id, parts)
    assert await store.get_bytes("incoming/x") == data
    await uploads.abort("incoming/x", upload_id)  # completed already: nothing to abort

    dropped = await uploads.start("incoming/y", "image/png")
    await uploads.abort("incoming/y", dropped)
    listed = s3_endpoint.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert listed == []
