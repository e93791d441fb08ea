"""The JSON of the cost model: one shape for the estimate and the price sheet, answered by
``GET /api/v1/cost/estimate``, printed by ``shutterbox cost --json`` and read by the cost
lab."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shutterbox.domain import cost


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PriceOut(_Out):
    key: str
    label: str
    usd: float = Field(description="Price in the sheet's currency per unit.")
    unit: str = Field(description='"GB" (10^9 bytes), "GB-month" or "month".')
    source: str = Field(description="Where the price comes from.")


class ArchiveOverheadOut(_Out):
    standard_bytes: int = Field(description="Billed per archived object at the Standard price.")
    class_bytes: int = Field(description="Billed per archived object at its class's price.")
    source: str


class PriceSheetOut(_Out):
    name: str
    currency: str
    units: str
    prices: list[PriceOut]
    sizes: dict[str, float] = Field(description="Typical sizes and traffic: the defaults.")
    archive_overhead: ArchiveOverheadOut


class InputsOut(_Out):
    daily_uploads: int
    variants: list[str] = Field(description="Variants kept besides the original.")
    originals_class: str
    cdn: bool
    cdn_hit_rate: float
    views_per_upload: float
    view_kb: float
    months: int


class AmountOut(_Out):
    tb: float
    usd: float


class MonthOut(_Out):
    month: int
    stored_tb: float = Field(description="Everything uploaded so far (months x one month).")
    storage_usd: float
    egress_usd: float
    sql_usd: float
    total_usd: float


class EstimateOut(_Out):
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
    """The estimate and the sheet it was priced on, as the API answers them."""
    inputs = result.inputs
    return EstimateOut.model_validate(
        {
            **vars(result),
            "inputs": InputsOut.model_validate(
                {**vars(inputs), "originals_class": inputs.originals_class.value}
            ),
            "price_sheet": price_sheet_body(sheet),
        }
    )
