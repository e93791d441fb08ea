"""The estimate: what a workload costs a month on a price sheet (stored and served TB,
storage, egress and database dollars), and a projection month by month where storage and
the metadata rows accumulate while egress and the instance stay."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from shutterbox.domain.cost import monthly
from shutterbox.domain.cost.advice import advice, verdict
from shutterbox.domain.cost.inputs import EstimateInputs, ResolvedInputs, resolve
from shutterbox.domain.cost.monthly import Amount
from shutterbox.domain.cost.prices import MB, TB, PriceSheet


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


def estimate(inputs: EstimateInputs, sheet: PriceSheet) -> Estimate:
    """The monthly bill of one month of uploads, and a projection where storage (and the
    metadata rows) accumulate month after month while egress and the instance stay."""
    resolved = resolve(inputs, sheet)
    storage = monthly.storage(resolved, sheet)
    egress = monthly.egress(resolved, sheet)
    egress_usd = egress.usd
    sql_usd = monthly.sql_usd(resolved, sheet, 1)
    months = []
    for m in range(1, resolved.months + 1):
        sql_m = monthly.sql_usd(resolved, sheet, m)
        months.append(
            Month(
                month=m,
                stored_tb=storage.stored_bytes * m / TB,
                storage_usd=storage.usd * m,
                egress_usd=egress_usd,
                sql_usd=sql_m,
                total_usd=storage.usd * m + egress_usd + sql_m,
            )
        )
    result = Estimate(
        inputs=resolved,
        per_upload_mb=storage.per_upload_bytes / MB,
        stored_tb=storage.stored_bytes / TB,
        egress_tb=egress.viewer_bytes / TB,
        storage_usd=storage.usd,
        egress_usd=egress_usd,
        sql_usd=sql_usd,
        total_usd=storage.usd + egress_usd + sql_usd,
        storage_by_class=storage.by_class,
        egress_by_path=egress.by_path,
        months=months,
        verdict=verdict(resolved),
    )
    return replace(result, advice=advice(result, sheet))
