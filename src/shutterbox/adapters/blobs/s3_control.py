"""boto3 for what obstore does not speak: the control-plane calls on an S3 bucket (storage
classes, restores, lifecycle rules, multipart uploads). Credentials, region and endpoint come
from the same standard AWS_* variables obstore reads.

A call the endpoint did not answer (refused or cut connection, deadline passed) or answered
with a server error (5xx) raises ``Unavailable``: the request that needed it is answered 503
with Retry-After, never 500. Such failures count against the store's circuit breaker, the
same one as its data-plane calls (it is the same endpoint), and an open breaker refuses a
call at once."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar
from urllib.parse import urlparse

import anyio

from shutterbox.adapters.blobs.deadlines import StoreDeadlines
from shutterbox.domain.errors import Unavailable
from shutterbox.domain.resilience import CircuitBreaker, guarded, is_unavailable

T = TypeVar("T")

UNREACHABLE = "temporarily unavailable: the storage cannot be reached; try again shortly"


class S3Control:
    """The bucket and key prefix of an ``s3://bucket[/prefix]`` URL, and a boto3 client."""

    def __init__(
        self,
        url: str,
        deadlines: StoreDeadlines | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.deadlines = deadlines or StoreDeadlines()
        self.breaker = breaker
        parsed = urlparse(url)
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")

    @cached_property
    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT"),
            region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
            # Signature version 4: a presigned URL can then bind headers such as the length.
            config=Config(signature_version="s3v4", **self.deadlines.boto_config()),
        )

    def object_key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    async def _call(self, operation: str, **params: Any) -> Any:
        method = getattr(self.client, operation)
        return await self._run(lambda: method(**params))

    async def _run(self, calls: Callable[[], T]) -> T:
        """``calls`` (a function making boto3 calls) in a thread, as one call to the store."""
        with guarded(self.breaker, is_unavailable):
            try:
                return await anyio.to_thread.run_sync(calls)
            except Exception as error:
                if is_outage(error):
                    raise Unavailable(UNREACHABLE) from error
                raise


def is_outage(error: BaseException) -> bool:
    """Whether boto3's ``error`` says the endpoint did not answer, or failed (a 5xx), rather
    than refused the call (a missing key, an object in the wrong state, a bad request)."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(error, ConnectionError | HTTPClientError):
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return int(status) >= 500
    return False
