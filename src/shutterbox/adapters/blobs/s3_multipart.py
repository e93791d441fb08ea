"""S3 multipart uploads a client sends straight to the bucket: started here, each part PUT by
the client to its own presigned URL, listed to resume, and completed (or aborted) here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from shutterbox.adapters.blobs.s3_control import S3Control
from shutterbox.ports import UploadedPart


class S3MultipartUploads(S3Control):
    def __repr__(self) -> str:
        return f"S3MultipartUploads(s3://{self.bucket}/{self.prefix})"

    async def start(self, key: str, content_type: str) -> str:
        answer = await self._call(
            "create_multipart_upload",
            Bucket=self.bucket,
            Key=self.object_key(key),
            ContentType=content_type,
        )
        return str(answer["UploadId"])

    async def part_urls(
        self, key: str, upload_id: str, sizes: Mapping[int, int], expires_in: timedelta
    ) -> dict[int, str]:
        def sign(number: int, size: int) -> str:
            url: str = self.client.generate_presigned_url(
                "upload_part",
                Params={
                    "Bucket": self.bucket,
                    "Key": self.object_key(key),
                    "UploadId": upload_id,
                    "PartNumber": number,
                    "ContentLength": size,  # signed: a part of another size is refused
                },
                ExpiresIn=int(expires_in.total_seconds()),
            )
            return url

        return {n: sign(n, size) for n, size in sizes.items()}  # signing is local: no request

    async def parts(self, key: str, upload_id: str) -> list[UploadedPart]:
        found: list[UploadedPart] = []
        marker = 0
        while True:
            answer = await self._call(
                "list_parts",
                Bucket=self.bucket,
                Key=self.object_key(key),
                UploadId=upload_id,
                PartNumberMarker=marker,
            )
            for part in answer.get("Parts", []):
                found.append(UploadedPart(part["PartNumber"], part["Size"], part["ETag"]))
            if not answer.get("IsTruncated"):
                return found
            marker = int(answer["NextPartNumberMarker"])

    async def complete(self, key: str, upload_id: str, parts: Sequence[UploadedPart]) -> None:
        await self._call(
            "complete_multipart_upload",
            Bucket=self.bucket,
            Key=self.object_key(key),
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": p.number, "ETag": p.etag} for p in parts]},
        )

    async def abort(self, key: str, upload_id: str) -> None:
        from botocore.exceptions import ClientError

        try:
            await self._call(
                "abort_multipart_upload",
                Bucket=self.bucket,
                Key=self.object_key(key),
                UploadId=upload_id,
            )
        except ClientError as exc:  # already completed or aborted: nothing left to abort
            if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                raise
