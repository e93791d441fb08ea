"""One month of a resolved workload, line by line: what is stored and billed per storage
class, what viewers download and what each egress path costs, and the database."""

from __future__ import annotations

from dataclasses import dataclass

from shutterbox.domain.cost.inputs import ResolvedInputs
from shutterbox.domain.cost.prices import GB, KB, TB, PriceSheet
from shutterbox.domain.storage import StorageClass

EGRESS_PATHS = ("cdn_to_viewers", "origin_to_cdn", "origin_to_viewers")


@dataclass(frozen=True)
class Amount:
    tb: float
    usd: float


@dataclass(frozen=True)
class Storage:
    """One month of uploads in the store."""

    stored_bytes: float
    usd: float
    by_class: dict[str, Amount]  # billed TB and dollars, the archive overhead included
    per_upload_bytes: float


@dataclass(frozen=True)
class Egress:
    """A month of views."""

    viewer_bytes: float
    by_path: dict[str, Amount]

    @property
    def usd(self) -> float:
        return sum(a.usd for a in self.by_path.values())


def storage(inputs: ResolvedInputs, sheet: PriceSheet) -> Storage:
    """Variants stay in Standard; originals in the chosen class, with the per-object
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
    return Storage(
        stored_bytes=uploads * (variant_bytes + original_bytes),
        usd=sum(a.usd for a in by_class.values()),
        by_class=by_class,
        per_upload_bytes=variant_bytes + original_bytes,
    )


def egress(inputs: ResolvedInputs, sheet: PriceSheet) -> Egress:
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
    return Egress(
        viewer_bytes=viewer,
        by_path={p: Amount(tb=b / TB, usd=b / GB * price[p]) for p, b in paths.items()},
    )


def sql_usd(inputs: ResolvedInputs, sheet: PriceSheet, months_of_rows: int) -> float:
    """The instance, and the storage of the metadata rows of ``months_of_rows`` months."""
    rows = inputs.daily_uploads * sheet.size("days_per_month") * months_of_rows
    metadata_gb = rows * sheet.size("sql_row_bytes") / GB
    return sheet.usd("sql_instance_per_month") + metadata_gb * sheet.usd("sql_storage")
