"""The API against its own OpenAPI document: generated requests (valid and not) to every
operation, in process. No answer may be a 5xx, and every answer must be one the document
declares, with a body of the declared shape.

Bounded: a few dozen examples per operation, no deadline per example, one in-process app
without background workers. The live event stream (``/api/v1/events``) is left out: it is a
stream that ends only when the client goes, and its answers are checked in tests/api.
Revoking the bearer token in use (``DELETE /api/v1/auth/token``) is left out too: every
later call would only be a 401.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from shutterbox.config import Settings
from shutterbox.entrypoints.http.app import create_app
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload
from tests.support.settings import make_settings

MAX_EXAMPLES = 25


@pytest.fixture(scope="module")
def fuzz_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir: Path = tmp_path_factory.mktemp("fuzz") / "data"
    return make_settings(data_dir, workers=0, upload_rate="", login_rate="")


@pytest.fixture(scope="module")
def auth(fuzz_settings: Settings) -> dict[str, str]:
    """A registered user's bearer token, and one image of theirs for the reads to find."""
    with TestClient(create_app(fuzz_settings)) as client:
        headers = register(client, "fuzzer")
        assert upload(client, headers, jpeg_bytes(64, 48)).status_code == 201
    return headers


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation fuzzed; building the app touches no data."""
    document = create_app(Settings(data_dir=Path("unused"))).openapi()
    return [
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if path not in SKIPPED_PATHS and (method.upper(), path) not in SKIPPED
    ]


SKIPPED_PATHS = {"/api/v1/events"}
SKIPPED = {("DELETE", "/api/v1/auth/token")}
# Known, not yet fixed: timestamps are naive UTC in the database and are answered without
# an offset ("2026-01-02T03:04:05"), which is not an RFC 3339 date-time as the document
# declares (and which browsers read as local time). These operations are expected to fail
# the schema check until the response models serialise timestamps with "Z".
OPERATIONS = [pytest.param(method, path, id=f"{method} {path}") for method, path in _operations()]


@pytest.fixture(scope="module")
def api_schema(fuzz_settings: Settings, auth: dict[str, str]) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(fuzz_settings))


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_operation_conforms_to_the_openapi_document(
    api_schema: Any, auth: dict[str, str], method: str, path: str
) -> None:
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: Any) -> None:
        case.call_and_validate(
            headers=auth, checks=[not_a_server_error, response_schema_conformance]
        )

    check()
