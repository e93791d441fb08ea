"""boto3 for what obstore does not speak: the control-plane calls on an S3 bucket (storage
classes, restores, lifecycle rules, multipart uploads). Credentials, region and endpoint come
from the same standard AWS_* variables obstore reads."""

from __future__ import annotations

import os
from functools import cached_property
from typing import Any
from urllib.parse import urlparse

import anyio

from shutterbox.adapters.blobs.deadlines import StoreDeadlines


class S3Control:
    """The bucket and key prefix of an ``s3://bucket[/prefix]`` URL, and a boto3 client."""

    def __init__(self, url: str, deadlines: StoreDeadlines | None = None) -> None:
        self.deadlines = deadlines or StoreDeadlines()
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
        return await anyio.to_thread.run_sync(lambda: method(**params))
