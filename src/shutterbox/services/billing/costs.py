"""The live bill: what this deployment stores and serves, priced with the same sheet as the
estimate (``load_price_sheet``, from the cost model, reads the sheet in force)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shutterbox.clock import utcnow
from shutterbox.domain.cost import (
    MeasuredUsage,
    MonthlyCost,
    PriceSheet,
    price_usage,
)
from shutterbox.domain.cost import load_price_sheet as load_price_sheet  # the sheet in force
from shutterbox.ports.metadata import Metadata
from shutterbox.services.billing.egress import EDGE, ORIGIN

WINDOW_DAYS = 30


@dataclass(frozen=True)
class StoredGroup:
    kind: str  # original | variant
    storage_class: str
    objects: int
    bytes: int
    trash_bytes: int
    name: str | None = None
    format: str | None = None


@dataclass(frozen=True)
class EgressWindow:
    window_days: int
    measured_days: float
    origin_bytes: int
    origin_requests: int
    edge_bytes: int
    edge_requests: int
    edge_reported: bool


@dataclass(frozen=True)
class Bill:
    measured_at: datetime
    stored: list[StoredGroup]
    egress: EgressWindow
    cdn: bool
    database: str
    uploads_per_day: float
    image_rows: int
    monthly: MonthlyCost
    sql_note: str
    egress_note: str

    @property
    def stored_bytes_by_class(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for group in self.stored:
            totals[group.storage_class] = totals.get(group.storage_class, 0) + group.bytes
        return totals

    @property
    def trash_bytes(self) -> int:
        return sum(group.trash_bytes for group in self.stored)


def _span_days(now: datetime, since: datetime | None) -> float:
    """Days from ``since`` to now, between 1 and the window (a young deployment is scaled up
    from the time it has existed, but never from less than a day)."""
    if since is None:
        return float(WINDOW_DAYS)
    return min(float(WINDOW_DAYS), max(1.0, (now - since).total_seconds() / 86400))


async def measure_bill(
    db: Metadata, sheet: PriceSheet, *, cdn: bool, redirects: bool = False
) -> Bill:
    """Stored bytes per class from the database (trashed images too: their bytes are still
    stored), egress over the last 30 days from ``egress_daily``, uploads a day, and a month
    at that rate priced with ``sheet``."""
    naive_now = utcnow()
    now = naive_now.replace(tzinfo=UTC)
    today = naive_now.date()
    window_start = today - timedelta(days=WINDOW_DAYS - 1)
    async with db.read() as tx:
        measured = await tx.bill.measure(window_start, naive_now - timedelta(days=WINDOW_DAYS))
    original_rows, variant_rows, egress_rows = (
        measured.originals,
        measured.variants,
        measured.egress,
    )
    first_egress_day = measured.first_egress_day
    image_rows, first_upload = measured.image_rows, measured.first_upload
    recent_uploads = measured.recent_uploads

    stored = [
        StoredGroup(
            kind="original",
            storage_class=str(cls),
            objects=int(count),
            bytes=int(total),
            trash_bytes=int(trash),
        )
        for cls, count, total, trash in original_rows
    ]
    stored += [
        StoredGroup(
            kind="variant",
            name=str(name),
            format=str(fmt),
            storage_class=str(cls),
            objects=int(count),
            bytes=int(total),
            trash_bytes=int(trash),
        )
        for name, fmt, cls, count, total, trash in variant_rows
    ]
    by_source = {source: (int(b), int(r), int(n)) for source, b, r, n in egress_rows}
    origin_bytes, origin_requests, _ = by_source.get(ORIGIN, (0, 0, 0))
    edge_bytes, edge_requests, edge_days = by_source.get(EDGE, (0, 0, 0))
    measured_since = None
    if first_egress_day is not None:
        measured_since = datetime.combine(max(first_egress_day, window_start), datetime.min.time())
    egress = EgressWindow(
        window_days=WINDOW_DAYS,
        measured_days=_span_days(naive_now, measured_since),
        origin_bytes=origin_bytes,
        origin_requests=origin_requests,
        edge_bytes=edge_bytes,
        edge_requests=edge_requests,
        edge_reported=edge_days > 0,
    )
    postgres = db.dialect == "postgresql"
    bytes_by_class: dict[str, int] = {}
    objects_by_class: dict[str, int] = {}
    for group in stored:
        cls = group.storage_class
        bytes_by_class[cls] = bytes_by_class.get(cls, 0) + group.bytes
        objects_by_class[cls] = objects_by_class.get(cls, 0) + group.objects
    usage = MeasuredUsage(
        stored_bytes_by_class=bytes_by_class,
        objects_by_class=objects_by_class,
        origin_bytes=origin_bytes,
        edge_bytes=edge_bytes,
        measured_days=egress.measured_days,
        image_rows=int(image_rows),
        cdn=cdn,
        postgres=postgres,
    )
    return Bill(
        measured_at=now,
        stored=stored,
        egress=egress,
        cdn=cdn,
        database=db.dialect,
        uploads_per_day=int(recent_uploads) / _span_days(naive_now, first_upload),
        image_rows=int(image_rows),
        monthly=price_usage(usage, sheet),
        sql_note=_sql_note(postgres),
        egress_note=_egress_note(cdn, egress.edge_reported, redirects),
    )


def _sql_note(postgres: bool) -> str:
    if postgres:
        return (
            "PostgreSQL: the price sheet's managed instance, plus its storage for the image "
            "rows at the sheet's row size."
        )
    return (
        "$0: the embedded SQLite file lives on this server's own disk, inside the data "
        "directory; there is no database instance to pay for."
    )


def _egress_note(cdn: bool, edge_reported: bool, redirects: bool) -> str:
    parts = []
    if cdn:
        parts.append(
            "With a CDN, bytes the origin sent are origin-to-CDN transfer and bytes edges "
            "reported are CDN egress."
        )
        if not edge_reported:
            parts.append(
                "No edge has reported what it served in the window (POST "
                "/api/v1/admin/egress), so CDN egress counts as $0."
            )
    else:
        parts.append("Without a CDN, every byte the origin sent is internet egress.")
    if redirects:
        parts.append(
            "Media requests are redirected to the object store, which sends those bytes "
            "itself: the origin does not see them."
        )
    parts.append("Scaled to a month from the days measured.")
    return " ".join(parts)
