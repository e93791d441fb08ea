"""The ports: the axes with more than one real implementation (blob stores, job queues).

Each port is a ``typing.Protocol`` in a module of its own; this package re-exports them.
"""

from shutterbox.ports.blobs import (
    BlobArchived,
    BlobInfo,
    BlobStore,
    RestoreStatus,
    StorageTiers,
    TemporaryFileHolder,
)
from shutterbox.ports.jobs import Job, JobQueue

__all__ = [
    "BlobArchived",
    "BlobInfo",
    "BlobStore",
    "Job",
    "JobQueue",
    "RestoreStatus",
    "StorageTiers",
    "TemporaryFileHolder",
]
