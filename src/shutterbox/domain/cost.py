"""The cost model: what a deployment costs per month, from a price sheet.

Two uses share one sheet: ``estimate`` projects a workload that is described in numbers
(uploads a day, variants kept, storage class of the originals, CDN or not), and
``price_usage`` prices what a running deployment has actually measured. Pure functions:
reading the sheet from a file is the caller's business (``parse_price_sheet`` takes text).

Units are decimal, as in the seed's arithmetic: KB = 10^3 bytes, MB = 10^6, GB = 10^9,
TB = 10^12.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from shutterbox.domain.storage import StorageClass

KB = 1_000
MB = 1_000_000
GB = 1_000_000_000
TB = 1_000_000_000_000

VARIANT_NAMES = ("thumb", "medium", "full")

STORAGE_PRICE_KEYS = {
    StorageClass.STANDARD: "storage_standard",
    StorageClass.STANDARD_IA: "storage_standard_ia",
    StorageClass.GLACIER_IR: "storage_glacier_ir",
    StorageClass.GLACIER: "storage_glacier",
    StorageClass.DEEP_ARCHIVE: "storage_deep_archive",
}
PRICE_KEYS = (
    *STORAGE_PRICE_KEYS.values(),
    "internet_egress",
    "cdn_egress",
    "origin_to_cdn",
    "sql_instance_per_month",
    "sql_storage",
)
SIZE_KEYS = (
    "thumb_kb",
    "medium_kb",
    "full_kb",
    "original_kb",
    "views_per_upload",
    "view_kb",
    "cdn_hit_rate",
    "days_per_month",
    "sql_row_bytes",
)
CLASS_NAMES = {
    StorageClass.STANDARD: "Standard",
    StorageClass.STANDARD_IA: "Standard-IA",
    StorageClass.GLACIER_IR: "Glacier Instant Retrieval",
    StorageClass.GLACIER: "Glacier Flexible Retrieval",
    StorageClass.DEEP_ARCHIVE: "Glacier Deep Archive",
}
EGRESS_PATHS = ("cdn_to_viewers", "origin_to_cdn", "origin_to_viewers")


class PriceSheetError(ValueError):
    """The price sheet is unreadable or incomplete; the message says what is wrong."""


@dataclass(frozen=True)
class Price:
    key: str
    value: float
    unit: str
    label: str
    source: str


@dataclass(frozen=True)
class PriceSheet:
    name: str
    currency: str
    units: str
    prices: dict[str, Price]
    sizes: dict[str, float]
    overhead_standard_bytes: int
    overhead_class_bytes: int
    overhead_source: str

    def usd(self, key: str) -> float:
        return self.prices[key].value

    def storage_usd(self, storage_class: StorageClass) -> float:
        """Price of one GB-month in this storage class."""
        return self.usd(STORAGE_PRICE_KEYS[storage_class])

    def size(self, key: str) -> float:
        return self.sizes[key]


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PriceSheetError(f"{where} must be a number, not {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise PriceSheetError(f"{where} must be a finite number >= 0, not {value!r}")
    return number


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PriceSheetError(f"{where}.{key} must be a non-empty string")
    return value.strip()


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise PriceSheetError(f"the [{key}] table is missing")
    return value


def parse_price_sheet(text: str) -> PriceSheet:
    """Read a price sheet in TOML (the layout of the packaged ``prices.toml``)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PriceSheetError(f"the price sheet is not valid TOML: {exc}") from exc
    price_table = _table(data, "prices")
    missing = [key for key in PRICE_KEYS if key not in price_table]
    if missing:
        raise PriceSheetError(f"the price sheet has no price for: {', '.join(missing)}")
    prices: dict[str, Price] = {}
    for key in PRICE_KEYS:
        entry = price_table[key]
        where = f"prices.{key}"
        if not isinstance(entry, dict):
            raise PriceSheetError(f"{where} must be a table with value, unit, label and source")
        prices[key] = Price(
            key=key,
            value=_number(entry.get("value"), f"{where}.value"),
            unit=_text(entry, "unit", where),
            label=_text(entry, "label", where),
            source=_text(entry, "source", where),
        )
    size_table = _table(data, "sizes")
    missing = [key for key in SIZE_KEYS if key not in size_table]
    if missing:
        raise PriceSheetError(f"the [sizes] table has no: {', '.join(missing)}")
    sizes = {key: _number(size_table[key], f"sizes.{key}") for key in SIZE_KEYS}
    if sizes["cdn_hit_rate"] > 1:
        raise PriceSheetError("sizes.cdn_hit_rate must be between 0 and 1")
    if sizes["days_per_month"] <= 0:
        raise PriceSheetError("sizes.days_per_month must be more than 0")
    overhead = _table(data, "archive_overhead")
    return PriceSheet(
        name=_text(data, "name", "the sheet"),
        currency=_text(data, "currency", "the sheet"),
        units=_text(data, "units", "the sheet"),
        prices=prices,
        sizes=sizes,
        overhead_standard_bytes=int(
            _number(overhead.get("standard_bytes"), "archive_overhead.standard_bytes")
        ),
        overhead_class_bytes=int(
            _number(overhead.get("class_bytes"), "archive_overhead.class_bytes")
        ),
        overhead_source=_text(overhead, "source", "archive_overhead"),
    )


# -- the estimate ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EstimateInputs:
    """A workload. ``None`` takes the sheet's typical value."""

    daily_uploads: int = 100_000
    variants: tuple[str, ...] = VARIANT_NAMES
    originals_class: StorageClass = StorageClass.STANDARD
    cdn: bool = True
    cdn_hit_rate: float | None = None
    views_per_upload: float | None = None
    view_kb: float | None = None
    months: int = 12


@dataclass(frozen=True)
class ResolvedInputs:
    daily_uploads: int
    variants: tuple[str, ...]
    originals_class: StorageClass
    cdn: bool
    cdn_hit_rate: float
    views_per_upload: float
    view_kb: float
    months: int


@dataclass(frozen=True)
class Amount:
    tb: float
    usd: float


@dataclass(frozen=True)
class Month:
    month: int
    stored_tb: float
    storage_usd: float
    egress_usd: float
    sql_usd: float
    total_usd: float


@dataclass(frozen=True)
class Estimate:
    inputs: ResolvedInputs
    per_upload_mb: float
    stored_tb: float
    egress_tb: float
    storage_usd: float
    egress_usd: float
    sql_usd: float
    total_usd: float
    storage_by_class: dict[str, Amount]
    egress_by_path: dict[str, Amount]
    months: list[Month]
    verdict: str
    advice: str = field(default="")


def parse_variants(text: str) -> tuple[str, ...]:
    """``"thumb,medium"`` → the chosen variants in canonical order (the original is implied)."""
    chosen = {part.strip().lower() for part in text.split(",") if part.strip()}
    unknown = sorted(chosen - set(VARIANT_NAMES))
    if unknown:
        hint = " (the original is always kept)" if "original" in unknown else ""
        raise ValueError(
            f"unknown variant {', '.join(repr(u) for u in unknown)}: "
            f"choose among {', '.join(VARIANT_NAMES)}{hint}"
        )
    return tuple(name for name in VARIANT_NAMES if name in chosen)


def resolve(inputs: EstimateInputs, sheet: PriceSheet) -> ResolvedInputs:
    """Fill in the sheet's typical values and check every input; ``ValueError`` says what
    is wrong."""
    resolved = ResolvedInputs(
        daily_uploads=inputs.daily_uploads,
        variants=parse_variants(",".join(inputs.variants)),
        originals_class=StorageClass(inputs.originals_class),
        cdn=inputs.cdn,
        cdn_hit_rate=(
            sheet.size("cdn_hit_rate") if inputs.cdn_hit_rate is None else inputs.cdn_hit_rate
        ),
        views_per_upload=(
            sheet.size("views_per_upload")
            if inputs.views_per_upload is None
            else inputs.views_per_upload
        ),
        view_kb=sheet.size("view_kb") if inputs.view_kb is None else inputs.view_kb,
        months=inputs.months,
    )
    if resolved.daily_uploads < 0:
        raise ValueError("daily_uploads must be 0 or more")
    if not 0.0 <= resolved.cdn_hit_rate <= 1.0:
        raise ValueError("cdn_hit_rate must be between 0 and 1 (0.95 is a 95% hit rate)")
    for name in ("views_per_upload", "view_kb"):
        value = getattr(resolved, name)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number, 0 or more")
    if not 1 <= resolved.months <= 120:
        raise ValueError("months must be between 1 and 120")
    return resolved


def _storage(
    inputs: ResolvedInputs, sheet: PriceSheet
) -> tuple[float, float, dict[str, Amount], float]:
    """One month of uploads: (stored bytes, storage $, billed TB and $ per class, per-upload
    bytes). Variants stay in Standard; originals in the chosen class, with the per-object
    overhead S3 bills for the archive classes."""
    days = sheet.size("days_per_month")
    variant_bytes = sum(sheet.size(f"{name}_kb") for name in inputs.variants) * KB
    original_bytes = sheet.size("original_kb") * KB
    uploads = inputs.daily_uploads * days
    billed: dict[StorageClass, float] = {StorageClass.STANDARD: uploads * variant_bytes}
    cls = inputs.originals_class
    billed[cls] = billed.get(cls, 0.0) + uploads * original_bytes
    if cls.is_archive:
        billed[StorageClass.STANDARD] += uploads * sheet.overhead_standard_bytes
        billed[cls] += uploads * sheet.overhead_class_bytes
    by_class = {
        c.value: Amount(tb=b / TB, usd=b / GB * sheet.storage_usd(c)) for c, b in billed.items()
    }
    stored = uploads * (variant_bytes + original_bytes)
    usd = sum(a.usd for a in by_class.values())
    return stored, usd, by_class, variant_bytes + original_bytes


def _egress(inputs: ResolvedInputs, sheet: PriceSheet) -> tuple[float, dict[str, Amount]]:
    """Viewer bytes in a month and what each path costs."""
    viewer = (
        inputs.daily_uploads
        * inputs.views_per_upload
        * inputs.view_kb
        * KB
        * sheet.size("days_per_month")
    )
    paths = dict.fromkeys(EGRESS_PATHS, 0.0)
    if inputs.cdn:
        paths["cdn_to_viewers"] = viewer
        paths["origin_to_cdn"] = viewer * (1.0 - inputs.cdn_hit_rate)
    else:
        paths["origin_to_viewers"] = viewer
    price = {
        "cdn_to_viewers": sheet.usd("cdn_egress"),
        "origin_to_cdn": sheet.usd("origin_to_cdn"),
        "origin_to_viewers": sheet.usd("internet_egress"),
    }
    return viewer, {p: Amount(tb=b / TB, usd=b / GB * price[p]) for p, b in paths.items()}


def _sql_usd(inputs: ResolvedInputs, sheet: PriceSheet, months_of_rows: int) -> float:
    rows = inputs.daily_uploads * sheet.size("days_per_month") * months_of_rows
    metadata_gb = rows * sheet.size("sql_row_bytes") / GB
    return sheet.usd("sql_instance_per_month") + metadata_gb * sheet.usd("sql_storage")


def estimate(inputs: EstimateInputs, sheet: PriceSheet) -> Estimate:
    """The monthly bill of one month of uploads, and a projection where storage (and the
    metadata rows) accumulate month after month while egress and the instance stay."""
    resolved = resolve(inputs, sheet)
    stored, storage_usd, by_class, per_upload = _storage(resolved, sheet)
    viewer, by_path = _egress(resolved, sheet)
    egress_usd = sum(a.usd for a in by_path.values())
    sql_usd = _sql_usd(resolved, sheet, 1)
    months = []
    for m in range(1, resolved.months + 1):
        sql_m = _sql_usd(resolved, sheet, m)
        months.append(
            Month(
                month=m,
                stored_tb=stored * m / TB,
                storage_usd=storage_usd * m,
                egress_usd=egress_usd,
                sql_usd=sql_m,
                total_usd=storage_usd * m + egress_usd + sql_m,
            )
        )
    result = Estimate(
        inputs=resolved,
        per_upload_mb=per_upload / MB,
        stored_tb=stored / TB,
        egress_tb=viewer / TB,
        storage_usd=storage_usd,
        egress_usd=egress_usd,
        sql_usd=sql_usd,
        total_usd=storage_usd + egress_usd + sql_usd,
        storage_by_class=by_class,
        egress_by_path=by_path,
        months=months,
        verdict=verdict(resolved),
    )
    return replace(result, advice=advice(result, sheet))


_COUNT_WORDS = {1: "One", 2: "Two", 3: "Three", 4: "Four"}


def verdict(inputs: ResolvedInputs) -> str:
    """One line naming the choices, e.g. ``All four variants · Standard storage · CDN
    enabled``."""
    kept = ("original", *inputs.variants)
    if len(kept) == 1 + len(VARIANT_NAMES):
        variants = "All four variants"
    elif len(kept) == 1:
        variants = "Originals only"
    else:
        variants = f"{_COUNT_WORDS[len(kept)]} variants ({', '.join(kept)})"
    if inputs.originals_class == StorageClass.STANDARD:
        storage = "Standard storage"
    else:
        storage = f"Originals in {CLASS_NAMES[inputs.originals_class]}"
    cdn = "CDN enabled" if inputs.cdn else "No CDN"
    return f"{variants} · {storage} · {cdn}"


def usd_text(value: float) -> str:
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"


def _alternative(result: Estimate, sheet: PriceSheet, **changes: Any) -> tuple[float, float]:
    """Storage and egress dollars of the same workload with some choices changed."""
    inputs = result.inputs
    base = EstimateInputs(
        daily_uploads=inputs.daily_uploads,
        variants=inputs.variants,
        originals_class=inputs.originals_class,
        cdn=inputs.cdn,
        cdn_hit_rate=inputs.cdn_hit_rate,
        views_per_upload=inputs.views_per_upload,
        view_kb=inputs.view_kb,
        months=1,
    )
    alternative = resolve(replace(base, **changes), sheet)
    _, storage_usd, _, _ = _storage(alternative, sheet)
    _, by_path = _egress(alternative, sheet)
    return storage_usd, sum(a.usd for a in by_path.values())


def advice(result: Estimate, sheet: PriceSheet) -> str:
    """One sentence from the numbers: the biggest line item and what would cut it."""
    lines = {"storage": result.storage_usd, "egress": result.egress_usd, "sql": result.sql_usd}
    if result.total_usd <= 0:
        return "Nothing to pay for: the price sheet prices everything at zero."
    biggest = max(lines, key=lambda k: lines[k])
    share = f"{usd_text(lines[biggest])} of {usd_text(result.total_usd)}/month"
    inputs = result.inputs
    if biggest == "egress":
        if not inputs.cdn:
            _, with_cdn = _alternative(result, sheet, cdn=True)
            return (
                f"Egress is the biggest line ({share}): serving views through a CDN would cut "
                f"it to {usd_text(with_cdn)} at a {inputs.cdn_hit_rate:.0%} hit rate."
            )
        _, lighter = _alternative(result, sheet, view_kb=inputs.view_kb * 0.7)
        return (
            f"Egress is the biggest line ({share}) and grows with views x bytes per view: "
            f"views 30% lighter (WebP or AVIF display sizes) would cut it to {usd_text(lighter)}."
        )
    if biggest == "storage":
        last = result.months[-1]
        growth = (
            f"; it grows every month, to {usd_text(last.storage_usd)} in month {last.month}"
            if len(result.months) > 1
            else ""
        )
        if inputs.originals_class != StorageClass.DEEP_ARCHIVE and inputs.daily_uploads > 0:
            archived, _ = _alternative(result, sheet, originals_class=StorageClass.DEEP_ARCHIVE)
            cut = 1 - archived / result.storage_usd
            if cut > 0.05:
                return (
                    f"Storage is the biggest line ({share}{growth}): moving the originals "
                    f"to {CLASS_NAMES[StorageClass.DEEP_ARCHIVE]} would cut it by {cut:.0%} to "
                    f"{usd_text(archived)}, at the price of restores that take "
                    f"hours."
                )
        if inputs.variants:
            largest = max(inputs.variants, key=lambda n: sheet.size(f"{n}_kb"))
            rest = tuple(n for n in inputs.variants if n != largest)
            without, _ = _alternative(result, sheet, variants=rest)
            return (
                f"Storage is the biggest line ({share}{growth}): the originals are already in "
                f"the cheapest class, and dropping the {largest} variant would cut it to "
                f"{usd_text(without)}."
            )
        return (
            f"Storage is the biggest line ({share}{growth}), and it is already as lean as it "
            f"gets: originals only, in the cheapest class."
        )
    return (
        f"The database is the biggest line ({share}): at this volume the embedded SQLite file "
        f"(no instance to pay for) or a smaller instance would do."
    )


# -- the live bill -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MeasuredUsage:
    """What a running deployment measured: bytes and objects per storage class now, and the
    bytes served over ``measured_days`` days."""

    stored_bytes_by_class: dict[str, int]
    objects_by_class: dict[str, int]
    origin_bytes: int
    edge_bytes: int
    measured_days: float
    image_rows: int
    cdn: bool
    postgres: bool


@dataclass(frozen=True)
class MonthlyCost:
    storage: float
    egress: float
    sql: float

    @property
    def total(self) -> float:
        return self.storage + self.egress + self.sql


def _known_class(name: str) -> StorageClass:
    """A class the sheet prices; a name it does not know is priced as Standard."""
    try:
        return StorageClass(name)
    except ValueError:
        return StorageClass.STANDARD


def price_usage(usage: MeasuredUsage, sheet: PriceSheet) -> MonthlyCost:
    """A month at the measured rate: what is stored now, the egress scaled to a month from
    the days measured, and the database (nothing for the embedded SQLite file)."""
    storage = 0.0
    for name, nbytes in usage.stored_bytes_by_class.items():
        storage += nbytes / GB * sheet.storage_usd(_known_class(name))
    for name, objects in usage.objects_by_class.items():
        cls = _known_class(name)
        if cls.is_archive:
            storage += objects * sheet.overhead_standard_bytes / GB * sheet.usd("storage_standard")
            storage += objects * sheet.overhead_class_bytes / GB * sheet.storage_usd(cls)
    scale = sheet.size("days_per_month") / max(usage.measured_days, 1.0)
    if usage.cdn:
        egress = (
            usage.origin_bytes / GB * sheet.usd("origin_to_cdn")
            + usage.edge_bytes / GB * sheet.usd("cdn_egress")
        ) * scale
    else:
        egress = usage.origin_bytes / GB * sheet.usd("internet_egress") * scale
    sql = 0.0
    if usage.postgres:
        metadata_gb = usage.image_rows * sheet.size("sql_row_bytes") / GB
        sql = sheet.usd("sql_instance_per_month") + metadata_gb * sheet.usd("sql_storage")
    return MonthlyCost(storage=storage, egress=egress, sql=sql)
