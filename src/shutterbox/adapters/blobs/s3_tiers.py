"""Storage classes on S3 itself: the objects' real classes, restores and bucket lifecycle rules.

obstore moves the bytes; these few control-plane calls (an object's class, a copy into
another class, a restore request, the bucket's lifecycle configuration) go through boto3,
which speaks every one of them. Credentials, region and endpoint come from the same
standard AWS_* variables obstore reads.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from shutterbox.adapters.blobs.s3_control import S3Control
from shutterbox.domain.storage import StorageClass
from shutterbox.ports import BlobArchived, RestoreStatus

_EXPIRY = re.compile(r'expiry-date="([^"]+)"')


class S3StorageTiers(S3Control):
    def __repr__(self) -> str:
        return f"S3StorageTiers(s3://{self.bucket}/{self.prefix})"

    async def _head(self, key: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        try:
            head: dict[str, Any] = await self._call(
                "head_object", Bucket=self.bucket, Key=self.object_key(key)
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return head

    async def storage_class(self, key: str) -> StorageClass | None:
        head = await self._head(key)
        if head is None:
            return None
        # S3 leaves the header out for STANDARD objects.
        return StorageClass(head.get("StorageClass") or StorageClass.STANDARD)

    async def put_file_in_class(self, key: str, path: Path, storage_class: StorageClass) -> None:
        def put() -> None:
            with open(path, "rb") as body:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=self.object_key(key),
                    Body=body,
                    StorageClass=storage_class.value,
                )

        try:
            await self._run(put)
        finally:
            path.unlink(missing_ok=True)

    async def transition(self, key: str, storage_class: StorageClass) -> None:
        current = await self.storage_class(key)
        if current is None:
            raise KeyError(key)
        if current == storage_class:
            return
        if current.is_archive and not (await self.restore_status(key)).readable:
            raise BlobArchived(key)
        object_key = self.object_key(key)
        await self._call(
            "copy_object",
            Bucket=self.bucket,
            Key=object_key,
            CopySource={"Bucket": self.bucket, "Key": object_key},
            StorageClass=storage_class.value,
            MetadataDirective="COPY",
        )

    async def restore(self, key: str, days: int) -> None:
        from botocore.exceptions import ClientError

        try:
            await self._call(
                "restore_object",
                Bucket=self.bucket,
                Key=self.object_key(key),
                RestoreRequest={"Days": days, "GlacierJobParameters": {"Tier": "Standard"}},
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "RestoreAlreadyInProgress":
                return
            if code in ("404", "NoSuchKey"):
                raise KeyError(key) from exc
            raise

    async def restore_status(self, key: str) -> RestoreStatus:
        head = await self._head(key)
        if head is None:
            raise KeyError(key)
        if not StorageClass(head.get("StorageClass") or "STANDARD").is_archive:
            return RestoreStatus(in_progress=False, readable=True, expires_at=None)
        restore = head.get("Restore") or ""
        if 'ongoing-request="true"' in restore:
            return RestoreStatus(in_progress=True, readable=False, expires_at=None)
        match = _EXPIRY.search(restore)
        if match is None:
            return RestoreStatus(in_progress=False, readable=False, expires_at=None)
        return RestoreStatus(
            in_progress=False, readable=True, expires_at=_naive_utc(match.group(1))
        )

    async def end_restore(self, key: str) -> None:
        """S3 removes a restored copy by itself when its days are up."""

    # Bucket lifecycle configuration (what `shutterbox lifecycle apply` writes).

    async def put_lifecycle(self, rules: list[dict[str, Any]]) -> None:
        await self._call(
            "put_bucket_lifecycle_configuration",
            Bucket=self.bucket,
            LifecycleConfiguration={"Rules": rules},
        )

    async def get_lifecycle(self) -> list[dict[str, Any]]:
        from botocore.exceptions import ClientError

        try:
            answer = await self._call("get_bucket_lifecycle_configuration", Bucket=self.bucket)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchLifecycleConfiguration":
                return []
            raise
        rules: list[dict[str, Any]] = answer.get("Rules", [])
        return rules


def _naive_utc(http_date: str) -> datetime:
    moment = parsedate_to_datetime(http_date)
    if moment.tzinfo is None:  # an HTTP date is always GMT
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
