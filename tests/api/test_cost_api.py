"""The cost estimate and the live bill over HTTP, and `shutterbox cost --json`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from shutterbox.domain.cost import EstimateInputs, estimate
from shutterbox.domain.storage import StorageClass
from shutterbox.entrypoints.api.routers.cost import estimate_body
from shutterbox.entrypoints.cli import app as cli
from shutterbox.entrypoints.http.app import create_app
from shutterbox.entrypoints.http.lifespan import app_state
from shutterbox.services.billing.costs import load_price_sheet
from shutterbox.services.people import accounts
from tests.imagegen import jpeg_bytes
from tests.support.clients import register, upload, wait_for_status
from tests.support.settings import make_settings

PACKAGED = Path(__file__).resolve().parents[2] / "src" / "shutterbox" / "pricing" / "prices.toml"


def make_admin(client: TestClient, username: str = "boss") -> dict[str, str]:
    services = app_state(client.app).services
    assert client.portal is not None
    client.portal.call(
        partial(accounts.register, services.metadata, username, "correct horse", is_admin=True)
    )
    response = client.post(
        "/api/v1/auth/token", data={"username": username, "password": "correct horse"}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def model_json(inputs: EstimateInputs) -> dict[str, Any]:
    sheet = load_price_sheet()
    return estimate_body(estimate(inputs, sheet), sheet).model_dump(mode="json")


# -- the estimate ------------------------------------------------------------------------------


def test_the_estimate_with_the_seeds_defaults(client: TestClient):
    response = client.get("/api/v1/cost/estimate")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == model_json(EstimateInputs())
    for key in (
        "inputs",
        "per_upload_mb",
        "stored_tb",
        "egress_tb",
        "storage_usd",
        "egress_usd",
        "sql_usd",
        "total_usd",
        "storage_by_class",
        "egress_by_path",
        "months",
        "verdict",
        "advice",
        "price_sheet",
    ):
        assert key in body, key
    assert body["inputs"]["variants"] == ["thumb", "medium", "full"]
    assert body["total_usd"] == pytest.approx(414, rel=0.01)
    assert set(body["egress_by_path"]) == {"cdn_to_viewers", "origin_to_cdn", "origin_to_viewers"}
    assert set(body["months"][0]) == {
        "month",
        "stored_tb",
        "storage_usd",
        "egress_usd",
        "sql_usd",
        "total_usd",
    }
    assert len(body["months"]) == 12
    price = body["price_sheet"]["prices"][0]
    assert set(price) == {"key", "label", "usd", "unit", "source"}
    assert body["price_sheet"]["currency"] == "USD"


def test_the_estimate_follows_its_inputs(client: TestClient):
    params = {
        "daily_uploads": 2500,
        "variants": "thumb,full",
        "originals_class": "deep_archive",
        "cdn": "false",
        "cdn_hit_rate": 0.9,
        "views_per_upload": 3,
        "view_kb": 120,
    }
    body = client.get("/api/v1/cost/estimate", params=params).json()
    expected = EstimateInputs(
        daily_uploads=2500,
        variants=("thumb", "full"),
        originals_class=StorageClass.DEEP_ARCHIVE,
        cdn=False,
        cdn_hit_rate=0.9,
        views_per_upload=3,
        view_kb=120,
    )
    assert body == model_json(expected)
    assert body["inputs"]["originals_class"] == "DEEP_ARCHIVE"
    assert body["egress_tb"] == pytest.approx(2500 * 3 * 120e3 * 30 / 1e12)
    assert body["verdict"] == (
        "Three variants (original, thumb, full) · Originals in Glacier Deep Archive · No CDN"
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"variants": "thumb,huge"}, "unknown variant 'huge'"),
        ({"originals_class": "COLD"}, "unknown storage class 'COLD'"),
        ({"daily_uploads": -1}, "daily_uploads"),
        ({"cdn_hit_rate": 1.5}, "cdn_hit_rate"),
        ({"view_kb": -5}, "view_kb"),
        ({"daily_uploads": "lots"}, "daily_uploads"),
    ],
)
def test_bad_estimate_inputs_answer_422(client: TestClient, params, message):
    response = client.get("/api/v1/cost/estimate", params=params)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert response.json()["code"] == "invalid_input"


def test_the_endpoints_are_in_the_openapi_document(client: TestClient):
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/v1/cost/estimate" in paths
    assert "/api/v1/admin/bill" in paths
    assert "/api/v1/admin/egress" in paths
    schema = paths["/api/v1/cost/estimate"]["get"]["responses"]["200"]["content"]
    assert schema["application/json"]["schema"]["$ref"].endswith("/EstimateOut")


@pytest.fixture
def custom_sheet(tmp_path: Path) -> Path:
    text = PACKAGED.read_text()
    start = text.index("[prices.storage_standard]")
    at = text.index("value = ", start)
    text = text[:at] + "value = 0.0115" + text[text.index("\n", at) :]
    text = text.replace('name = "AWS us-east-1', 'name = "Half-price storage; AWS us-east-1')
    path = tmp_path / "prices.toml"
    path.write_text(text)
    return path


def test_a_price_sheet_setting_changes_the_estimate(tmp_path: Path, custom_sheet: Path):
    settings = make_settings(tmp_path / "data", price_sheet_path=custom_sheet, workers=0)
    with TestClient(create_app(settings)) as client:
        body = client.get("/api/v1/cost/estimate").json()
        assert body["price_sheet"]["name"].startswith("Half-price storage")
        assert body["storage_usd"] == pytest.approx(293.25 / 2)
        assert body["egress_usd"] == pytest.approx(75.75)
        custom_sheet.write_text("broken = [")
        response = client.get("/api/v1/cost/estimate")
        assert response.status_code == 503
        assert response.json()["code"] == "price_sheet_invalid"
        assert "TOML" in response.json()["detail"]


# -- the CLI -----------------------------------------------------------------------------------


def test_the_cli_prints_the_same_json_as_the_api(client: TestClient, tmp_path: Path):
    args = [
        "cost",
        "--daily-uploads",
        "40000",
        "--variants",
        "medium,thumb",
        "--originals-class",
        "GLACIER",
        "--no-cdn",
        "--hit-rate",
        "0.8",
        "--views-per-upload",
        "6",
        "--view-kb",
        "300",
        "--json",
    ]
    env = {"SHUTTERBOX_DATA_DIR": str(tmp_path / "cli"), "SHUTTERBOX_PRICE_SHEET_PATH": None}
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 0, result.output
    api = client.get(
        "/api/v1/cost/estimate",
        params={
            "daily_uploads": 40000,
            "variants": "medium,thumb",
            "originals_class": "GLACIER",
            "cdn": "false",
            "cdn_hit_rate": 0.8,
            "views_per_upload": 6,
            "view_kb": 300,
        },
    ).json()
    assert json.loads(result.stdout) == api
    assert api["inputs"]["variants"] == ["thumb", "medium"]


def test_the_cli_table_and_its_refusals(tmp_path: Path):
    env = {"SHUTTERBOX_DATA_DIR": str(tmp_path / "cli"), "SHUTTERBOX_PRICE_SHEET_PATH": None}
    result = CliRunner().invoke(cli, ["cost"], env=env)
    assert result.exit_code == 0, result.output
    for text in ("4.25 MB", "12.75 TB", "7.50 TB", "$293.25", "$75.75", "$45.17", "$414.17"):
        assert text in result.stdout, text
    assert "All four variants · Standard storage · CDN enabled" in result.stdout
    result = CliRunner().invoke(cli, ["cost", "--variants", "thumb,poster"], env=env)
    assert result.exit_code == 2
    assert "unknown variant 'poster'" in result.output


# -- the live bill -----------------------------------------------------------------------------


def test_only_admins_see_the_bill(client: TestClient):
    assert client.get("/api/v1/admin/bill").status_code == 401
    alice = register(client, "alice")
    response = client.get("/api/v1/admin/bill", headers=alice)
    assert response.status_code == 403
    assert "admin" in response.json()["detail"]
    report = {"bytes": 10, "requests": 1}
    assert client.post("/api/v1/admin/egress", json=report).status_code == 401
    assert client.post("/api/v1/admin/egress", json=report, headers=alice).status_code == 403
    boss = make_admin(client)
    response = client.get("/api/v1/admin/bill", headers=boss)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stored"] == [] and body["trash_bytes"] == 0
    assert body["database"] == "sqlite"
    assert body["monthly_usd"]["sql"] == 0 and "SQLite" in body["sql_note"]
    assert body["cdn"] is False
    assert body["egress"]["edge_reported"] is False


def _groups(bill: dict[str, Any]) -> dict[tuple[str, ...], dict[str, Any]]:
    return {
        (g["kind"], g.get("name", ""), g.get("format", ""), g["storage_class"]): g
        for g in bill["stored"]
    }


@pytest.fixture
def trash_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path / "trash-data", trash_retention_days=30)
    with TestClient(create_app(settings)) as client:
        yield client


def test_the_bill_counts_stored_bytes_and_trash(trash_client: TestClient):
    client = trash_client
    alice = register(client, "alice")
    boss = make_admin(client)
    images = []
    for data in (jpeg_bytes(800, 600), jpeg_bytes(700, 500, noise=True)):
        image = wait_for_status(client, upload(client, alice, data).json()["id"], alice)
        assert image["status"] == "ready", image
        assert image["original"]["bytes"] == len(data)
        images.append(image)
    # the size of every stored variant file, in every format, as served; a size the picture
    # is too small for is answered by a smaller one's URL (stored once, counted once)
    sizes: dict[tuple[str, str], list[int]] = {}
    for image in images:
        seen: set[str] = set()
        for name, variant in image["variants"].items():
            for fmt, url in variant["formats"].items():
                if url not in seen:
                    seen.add(url)
                    sizes.setdefault((name, fmt), []).append(len(client.get(url).content))
    assert {name for name, _ in sizes} == {"thumb", "medium"}  # no "full" of an 800 px photo

    bill = client.get("/api/v1/admin/bill", headers=boss).json()
    groups = _groups(bill)
    original = groups[("original", "", "", "STANDARD")]
    assert original["objects"] == 2
    assert original["bytes"] == sum(i["original"]["bytes"] for i in images)
    assert "name" not in original and "format" not in original
    for (name, fmt), lengths in sizes.items():
        group = groups[("variant", name, fmt, "STANDARD")]
        assert group["objects"] == 2, (name, fmt)
        assert group["bytes"] == sum(lengths), (name, fmt)
    assert len(groups) == 1 + len(sizes)
    total = original["bytes"] + sum(sum(lengths) for lengths in sizes.values())
    assert bill["stored_bytes_by_class"] == {"STANDARD": total}
    assert bill["uploads_per_day"] == pytest.approx(2.0)
    assert bill["monthly_usd"]["storage"] == pytest.approx(total / 1e9 * 0.023)
    assert bill["monthly_usd"]["total"] == pytest.approx(
        sum(bill["monthly_usd"][k] for k in ("storage", "egress", "sql"))
    )

    gone = images[1]
    assert client.delete(f"/api/v1/images/{gone['id']}", headers=alice).status_code == 204
    after = client.get("/api/v1/admin/bill", headers=boss).json()
    gone_bytes = gone["original"]["bytes"] + sum(lengths[1] for lengths in sizes.values())
    assert after["stored_bytes_by_class"] == {"STANDARD": total}  # the trash is still stored
    assert after["trash_bytes"] == gone_bytes


@pytest.fixture
def cdn_client(tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path / "cdn-data", cdn_base_url="https://cdn.example.com")
    with TestClient(create_app(settings)) as client:
        yield client


def test_egress_is_measured_by_the_origin(client: TestClient):
    alice = register(client, "alice")
    boss = make_admin(client)
    image = wait_for_status(client, upload(client, alice, jpeg_bytes(900, 600)).json()["id"], alice)
    url = image["variants"]["medium"]["formats"]["jpeg"]

    def origin() -> tuple[int, int]:
        egress = client.get("/api/v1/admin/bill", headers=boss).json()["egress"]
        return egress["origin_bytes"], egress["origin_requests"]

    assert origin() == (0, 0)
    full = client.get(url)
    assert full.status_code == 200
    assert origin() == (len(full.content), 1)
    etag = full.headers["etag"]
    assert client.get(url, headers={"if-none-match": etag}).status_code == 304
    assert client.head(url).status_code == 200
    assert client.get(url.replace("medium-", "poster-")).status_code == 404
    assert origin() == (len(full.content), 1)  # none of those sent media bytes
    part = client.get(url, headers={"range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    assert origin() == (len(full.content) + 100, 2)

    bill = client.get("/api/v1/admin/bill", headers=boss).json()
    days = bill["egress"]["measured_days"]
    assert 1 <= days <= 30 and bill["egress"]["window_days"] == 30
    # no CDN: what the origin sent is internet egress, scaled to a month
    expected = (len(full.content) + 100) / 1e9 * 0.09 * 30 / days
    assert bill["monthly_usd"]["egress"] == pytest.approx(expected)


def test_edges_report_what_they_served(cdn_client: TestClient):
    client = cdn_client
    boss = make_admin(client)
    first = client.post("/api/v1/admin/egress", json={"bytes": 4_000_000_000, "requests": 900})
    assert first.status_code == 401
    first = client.post(
        "/api/v1/admin/egress", json={"bytes": 4_000_000_000, "requests": 900}, headers=boss
    )
    assert first.status_code == 200, first.text
    assert first.json()["source"] == "edge"
    second = client.post(
        "/api/v1/admin/egress", json={"bytes": 1_000_000_000, "requests": 100}, headers=boss
    )
    assert (second.json()["bytes"], second.json()["requests"]) == (5_000_000_000, 1000)
    old = client.post(
        "/api/v1/admin/egress",
        json={"bytes": 7, "requests": 1, "day": "2001-01-01"},
        headers=boss,
    )
    assert old.json()["day"] == "2001-01-01" and old.json()["bytes"] == 7
    bad = client.post("/api/v1/admin/egress", json={"bytes": -1, "requests": 0}, headers=boss)
    assert bad.status_code == 422
    future = client.post(
        "/api/v1/admin/egress", json={"bytes": 1, "requests": 1, "day": "2999-01-01"}, headers=boss
    )
    assert future.status_code == 422 and "future" in future.json()["detail"]

    bill = client.get("/api/v1/admin/bill", headers=boss).json()
    egress = bill["egress"]
    assert bill["cdn"] is True
    assert egress["edge_reported"] is True
    assert (egress["edge_bytes"], egress["edge_requests"]) == (5_000_000_000, 1000)  # in window
    # with a CDN, edge bytes are CDN egress (origin-to-CDN transfer is free on this sheet)
    expected = 5 * 0.0101 * 30 / egress["measured_days"]
    assert bill["monthly_usd"]["egress"] == pytest.approx(expected)
    assert bill["price_sheet"]["name"] == load_price_sheet().name
