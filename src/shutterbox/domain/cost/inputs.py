"""A workload to estimate: its inputs as given (``EstimateInputs``, built from raw values by
``EstimateInputs.from_values``) and resolved against a price sheet's typical values
(``ResolvedInputs``, every value checked)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypedDict, Unpack

from shutterbox.domain.cost.prices import PriceSheet
from shutterbox.domain.images import VARIANT_NAMES
from shutterbox.domain.storage import StorageClass, parse_storage_class

ALL_VARIANTS_TEXT = ",".join(VARIANT_NAMES)  # "thumb,medium,full": every variant kept


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


class WorkloadNumbers(TypedDict):
    """The inputs given as they are (no text to parse)."""

    daily_uploads: int
    cdn: bool
    cdn_hit_rate: float | None
    views_per_upload: float | None
    view_kb: float | None
    months: int


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

    @classmethod
    def from_values(
        cls, *, variants: str, originals_class: str, **numbers: Unpack[WorkloadNumbers]
    ) -> EstimateInputs:
        """The workload from the values a query string or a command line gives: variants as
        ``"thumb,medium"``, the class by name. ``ValueError`` says which value is wrong."""
        return cls(
            variants=parse_variants(variants),
            originals_class=parse_storage_class(originals_class),
            **numbers,
        )


DEFAULT_INPUTS = EstimateInputs()


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


def _or_typical(value: float | None, sheet: PriceSheet, key: str) -> float:
    return sheet.size(key) if value is None else value


def resolve(inputs: EstimateInputs, sheet: PriceSheet) -> ResolvedInputs:
    """Fill in the sheet's typical values and check every input; ``ValueError`` says what
    is wrong."""
    resolved = ResolvedInputs(
        daily_uploads=inputs.daily_uploads,
        variants=parse_variants(",".join(inputs.variants)),
        originals_class=StorageClass(inputs.originals_class),
        cdn=inputs.cdn,
        cdn_hit_rate=_or_typical(inputs.cdn_hit_rate, sheet, "cdn_hit_rate"),
        views_per_upload=_or_typical(inputs.views_per_upload, sheet, "views_per_upload"),
        view_kb=_or_typical(inputs.view_kb, sheet, "view_kb"),
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


def as_inputs(resolved: ResolvedInputs) -> EstimateInputs:
    """Resolved inputs back as a workload (to change a choice and estimate again)."""
    return EstimateInputs(**vars(resolved))
