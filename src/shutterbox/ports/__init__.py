"""The ports: the axes with more than one real implementation (blob stores, job stores and
their deliveries).

Each port is a ``typing.Protocol`` in a module of its own; this package re-exports them.
"""

from shutterbox.ports.blobs import (
    BlobArchived,
    BlobInfo,
    BlobStore,
    MultipartUploads,
    RestoreStatus,
    StorageTiers,
    TemporaryFileHolder,
    UploadedPart,
)
from shutterbox.ports.jobs import Job, JobDelivery, JobQueue, JobStore

__all__ = [
    "BlobArchived",
    "BlobInfo",
    "BlobStore",
    "Job",
    "JobDelivery",
    "JobQueue",
    "JobStore",
    "MultipartUploads",
    "RestoreStatus",
    "StorageTiers",
    "TemporaryFileHolder",
    "UploadedPart",
]
