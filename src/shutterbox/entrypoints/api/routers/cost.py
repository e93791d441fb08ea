"""What it costs: the estimate for a workload (public), the live bill and edge egress reports
(admins)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from shutterbox.clock import utcnow
from shutterbox.domain import cost
from shutterbox.domain.errors import InvalidInput, ShutterboxError
from shutterbox.entrypoints.api.deps import AdminUser, ServicesDep
from shutterbox.entrypoints.api.schemas import ErrorBody, Timestamp
from shutterbox.entrypoints.cost_json import (
    EstimateOut,
    PriceSheetOut,
    estimate_body,
    price_sheet_body,
)
from shutterbox.entrypoints.http.routing import Router
from shutterbox.services.billing import costs, egress

router = Router(prefix="/api/v1", tags=["cost"])


class PriceSheetUnavailable(ShutterboxError):
    status = 503  # the operator's file is broken: the service cannot answer, the request is fine
    code = "price_sheet_invalid"


# -- the JSON of the bill (the estimate's is in entrypoints/cost_json.py) -------------------


class StoredOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: Literal["original", "variant"]
    name: str | None = Field(default=None, description="Variants: thumb, medium, full.")
    format: str | None = Field(default=None, description="Variants: jpeg, webp, avif.")
    storage_class: str
    objects: int
    bytes: int


class EgressOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    window_days: int
    measured_days: float = Field(description="Days of the window actually measured (1-30).")
    origin_bytes: int
    origin_requests: int
    edge_bytes: int
    edge_requests: int
    edge_reported: bool


class MonthlyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    storage: float
    egress: float
    sql: float
    total: float


class BillOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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


def _sheet(services: ServicesDep) -> cost.PriceSheet:
    try:
        return cost.load_price_sheet(services.settings.price_sheet_path)
    except cost.PriceSheetError as exc:
        raise PriceSheetUnavailable(f"the price sheet cannot be used: {exc}") from exc


# -- the routes --------------------------------------------------------------------------------


class EstimateQuery(BaseModel):
    """The workload, from the query string: the inputs of ``EstimateInputs.from_values``."""

    daily_uploads: int = Field(
        default=cost.DEFAULT_INPUTS.daily_uploads, ge=0, description="Uploads a day."
    )
    variants: str = Field(
        default=cost.ALL_VARIANTS_TEXT,
        description=f"Comma-separated variants kept: {', '.join(cost.VARIANT_NAMES)}.",
    )
    originals_class: str = Field(
        default=cost.DEFAULT_INPUTS.originals_class.value,
        description="STANDARD, STANDARD_IA, GLACIER_IR, GLACIER or DEEP_ARCHIVE.",
    )
    cdn: bool = Field(default=True, description="Views are served through a CDN.")
    cdn_hit_rate: float | None = Field(
        default=None, ge=0, le=1, description="Default: the price sheet's (0.95)."
    )
    views_per_upload: float | None = Field(
        default=None, ge=0, description="Default: the price sheet's (10)."
    )
    view_kb: float | None = Field(
        default=None, ge=0, description="KB per view; default: the price sheet's (250)."
    )
    months: int = Field(
        default=cost.DEFAULT_INPUTS.months, ge=1, le=120, description="Months projected."
    )


@router.get(
    "/cost/estimate",
    response_model=EstimateOut,
    responses={422: {"model": ErrorBody}, 503: {"model": ErrorBody}},
)
async def read_cost_estimate(
    services: ServicesDep, query: Annotated[EstimateQuery, Query()]
) -> EstimateOut:
    """What a workload costs a month on the price sheet in force (storage, egress, the
    database), with a projection month by month as uploads accumulate."""
    sheet = _sheet(services)
    try:
        result = cost.estimate(cost.EstimateInputs.from_values(**query.model_dump()), sheet)
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
    return BillOut.model_validate(
        {
            **vars(bill),
            "stored_bytes_by_class": bill.stored_bytes_by_class,
            "trash_bytes": bill.trash_bytes,
            "monthly_usd": bill.monthly,
            "price_sheet": price_sheet_body(sheet),
        }
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
