"""The price sheet: what each storage class, egress path and the database cost, where each
price comes from, and the typical sizes and traffic the estimate defaults to.

The packaged sheet is ``shutterbox/pricing/prices.toml``; an operator may point
``SHUTTERBOX_PRICE_SHEET_PATH`` at a copy. ``parse_price_sheet`` checks every key (a price
without a source, a size that is not a number, a missing table) and says what is wrong.

Units are decimal, as in the seed's arithmetic: KB = 10^3 bytes, MB = 10^6, GB = 10^9,
TB = 10^12.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from shutterbox.domain.storage import StorageClass

KB = 1_000
MB = 1_000_000
GB = 1_000_000_000
TB = 1_000_000_000_000

STORAGE_PRICE_KEYS = {
    StorageClass.STANDARD: "storage_standard",
    StorageClass.STANDARD_IA: "storage_standard_ia",
    StorageClass.GLACIER_IR: "storage_glacier_ir",
    StorageClass.GLACIER: "storage_glacier",
    StorageClass.DEEP_ARCHIVE: "storage_deep_archive",
}
PRICE_KEYS = (
    *STORAGE_PRICE_KEYS.values(),
    "internet_egress",
    "cdn_egress",
    "origin_to_cdn",
    "sql_instance_per_month",
    "sql_storage",
)
SIZE_KEYS = (
    "thumb_kb",
    "medium_kb",
    "full_kb",
    "original_kb",
    "views_per_upload",
    "view_kb",
    "cdn_hit_rate",
    "days_per_month",
    "sql_row_bytes",
)


class PriceSheetError(ValueError):
    """The price sheet is unreadable or incomplete; the message says what is wrong."""


@dataclass(frozen=True)
class Price:
    key: str
    value: float
    unit: str
    label: str
    source: str


@dataclass(frozen=True)
class PriceSheet:
    name: str
    currency: str
    units: str
    prices: dict[str, Price]
    sizes: dict[str, float]
    overhead_standard_bytes: int
    overhead_class_bytes: int
    overhead_source: str

    def usd(self, key: str) -> float:
        return self.prices[key].value

    def storage_usd(self, storage_class: StorageClass) -> float:
        """Price of one GB-month in this storage class."""
        return self.usd(STORAGE_PRICE_KEYS[storage_class])

    def size(self, key: str) -> float:
        return self.sizes[key]


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PriceSheetError(f"{where} must be a number, not {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < 0:
        raise PriceSheetError(f"{where} must be a finite number >= 0, not {value!r}")
    return number


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PriceSheetError(f"{where}.{key} must be a non-empty string")
    return value.strip()


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise PriceSheetError(f"the [{key}] table is missing")
    return value


def _prices(data: Mapping[str, Any]) -> dict[str, Price]:
    price_table = _table(data, "prices")
    missing = [key for key in PRICE_KEYS if key not in price_table]
    if missing:
        raise PriceSheetError(f"the price sheet has no price for: {', '.join(missing)}")
    prices: dict[str, Price] = {}
    for key in PRICE_KEYS:
        entry = price_table[key]
        where = f"prices.{key}"
        if not isinstance(entry, dict):
            raise PriceSheetError(f"{where} must be a table with value, unit, label and source")
        prices[key] = Price(
            key=key,
            value=_number(entry.get("value"), f"{where}.value"),
            unit=_text(entry, "unit", where),
            label=_text(entry, "label", where),
            source=_text(entry, "source", where),
        )
    return prices


def _sizes(data: Mapping[str, Any]) -> dict[str, float]:
    size_table = _table(data, "sizes")
    missing = [key for key in SIZE_KEYS if key not in size_table]
    if missing:
        raise PriceSheetError(f"the [sizes] table has no: {', '.join(missing)}")
    sizes = {key: _number(size_table[key], f"sizes.{key}") for key in SIZE_KEYS}
    if sizes["cdn_hit_rate"] > 1:
        raise PriceSheetError("sizes.cdn_hit_rate must be between 0 and 1")
    if sizes["days_per_month"] <= 0:
        raise PriceSheetError("sizes.days_per_month must be more than 0")
    return sizes


def parse_price_sheet(text: str) -> PriceSheet:
    """Read a price sheet in TOML (the layout of the packaged ``prices.toml``)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PriceSheetError(f"the price sheet is not valid TOML: {exc}") from exc
    prices = _prices(data)
    sizes = _sizes(data)
    overhead = _table(data, "archive_overhead")
    return PriceSheet(
        name=_text(data, "name", "the sheet"),
        currency=_text(data, "currency", "the sheet"),
        units=_text(data, "units", "the sheet"),
        prices=prices,
        sizes=sizes,
        overhead_standard_bytes=int(
            _number(overhead.get("standard_bytes"), "archive_overhead.standard_bytes")
        ),
        overhead_class_bytes=int(
            _number(overhead.get("class_bytes"), "archive_overhead.class_bytes")
        ),
        overhead_source=_text(overhead, "source", "archive_overhead"),
    )


def load_price_sheet(path: Path | None = None) -> PriceSheet:
    """The sheet at ``path``, or the packaged ``pricing/prices.toml``. Read on every call
    (it is small), so an edited file takes effect without a restart."""
    if path is None:
        text = resources.files("shutterbox").joinpath("pricing/prices.toml").read_text("utf-8")
        return parse_price_sheet(text)
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise PriceSheetError(f"cannot read the price sheet {str(path)!r}: {exc}") from exc
    try:
        return parse_price_sheet(text)
    except PriceSheetError as exc:
        raise PriceSheetError(f"{path}: {exc}") from exc
