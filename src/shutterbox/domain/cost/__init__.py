"""The cost model: what a deployment costs per month, from a price sheet.

Two uses share one sheet: ``estimate`` projects a workload that is described in numbers
(uploads a day, variants kept, storage class of the originals, CDN or not), and
``price_usage`` prices what a running deployment has actually measured.

- ``prices``: the price sheet (loading, validating, the sources of its prices).
- ``inputs``: a workload, from raw values (``EstimateInputs.from_values``) and resolved
  against the sheet's typical values.
- ``monthly``: one month of a workload, line by line (storage per class, egress per path,
  the database).
- ``estimate``: the estimate and its month-by-month projection.
- ``advice``: the verdict and the advice, with the what-ifs behind it.
- ``usage``: the live bill's arithmetic (measured usage priced a month at that rate).
"""

from __future__ import annotations

from shutterbox.domain.cost.advice import CLASS_NAMES, advice, usd_text, verdict, what_if
from shutterbox.domain.cost.estimate import Estimate, Month, estimate
from shutterbox.domain.cost.inputs import (
    ALL_VARIANTS_TEXT,
    DEFAULT_INPUTS,
    EstimateInputs,
    ResolvedInputs,
    parse_variants,
    resolve,
)
from shutterbox.domain.cost.monthly import EGRESS_PATHS, Amount
from shutterbox.domain.cost.prices import (
    GB,
    KB,
    MB,
    PRICE_KEYS,
    SIZE_KEYS,
    STORAGE_PRICE_KEYS,
    TB,
    Price,
    PriceSheet,
    PriceSheetError,
    load_price_sheet,
    parse_price_sheet,
)
from shutterbox.domain.cost.usage import MeasuredUsage, MonthlyCost, price_usage
from shutterbox.domain.images import VARIANT_NAMES

__all__ = [
    "ALL_VARIANTS_TEXT",
    "CLASS_NAMES",
    "DEFAULT_INPUTS",
    "EGRESS_PATHS",
    "GB",
    "KB",
    "MB",
    "PRICE_KEYS",
    "SIZE_KEYS",
    "STORAGE_PRICE_KEYS",
    "TB",
    "VARIANT_NAMES",
    "Amount",
    "Estimate",
    "EstimateInputs",
    "MeasuredUsage",
    "Month",
    "MonthlyCost",
    "Price",
    "PriceSheet",
    "PriceSheetError",
    "ResolvedInputs",
    "advice",
    "estimate",
    "load_price_sheet",
    "parse_price_sheet",
    "parse_variants",
    "price_usage",
    "resolve",
    "usd_text",
    "verdict",
    "what_if",
]
