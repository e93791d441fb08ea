"""The live bill's measurements: stored bytes per class (the trash too), egress over a window,
and the upload rate."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from shutterbox.adapters.db.tables import egress_daily, images, variants
from shutterbox.ports.metadata import BillRows


class SqlBill:
    """``BillRepository`` on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def measure(self, window_start: date, uploads_since: datetime) -> BillRows:
        conn = self.conn
        trashed = images.c.deleted_at.is_not(None)
        original_rows = (
            await conn.execute(
                select(
                    images.c.original_storage_class,
                    func.count(),
                    func.coalesce(func.sum(images.c.original_bytes), 0),
                    func.coalesce(func.sum(case((trashed, images.c.original_bytes), else_=0)), 0),
                )
                .group_by(images.c.original_storage_class)
                .order_by(images.c.original_storage_class)
            )
        ).all()
        variant_rows = (
            await conn.execute(
                select(
                    variants.c.name,
                    variants.c.format,
                    variants.c.storage_class,
                    func.count(),
                    func.coalesce(func.sum(variants.c.bytes), 0),
                    func.coalesce(func.sum(case((trashed, variants.c.bytes), else_=0)), 0),
                )
                .select_from(variants.join(images, variants.c.image_id == images.c.id))
                .group_by(variants.c.name, variants.c.format, variants.c.storage_class)
                .order_by(variants.c.name, variants.c.format, variants.c.storage_class)
            )
        ).all()
        egress_rows = (
            await conn.execute(
                select(
                    egress_daily.c.source,
                    func.coalesce(func.sum(egress_daily.c.bytes), 0),
                    func.coalesce(func.sum(egress_daily.c.requests), 0),
                    func.count(),
                )
                .where(egress_daily.c.day >= window_start)
                .group_by(egress_daily.c.source)
            )
        ).all()
        first_egress_day: date | None = (
            await conn.execute(select(func.min(egress_daily.c.day)))
        ).scalar()
        image_rows, first_upload = (
            await conn.execute(select(func.count(), func.min(images.c.created_at)))
        ).one()
        recent_uploads = (
            await conn.execute(select(func.count()).where(images.c.created_at >= uploads_since))
        ).scalar_one()
        return BillRows(
            originals=[(str(c), int(n), int(b), int(t)) for c, n, b, t in original_rows],
            variants=[
                (str(name), str(fmt), str(c), int(n), int(b), int(t))
                for name, fmt, c, n, b, t in variant_rows
            ],
            egress=[(str(s), int(b), int(r), int(n)) for s, b, r, n in egress_rows],
            first_egress_day=first_egress_day,
            image_rows=int(image_rows),
            first_upload=first_upload,
            recent_uploads=int(recent_uploads),
        )
