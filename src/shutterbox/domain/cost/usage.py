"""What a running deployment measured, priced: a month at the measured rate on the same
price sheet as the estimate (the live bill's arithmetic; measuring is the billing
service's)."""

from __future__ import annotations

from dataclasses import dataclass

from shutterbox.domain.cost.prices import GB, PriceSheet
from shutterbox.domain.storage import StorageClass


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
