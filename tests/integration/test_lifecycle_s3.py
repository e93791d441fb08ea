"""Lifecycle on S3 (the S3-compatible test endpoint): the bucket lifecycle configuration
`shutterbox lifecycle apply` writes, read back; objects written and moved with a storage
class report it; the lifecycle pass learns of moves S3 made itself; archived originals are
restored through S3's own restore."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shutterbox import clock
from shutterbox.config import Settings
from shutterbox.entrypoints.cli import app as cli
from shutterbox.entrypoints.http.app import create_app
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.services.storage import lifecycle
from tests.conftest import make_settings, register, upload, wait_for_status
from tests.imagegen import jpeg_bytes
from tests.servers import S3Endpoint


@pytest.fixture
def bucket(s3_endpoint: S3Endpoint) -> str:
    return s3_endpoint.create_bucket()


@pytest.fixture
def s3(s3_endpoint: S3Endpoint) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="shutterbox-test",
        aws_secret_access_key="shutterbox-test-secret",
    )


@pytest.fixture
def settings(tmp_path: Path, bucket: str) -> Settings:
    return make_settings(
        tmp_path / "data",
        storage_url=f"s3://{bucket}/photos",
        original_transitions="STANDARD_IA:30,GLACIER:90",
        token_ttl_days=365,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def run_lifecycle(client: TestClient) -> lifecycle.LifecycleReport:
    services = app_state(client.app).services
    assert client.portal is not None
    return client.portal.call(lifecycle.run_lifecycle, services)


def object_class(s3: Any, bucket: str, key: str) -> str:
    return s3.head_object(Bucket=bucket, Key=key).get("StorageClass", "STANDARD")


def test_lifecycle_apply_writes_the_rules_onto_the_bucket(
    settings: Settings, bucket: str, s3: Any, monkeypatch: pytest.MonkeyPatch
):
    foreign = {
        "ID": "logs-expire",
        "Filter": {"Prefix": "logs/"},
        "Status": "Enabled",
        "Expiration": {"Days": 14},
    }
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [foreign]}
    )
    for name, value in {
        "SHUTTERBOX_DATA_DIR": str(settings.data_dir),
        "SHUTTERBOX_STORAGE_URL": settings.storage_url,
        "SHUTTERBOX_ORIGINAL_TRANSITIONS": settings.original_transitions,
    }.items():
        monkeypatch.setenv(name, str(value))

    dry = CliRunner().invoke(cli, ["lifecycle", "apply", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"] == [foreign]

    result = CliRunner().invoke(cli, ["lifecycle", "apply"])
    assert result.exit_code == 0, result.output
    rules = {r["ID"]: r for r in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}
    assert json.loads(result.output)["Rules"] == list(rules.values())
    assert rules["logs-expire"] == foreign  # others' rules are kept
    originals = rules["shutterbox-photos-originals"]
    assert originals["Filter"] == {"Prefix": "photos/originals/"}
    assert originals["Status"] == "Enabled"
    assert originals["Transitions"] == [
        {"Days": 30, "StorageClass": "STANDARD_IA"},
        {"Days": 90, "StorageClass": "GLACIER"},
    ]
    incoming = rules["shutterbox-photos-incoming"]
    assert incoming["Filter"] == {"Prefix": "photos/incoming/"}
    assert incoming["Expiration"] == {"Days": 2}  # 15 minutes to upload + a day of grace
    assert rules["shutterbox-photos-multipart"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 1
    }

    again = CliRunner().invoke(cli, ["lifecycle", "apply"])  # idempotent
    assert again.exit_code == 0
    assert len(s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]) == 4


def test_lifecycle_apply_refuses_a_store_without_bucket_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SHUTTERBOX_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(cli, ["lifecycle", "apply"])
    assert result.exit_code == 2
    assert "lifecycle run" in result.output


def test_originals_move_on_s3_and_the_database_learns_of_moves_s3_made(
    client: TestClient, bucket: str, s3: Any
):
    auth = register(client, "alice")
    first = wait_for_status(client, upload(client, auth, jpeg_bytes()).json()["id"], auth)
    second = wait_for_status(client, upload(client, auth, jpeg_bytes()).json()["id"], auth)
    keys = {}
    for image in (first, second):
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="photos/originals/")["Contents"]
        keys[image["id"]] = next(o["Key"] for o in listed if image["id"] in o["Key"])
        assert object_class(s3, bucket, keys[image["id"]]) == "STANDARD"

    # S3's own rule moved the first original already (as a bucket lifecycle rule does).
    s3.copy_object(
        Bucket=bucket,
        Key=keys[first["id"]],
        CopySource={"Bucket": bucket, "Key": keys[first["id"]]},
        StorageClass="GLACIER",
        MetadataDirective="COPY",
    )
    with clock.travel(timedelta(days=91)):
        report = run_lifecycle(client)
    assert report.observed == {"GLACIER": 1}  # learned, not copied again
    assert report.transitioned == {"GLACIER": 1}  # the second, moved by the pass itself
    assert report.problems == []
    for image in (first, second):
        assert object_class(s3, bucket, keys[image["id"]]) == "GLACIER"
        body = client.get(f"/api/v1/images/{image['id']}", headers=auth).json()
        assert body["original"]["storage_class"] == "GLACIER"
        assert body["original"]["downloadable"] is False
        for variant in body["variants"].values():
            assert client.get(variant["url"]).status_code == 200  # variants stay hot


def test_an_archived_original_is_restored_through_s3(client: TestClient, bucket: str, s3: Any):
    auth = register(client, "alice")
    data = jpeg_bytes(800, 600)
    image = wait_for_status(client, upload(client, auth, data).json()["id"], auth)
    with clock.travel(timedelta(days=91)):
        assert run_lifecycle(client).transitioned == {"GLACIER": 1}
    # Back to the real time S3 keeps: its restored copy expires days from now.
    answer = client.get(image["original"]["url"], headers=auth)
    assert answer.status_code == 202, answer.text
    deadline = time.monotonic() + 15
    while True:
        body = client.get(f"/api/v1/images/{image['id']}", headers=auth).json()
        if body["original"]["downloadable"]:
            break
        assert time.monotonic() < deadline, "the restore did not finish"
        time.sleep(0.2)
    assert body["original"]["restored_until"] is not None  # S3's expiry date
    restored = client.get(image["original"]["url"], headers=auth)
    assert restored.status_code == 200 and restored.content == data
