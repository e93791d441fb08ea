"""What it costs: the estimate for a workload (public), the live bill and edge egress reports
(admins)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from shutterbox.clock import utcnow
from shutterbox.domain import cost
from shutterbox.domain.errors import InvalidInput, ShutterboxError
from shutterbox.domain.storage import parse_storage_class
from shutterbox.entrypoints.api.deps import AdminUser, ServicesDep
from shutterbox.entrypoints.api.schemas import ErrorBody, Timestamp
from shutterbox.services.billing import costs, egress

router = APIRouter(prefix="/api/v1", tags=["cost"])


class PriceSheetUnavailable(ShutterboxError):
    status = 503  # the operator's file is broken: the service cannot answer, the request is fine
    code = "price_sheet_invalid"


# -- the JSON ----------------------------------------------------------------------------------


class PriceOut(BaseModel):
    key: str
    label: str
    usd: float = Field(description="Price in the sheet's currency per unit.")
    unit: str = Field(description='"GB" (10^9 bytes), "GB-month" or "month".')
    source: str = Field(description="Where the price comes from.")


class ArchiveOverheadOut(BaseModel):
    standard_bytes: int = Field(description="Billed per archived object at the Standard price.")
    class_bytes: int = Field(description="Billed per archived object at its class's price.")
    source: str


class PriceSheetOut(BaseModel):
    name: str
    currency: str
    units: str
    prices: list[PriceOut]
    sizes: dict[str, float] = Field(description="Typical sizes and traffic: the defaults.")
    archive_overhead: ArchiveOverheadOut


class InputsOut(BaseModel):
    daily_uploads: int
    variants: list[str] = Field(description="Variants kept besides the original.")
    originals_class: str
    cdn: bool
    cdn_hit_rate: float
    views_per_upload: float
    view_kb: float
    months: int


class AmountOut(BaseModel):
    tb: float
    usd: float


class MonthOut(BaseModel):
    month: int
    stored_tb: float = Field(description="Everything uploaded so far (months x one month).")
    storage_usd: float
    egress_usd: float
    sql_usd: float
    total_usd: float


class EstimateOut(BaseModel):
    inputs: InputsOut
    per_upload_mb: float
    stored_tb: float = Field(description="One month of uploads.")
    egress_tb: float = Field(description="Bytes viewers download in a month.")
    storage_usd: float
    egress_usd: float
    sql_usd: float
    total_usd: float
    storage_by_class: dict[str, AmountOut] = Field(
        description="Billed TB and dollars per storage class (with the per-object overhead "
        "of the archive classes)."
    )
    egress_by_path: dict[str, AmountOut] = Field(
        description="cdn_to_viewers, origin_to_cdn (cache misses), origin_to_viewers."
    )
    months: list[MonthOut] = Field(description="The bill of each month as uploads accumulate.")
    verdict: str
    advice: str
    price_sheet: PriceSheetOut


class StoredOut(BaseModel):
    kind: Literal["original", "variant"]
    name: str | None = Field(default=None, description="Variants: thumb, medium, full.")
    format: str | None = Field(default=None, description="Variants: jpeg, webp, avif.")
    storage_class: str
    objects: int
    bytes: int


class EgressOut(BaseModel):
    window_days: int
    measured_days: float = Field(description="Days of the window actually measured (1-30).")
    origin_bytes: int
    origin_requests: int
    edge_bytes: int
    edge_requests: int
    edge_reported: bool


class MonthlyOut(BaseModel):
    storage: float
    egress: float
    sql: float
    total: float


class BillOut(BaseModel):
    measured_at: Timestamp
    stored: list[StoredOut]
    stored_bytes_by_class: dict[str, int]
    trash_bytes: int = Field(description="Bytes of deleted images still kept (in the trash).")
    egress: EgressOut
    cdn: bool = Field(description="SHUTTERBOX_CDN_BASE_URL is set.")
    database: str
    uploads_per_day: float = Field(description="Over the last 30 days.")
    monthly_usd: MonthlyOut = Field(description="A month at the measured rate.")
    sql_note: str
    egress_note: str
    price_sheet: PriceSheetOut


class EdgeReport(BaseModel):
    bytes: int = Field(ge=0, description="Bytes the edge sent to viewers.")
    requests: int = Field(ge=0, description="Requests the edge answered.")
    day: date | None = Field(default=None, description="UTC day; default: today.")


class EgressDayOut(BaseModel):
    day: date
    source: str
    bytes: int = Field(description="The day's total so far.")
    requests: int


# -- conversions, shared with the CLI --------------------------------------------------------


def price_sheet_body(sheet: cost.PriceSheet) -> PriceSheetOut:
    return PriceSheetOut(
        name=sheet.name,
        currency=sheet.currency,
        units=sheet.units,
        prices=[
            PriceOut(key=p.key, label=p.label, usd=p.value, unit=p.unit, source=p.source)
            for p in sheet.prices.values()
        ],
        sizes=dict(sheet.sizes),
        archive_overhead=ArchiveOverheadOut(
            standard_bytes=sheet.overhead_standard_bytes,
            class_bytes=sheet.overhead_class_bytes,
            source=sheet.overhead_source,
        ),
    )


def estimate_body(result: cost.Estimate, sheet: cost.PriceSheet) -> EstimateOut:
    inputs = result.inputs
    return EstimateOut(
        inputs=InputsOut(
            daily_uploads=inputs.daily_uploads,
            variants=list(inputs.variants),
            originals_class=inputs.originals_class.value,
            cdn=inputs.cdn,
            cdn_hit_rate=inputs.cdn_hit_rate,
            views_per_upload=inputs.views_per_upload,
            view_kb=inputs.view_kb,
            months=inputs.months,
        ),
        per_upload_mb=result.per_upload_mb,
        stored_tb=result.stored_tb,
        egress_tb=result.egress_tb,
        storage_usd=result.storage_usd,
        egress_usd=result.egress_usd,
        sql_usd=result.sql_usd,
        total_usd=result.total_usd,
        storage_by_class={
            k: AmountOut(tb=a.tb, usd=a.usd) for k, a in result.storage_by_class.items()
        },
        egress_by_path={k: AmountOut(tb=a.tb, usd=a.usd) for k, a in result.egress_by_path.items()},
        months=[
            MonthOut(
                month=m.month,
                stored_tb=m.stored_tb,
                storage_usd=m.storage_usd,
                egress_usd=m.egress_usd,
                sql_usd=m.sql_usd,
                total_usd=m.total_usd,
            )
            for m in result.months
        ],
        verdict=result.verdict,
        advice=result.advice,
        price_sheet=price_sheet_body(sheet),
    )


def _sheet(services: ServicesDep) -> cost.PriceSheet:
    try:
        return costs.load_price_sheet(services.settings.price_sheet_path)
    except cost.PriceSheetError as exc:
        raise PriceSheetUnavailable(f"the price sheet cannot be used: {exc}") from exc


# -- the routes --------------------------------------------------------------------------------


@router.get(
    "/cost/estimate",
    response_model=EstimateOut,
    responses={422: {"model": ErrorBody}, 503: {"model": ErrorBody}},
)
async def read_cost_estimate(
    services: ServicesDep,
    daily_uploads: Annotated[int, Query(ge=0, description="Uploads a day.")] = 100_000,
    variants: Annotated[
        str, Query(description="Comma-separated variants kept: thumb, medium, full.")
    ] = "thumb,medium,full",
    originals_class: Annotated[
        str,
        Query(description="STANDARD, STANDARD_IA, GLACIER_IR, GLACIER or DEEP_ARCHIVE."),
    ] = "STANDARD",
    cdn: Annotated[bool, Query(description="Views are served through a CDN.")] = True,
    cdn_hit_rate: Annotated[
        float | None, Query(ge=0, le=1, description="Default: the price sheet's (0.95).")
    ] = None,
    views_per_upload: Annotated[
        float | None, Query(ge=0, description="Default: the price sheet's (10).")
    ] = None,
    view_kb: Annotated[
        float | None, Query(ge=0, description="KB per view; default: the price sheet's (250).")
    ] = None,
    months: Annotated[int, Query(ge=1, le=120, description="Months projected.")] = 12,
) -> EstimateOut:
    """What a workload costs a month on the price sheet in force (storage, egress, the
    database), with a projection month by month as uploads accumulate."""
    sheet = _sheet(services)
    try:
        inputs = cost.EstimateInputs(
            daily_uploads=daily_uploads,
            variants=cost.parse_variants(variants),
            originals_class=parse_storage_class(originals_class),
            cdn=cdn,
            cdn_hit_rate=cdn_hit_rate,
            views_per_upload=views_per_upload,
            view_kb=view_kb,
            months=months,
        )
        result = cost.estimate(inputs, sheet)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    return estimate_body(result, sheet)


@router.get(
    "/admin/bill",
    response_model=BillOut,
    response_model_exclude_none=True,
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 503: {"model": ErrorBody}},
)
async def read_bill(services: ServicesDep, _admin: AdminUser) -> BillOut:
    """The live bill: what this deployment stores (per kind, variant, format and storage
    class, from the database), what it served over the last 30 days (measured by the origin,
    and reported by edges), and a month at that rate on the price sheet in force."""
    sheet = _sheet(services)
    await services.egress_meter.flush(services.metadata)  # this node's latest counts too
    settings = services.settings
    bill = await costs.measure_bill(
        services.metadata,
        sheet,
        cdn=bool(settings.cdn_base_url.strip()),
        redirects=settings.media_redirect_seconds > 0,
    )
    return BillOut(
        measured_at=bill.measured_at,
        stored=[
            StoredOut(
                kind="original" if g.kind == "original" else "variant",
                name=g.name,
                format=g.format,
                storage_class=g.storage_class,
                objects=g.objects,
                bytes=g.bytes,
            )
            for g in bill.stored
        ],
        stored_bytes_by_class=bill.stored_bytes_by_class,
        trash_bytes=bill.trash_bytes,
        egress=EgressOut(
            window_days=bill.egress.window_days,
            measured_days=bill.egress.measured_days,
            origin_bytes=bill.egress.origin_bytes,
            origin_requests=bill.egress.origin_requests,
            edge_bytes=bill.egress.edge_bytes,
            edge_requests=bill.egress.edge_requests,
            edge_reported=bill.egress.edge_reported,
        ),
        cdn=bill.cdn,
        database=bill.database,
        uploads_per_day=bill.uploads_per_day,
        monthly_usd=MonthlyOut(
            storage=bill.monthly.storage,
            egress=bill.monthly.egress,
            sql=bill.monthly.sql,
            total=bill.monthly.total,
        ),
        sql_note=bill.sql_note,
        egress_note=bill.egress_note,
        price_sheet=price_sheet_body(sheet),
    )


@router.post(
    "/admin/egress",
    response_model=EgressDayOut,
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)
async def create_edge_report(
    body: EdgeReport, services: ServicesDep, _admin: AdminUser
) -> EgressDayOut:
    """An edge (CDN, Varnish) reports bytes and requests it served; they add up per day and
    count as CDN egress in the live bill."""
    today = utcnow().date()
    day = body.day or today
    if day > today + timedelta(days=1):  # a day of slack for edges ahead of UTC
        raise InvalidInput(f"day {day.isoformat()} is in the future")
    await egress.add_egress(services.metadata, [(day, egress.EDGE, body.bytes, body.requests)])
    total_bytes, total_requests = await egress.day_totals(services.metadata, day, egress.EDGE)
    return EgressDayOut(day=day, source=egress.EDGE, bytes=total_bytes, requests=total_requests)
