"""The S3 control-plane calls (boto3): an endpoint that does not answer, or answers with a
server error, is ``Unavailable`` (a 503, never a 500) and counts against the store's breaker;
a refusal (a missing key, a bad request) stays what it is and counts as an answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from shutterbox.adapters.blobs import S3MultipartUploads, S3StorageTiers
from shutterbox.domain.errors import Unavailable
from shutterbox.domain.resilience import BreakerState, CircuitBreaker, DependencyDown
from shutterbox.domain.storage import StorageClass


def _client_error(status: int, code: str) -> ClientError:
    response: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "CreateMultipartUpload")


class FailingClient:
    """A boto3 client whose every call raises the next of ``errors``."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __getattr__(self, operation: str) -> Any:
        def call(**_params: Any) -> Any:
            self.calls += 1
            raise self.errors.pop(0)

        return call


def _uploads(client: FailingClient, breaker: CircuitBreaker | None) -> S3MultipartUploads:
    uploads = S3MultipartUploads("s3://bucket/prefix", breaker=breaker)
    uploads.__dict__["client"] = client  # in place of the cached boto3 client
    return uploads


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:9"),
        _client_error(503, "SlowDown"),
        _client_error(500, "InternalError"),
    ],
)
async def test_an_endpoint_that_does_not_answer_or_fails_is_unavailable(error: Exception):
    uploads = _uploads(FailingClient(error), breaker=None)
    with pytest.raises(Unavailable, match="storage cannot be reached") as raised:
        await uploads.start("originals/a.jpg", "image/jpeg")
    assert raised.value.__cause__ is error


async def test_a_refusal_is_left_as_it_is():
    refusal = _client_error(403, "AccessDenied")
    uploads = _uploads(FailingClient(refusal), breaker=None)
    with pytest.raises(ClientError) as raised:
        await uploads.start("originals/a.jpg", "image/jpeg")
    assert raised.value is refusal


async def test_outages_open_the_store_breaker_and_then_no_call_is_made():
    breaker = CircuitBreaker("store", failures=2, cooldown_seconds=60)
    down = [EndpointConnectionError(endpoint_url="http://127.0.0.1:9") for _ in range(2)]
    client = FailingClient(_client_error(404, "NoSuchUpload"), *down)
    uploads = _uploads(client, breaker)
    with pytest.raises(ClientError):
        await uploads.start("originals/a.jpg", "image/jpeg")
    assert breaker.state == BreakerState.CLOSED  # an answer, not a failure
    for _ in range(2):
        with pytest.raises(Unavailable):
            await uploads.start("originals/a.jpg", "image/jpeg")
    assert breaker.state == BreakerState.OPEN
    with pytest.raises(DependencyDown):
        await uploads.parts("originals/a.jpg", "upload-1")
    assert client.calls == 3


async def test_a_put_in_a_class_goes_through_the_breaker_too(tmp_path: Path):
    breaker = CircuitBreaker("store", failures=1, cooldown_seconds=60)
    tiers = S3StorageTiers("s3://bucket", breaker=breaker)
    tiers.__dict__["client"] = FailingClient(_client_error(502, "BadGateway"))
    path = tmp_path / "blob"
    path.write_bytes(b"bytes")
    with pytest.raises(Unavailable):
        await tiers.put_file_in_class("originals/a.jpg", path, StorageClass.STANDARD_IA)
    assert breaker.state == BreakerState.OPEN
    assert not path.exists()  # consumed, as a put's file always is
