"""The cost model against the seed's figures, and the egress meter."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from shutterbox.domain.cost import (
    VARIANT_NAMES,
    EstimateInputs,
    MeasuredUsage,
    PriceSheet,
    PriceSheetError,
    estimate,
    load_price_sheet,
    parse_variants,
    price_usage,
)
from shutterbox.domain.storage import StorageClass, parse_storage_class
from shutterbox.entrypoints.http.middleware.egress_metering import metered
from shutterbox.services.billing.egress import EgressMeter

PACKAGED = Path(__file__).resolve().parents[2] / "src" / "shutterbox" / "pricing" / "prices.toml"


@pytest.fixture
def sheet() -> PriceSheet:
    return load_price_sheet()


def seed() -> EstimateInputs:
    """The seed's workload, spelled out rather than taken from the defaults."""
    return EstimateInputs(
        daily_uploads=100_000,
        variants=("thumb", "medium", "full"),
        originals_class=StorageClass.STANDARD,
        cdn=True,
        cdn_hit_rate=0.95,
        views_per_upload=10,
        view_kb=250,
    )


# -- the seed's figures ------------------------------------------------------------------------


def test_the_seeds_figures_within_one_percent(sheet: PriceSheet):
    result = estimate(seed(), sheet)
    figures = {
        "stored_tb": 12.7,
        "egress_tb": 7.5,
        "per_upload_mb": 4.25,
        "storage_usd": 293,
        "egress_usd": 76,
        "sql_usd": 45,
        "total_usd": 414,
    }
    for name, expected in figures.items():
        assert getattr(result, name) == pytest.approx(expected, rel=0.01), name
    parts = result.storage_usd + result.egress_usd + result.sql_usd
    assert result.total_usd == pytest.approx(parts)
    assert result.verdict == "All four variants · Standard storage · CDN enabled"


def test_the_defaults_are_the_seeds_workload(sheet: PriceSheet):
    assert estimate(EstimateInputs(), sheet) == estimate(seed(), sheet)


def test_without_a_cdn_egress_is_675_dollars(sheet: PriceSheet):
    result = estimate(EstimateInputs(cdn=False), sheet)
    assert result.egress_usd == pytest.approx(675, rel=0.01)
    assert result.egress_by_path["origin_to_viewers"].tb == pytest.approx(7.5)
    assert result.egress_by_path["cdn_to_viewers"].usd == 0
    assert result.verdict.endswith("No CDN")
    assert "CDN" in result.advice and "$675" in result.advice


def test_with_a_cdn_the_misses_cross_from_origin_to_cdn(sheet: PriceSheet):
    result = estimate(EstimateInputs(cdn_hit_rate=0.8), sheet)
    assert result.egress_by_path["origin_to_cdn"].tb == pytest.approx(7.5 * 0.2)
    assert result.egress_by_path["cdn_to_viewers"].tb == pytest.approx(7.5)
    assert result.egress_by_path["origin_to_viewers"].tb == 0


def test_archived_originals_cut_storage(sheet: PriceSheet):
    standard = estimate(seed(), sheet).storage_usd
    glacier = estimate(EstimateInputs(originals_class=StorageClass.GLACIER), sheet)
    deep = estimate(EstimateInputs(originals_class=StorageClass.DEEP_ARCHIVE), sheet)
    assert 0.55 <= 1 - glacier.storage_usd / standard <= 0.62  # ~60%
    assert 0.67 <= 1 - deep.storage_usd / standard <= 0.70  # ~67-70%
    # the archive classes carry S3's per-object overhead: 8 KB in Standard, 32 KB in the class
    objects = 100_000 * 30
    assert deep.storage_by_class["STANDARD"].tb == pytest.approx(
        (objects * 1_250_000 + objects * 8192) / 1e12
    )
    assert deep.storage_by_class["DEEP_ARCHIVE"].tb == pytest.approx(
        (objects * 3_000_000 + objects * 32768) / 1e12
    )
    assert deep.stored_tb == pytest.approx(12.75)  # the overhead is billed, not stored
    assert deep.verdict == "All four variants · Originals in Glacier Deep Archive · CDN enabled"


def test_instant_classes_have_no_per_object_overhead(sheet: PriceSheet):
    result = estimate(EstimateInputs(originals_class=StorageClass.GLACIER_IR), sheet)
    assert result.storage_by_class["GLACIER_IR"].tb == pytest.approx(9.0)
    assert result.storage_by_class["GLACIER_IR"].usd == pytest.approx(9000 * 0.004)


def test_dropping_variants_shrinks_what_is_stored(sheet: PriceSheet):
    thumb_only = estimate(EstimateInputs(variants=("thumb",)), sheet)
    assert thumb_only.per_upload_mb == pytest.approx(3.05)
    assert thumb_only.stored_tb == pytest.approx(100_000 * 30 * 3.05e6 / 1e12)
    assert thumb_only.storage_usd == pytest.approx(thumb_only.stored_tb * 1000 * 0.023)
    originals = estimate(EstimateInputs(variants=()), sheet)
    assert originals.per_upload_mb == pytest.approx(3.0)
    assert originals.verdict.startswith("Originals only")
    assert thumb_only.verdict.startswith("Two variants (original, thumb)")


def test_the_advice_names_the_biggest_line(sheet: PriceSheet):
    seed_advice = estimate(seed(), sheet).advice
    assert seed_advice.startswith("Storage is the biggest line")
    assert "Deep Archive" in seed_advice
    small = estimate(EstimateInputs(daily_uploads=100), sheet)
    assert small.sql_usd > small.storage_usd + small.egress_usd
    assert small.advice.startswith("The database is the biggest line")


def test_a_twelve_month_projection_accumulates_storage(sheet: PriceSheet):
    result = estimate(seed(), sheet)
    assert [m.month for m in result.months] == list(range(1, 13))
    for m in result.months:
        assert m.stored_tb == pytest.approx(result.stored_tb * m.month)
        assert m.storage_usd == pytest.approx(result.storage_usd * m.month)
        assert m.egress_usd == pytest.approx(result.egress_usd)
        assert m.total_usd == pytest.approx(m.storage_usd + m.egress_usd + m.sql_usd)
    first, last = result.months[0], result.months[-1]
    assert first.total_usd == pytest.approx(result.total_usd)
    assert last.stored_tb == pytest.approx(153.0)
    # the instance stays; the metadata rows accumulate like the bytes do
    assert last.sql_usd > first.sql_usd >= sheet.usd("sql_instance_per_month")
    assert len(estimate(EstimateInputs(months=3), sheet).months) == 3


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (EstimateInputs(daily_uploads=-1), "daily_uploads"),
        (EstimateInputs(cdn_hit_rate=1.5), "cdn_hit_rate"),
        (EstimateInputs(cdn_hit_rate=-0.1), "cdn_hit_rate"),
        (EstimateInputs(views_per_upload=-3), "views_per_upload"),
        (EstimateInputs(view_kb=float("nan")), "view_kb"),
        (EstimateInputs(months=0), "months"),
        (EstimateInputs(variants=("thumb", "poster")), "unknown variant 'poster'"),
    ],
)
def test_bad_inputs_are_refused_with_a_reason(sheet: PriceSheet, inputs, message):
    with pytest.raises(ValueError, match=message):
        estimate(inputs, sheet)


def test_variant_and_class_names_are_parsed():
    assert parse_variants(" full, THUMB ,thumb") == ("thumb", "full")
    assert parse_variants("") == ()
    with pytest.raises(ValueError, match="original is always kept"):
        parse_variants("original")
    assert parse_storage_class("deep_archive") == StorageClass.DEEP_ARCHIVE
    with pytest.raises(ValueError, match="unknown storage class"):
        parse_storage_class("COLD")


# -- the price sheet ---------------------------------------------------------------------------


def test_every_price_says_where_it_comes_from(sheet: PriceSheet):
    assert sheet.currency == "USD"
    assert "10^9" in sheet.units
    for price in sheet.prices.values():
        assert price.source and price.label and price.unit, price.key
    cdn = sheet.prices["cdn_egress"].source
    assert "seed" in cdn and "bunny.net" in cdn and "CloudFront" in cdn
    assert "S3 Standard" in sheet.overhead_source
    assert sheet.sizes["thumb_kb"] == 50 and sheet.sizes["original_kb"] == 3000


def _sheet_text(**price_values: float) -> str:
    text = PACKAGED.read_text()
    for key, value in price_values.items():
        start = text.index(f"[prices.{key}]")
        at = text.index("value = ", start)
        end = text.index("\n", at)
        text = text[:at] + f"value = {value}" + text[end:]
    return text


def test_a_replacement_sheet_changes_the_result(tmp_path: Path, sheet: PriceSheet):
    path = tmp_path / "prices.toml"
    path.write_text(
        _sheet_text(storage_standard=0.046, cdn_egress=0.085).replace(
            'name = "AWS us-east-1', 'name = "My own prices, from AWS us-east-1'
        )
    )
    mine = load_price_sheet(path)
    assert mine.name.startswith("My own prices")
    assert tomllib.loads(path.read_text())["prices"]["cdn_egress"]["value"] == 0.085
    base, changed = estimate(seed(), sheet), estimate(seed(), mine)
    assert changed.storage_usd == pytest.approx(2 * base.storage_usd)
    assert changed.egress_usd == pytest.approx(7500 * 0.085)
    assert changed.sql_usd == pytest.approx(base.sql_usd)


def test_an_incomplete_sheet_is_refused_with_what_is_missing(tmp_path: Path):
    path = tmp_path / "prices.toml"
    text = PACKAGED.read_text()
    start = text.index("[prices.sql_storage]")
    end = text.index("[archive_overhead]")
    path.write_text(text[:start] + text[end:])
    with pytest.raises(PriceSheetError, match="sql_storage"):
        load_price_sheet(path)
    path.write_text(_sheet_text(internet_egress=-1))
    with pytest.raises(PriceSheetError, match="internet_egress"):
        load_price_sheet(path)
    path.write_text("not = [toml")
    with pytest.raises(PriceSheetError, match="TOML"):
        load_price_sheet(path)
    with pytest.raises(PriceSheetError, match="cannot read"):
        load_price_sheet(tmp_path / "missing.toml")


# -- pricing measured usage --------------------------------------------------------------------


def _usage(**changes: Any) -> MeasuredUsage:
    values: dict[str, Any] = {
        "stored_bytes_by_class": {"STANDARD": 10**12},
        "objects_by_class": {"STANDARD": 1000},
        "origin_bytes": 10**11,
        "edge_bytes": 10**12,
        "measured_days": 10.0,
        "image_rows": 1000,
        "cdn": True,
        "postgres": False,
    }
    values.update(changes)
    return MeasuredUsage(**values)


def test_measured_usage_is_priced_a_month_at_that_rate(sheet: PriceSheet):
    with_cdn = price_usage(_usage(), sheet)
    assert with_cdn.storage == pytest.approx(1000 * 0.023)
    # 10 days measured, scaled to 30: origin bytes cross to the CDN, edge bytes are CDN egress
    assert with_cdn.egress == pytest.approx(3 * (100 * 0.0 + 1000 * 0.0101))
    assert with_cdn.sql == 0  # the embedded SQLite file
    no_cdn = price_usage(_usage(cdn=False), sheet)
    assert no_cdn.egress == pytest.approx(3 * 100 * 0.09)
    postgres = price_usage(_usage(postgres=True), sheet)
    assert postgres.sql == pytest.approx(45 + 1000 * 500 / 1e9 * 0.115)
    assert postgres.total == pytest.approx(postgres.storage + postgres.egress + postgres.sql)


def test_measured_archives_carry_the_per_object_overhead(sheet: PriceSheet):
    usage = _usage(
        stored_bytes_by_class={"DEEP_ARCHIVE": 10**12},
        objects_by_class={"DEEP_ARCHIVE": 1_000_000},
        origin_bytes=0,
        edge_bytes=0,
    )
    expected = 1000 * 0.00099 + 8192e6 / 1e9 * 0.023 + 32768e6 / 1e9 * 0.00099
    assert price_usage(usage, sheet).storage == pytest.approx(expected)


# -- the egress meter --------------------------------------------------------------------------


async def _serve(meter: EgressMeter, method: str, status: int, *bodies: bytes) -> list[str]:
    sent: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])

    wrapped = metered(meter, {"type": "http", "method": method}, send)
    await wrapped({"type": "http.response.start", "status": status, "headers": []})
    for i, body in enumerate(bodies):
        more = i < len(bodies) - 1
        await wrapped({"type": "http.response.body", "body": body, "more_body": more})
    return sent


def _origin(meter: EgressMeter) -> tuple[int, int]:
    return next(iter(meter.pending().values()), (0, 0))


async def test_the_meter_counts_bodies_sent_with_200_and_206():
    meter = EgressMeter()
    sent = await _serve(meter, "GET", 200, b"x" * 1000, b"y" * 24)
    assert sent == ["http.response.start", "http.response.body", "http.response.body"]
    assert _origin(meter) == (1024, 1)
    await _serve(meter, "GET", 206, b"z" * 100)
    assert _origin(meter) == (1124, 2)
    await _serve(meter, "GET", 304, b"")
    await _serve(meter, "GET", 404, b'{"detail": "no such image"}')
    await _serve(meter, "HEAD", 200, b"")
    assert _origin(meter) == (1124, 2)


async def test_the_meter_counts_a_file_the_server_sends_itself():
    meter = EgressMeter()

    async def send(message: dict[str, Any]) -> None:
        return None

    wrapped = metered(meter, {"type": "http", "method": "GET"}, send)
    start = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"77")]}
    await wrapped(start)
    await wrapped({"type": "http.response.pathsend", "path": "/somewhere"})
    assert _origin(meter) == (77, 1)


async def test_the_meter_counts_a_file_nginx_sends_for_the_origin():
    meter = EgressMeter()

    async def send(message: dict[str, Any]) -> None:
        return None

    for method in ("GET", "HEAD"):
        wrapped = metered(meter, {"type": "http", "method": method}, send)
        headers = [(b"content-length", b"0"), (b"x-accel-redirect", b"/_f/x.jpg")]
        headers.append((b"x-shutterbox-file-bytes", b"5000"))
        await wrapped({"type": "http.response.start", "status": 200, "headers": headers})
        await wrapped({"type": "http.response.body", "body": b"", "more_body": False})
    assert _origin(meter) == (5000, 1)


def test_variant_names_match_the_pipeline():
    from shutterbox.domain.images import VARIANT_NAMES as PIPELINE

    assert set(VARIANT_NAMES) == set(PIPELINE)


def test_the_docs_list_every_price_of_the_sheet(sheet: PriceSheet):
    text = (PACKAGED.parents[3] / "docs" / "cost.md").read_text()
    for price in sheet.prices.values():
        assert f"`{price.key}`" in text, price.key
        assert f"${price.value:g}" in text or f"${price.value:.2f}" in text, price.key
