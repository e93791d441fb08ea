"""In-memory fakes of the ports, for running the services without a database or a sandbox."""

from tests.support.fakes.metadata import FakeMetadata

__all__ = ["FakeMetadata"]
