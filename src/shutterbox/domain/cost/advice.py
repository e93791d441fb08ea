"""What an estimate says in words: the verdict naming the choices, and the advice naming the
biggest line item and the what-if that would cut it (the same workload with one choice
changed, priced again)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from shutterbox.domain.cost import monthly
from shutterbox.domain.cost.inputs import ResolvedInputs, as_inputs, resolve
from shutterbox.domain.cost.prices import PriceSheet
from shutterbox.domain.images import VARIANT_NAMES
from shutterbox.domain.storage import StorageClass

if TYPE_CHECKING:
    from shutterbox.domain.cost.estimate import Estimate

CLASS_NAMES = {
    StorageClass.STANDARD: "Standard",
    StorageClass.STANDARD_IA: "Standard-IA",
    StorageClass.GLACIER_IR: "Glacier Instant Retrieval",
    StorageClass.GLACIER: "Glacier Flexible Retrieval",
    StorageClass.DEEP_ARCHIVE: "Glacier Deep Archive",
}
_COUNT_WORDS = {1: "One", 2: "Two", 3: "Three", 4: "Four"}


def verdict(inputs: ResolvedInputs) -> str:
    """One line naming the choices, e.g. ``All four variants · Standard storage · CDN
    enabled``."""
    kept = ("original", *inputs.variants)
    if len(kept) == 1 + len(VARIANT_NAMES):
        variants = "All four variants"
    elif len(kept) == 1:
        variants = "Originals only"
    else:
        variants = f"{_COUNT_WORDS[len(kept)]} variants ({', '.join(kept)})"
    if inputs.originals_class == StorageClass.STANDARD:
        storage = "Standard storage"
    else:
        storage = f"Originals in {CLASS_NAMES[inputs.originals_class]}"
    cdn = "CDN enabled" if inputs.cdn else "No CDN"
    return f"{variants} · {storage} · {cdn}"


def usd_text(value: float) -> str:
    return f"${value:,.0f}" if abs(value) >= 100 else f"${value:,.2f}"


def what_if(inputs: ResolvedInputs, sheet: PriceSheet, **changes: Any) -> tuple[float, float]:
    """Storage and egress dollars of a month of the same workload with some choices
    changed."""
    alternative = resolve(replace(as_inputs(inputs), months=1, **changes), sheet)
    return monthly.storage(alternative, sheet).usd, monthly.egress(alternative, sheet).usd


def _egress_advice(result: Estimate, sheet: PriceSheet, share: str) -> str:
    inputs = result.inputs
    if not inputs.cdn:
        _, with_cdn = what_if(inputs, sheet, cdn=True)
        return (
            f"Egress is the biggest line ({share}): serving views through a CDN would cut "
            f"it to {usd_text(with_cdn)} at a {inputs.cdn_hit_rate:.0%} hit rate."
        )
    _, lighter = what_if(inputs, sheet, view_kb=inputs.view_kb * 0.7)
    return (
        f"Egress is the biggest line ({share}) and grows with views x bytes per view: "
        f"views 30% lighter (WebP or AVIF display sizes) would cut it to {usd_text(lighter)}."
    )


def _storage_advice(result: Estimate, sheet: PriceSheet, share: str) -> str:
    inputs = result.inputs
    last = result.months[-1]
    growth = (
        f"; it grows every month, to {usd_text(last.storage_usd)} in month {last.month}"
        if len(result.months) > 1
        else ""
    )
    if inputs.originals_class != StorageClass.DEEP_ARCHIVE and inputs.daily_uploads > 0:
        archived, _ = what_if(inputs, sheet, originals_class=StorageClass.DEEP_ARCHIVE)
        cut = 1 - archived / result.storage_usd
        if cut > 0.05:
            return (
                f"Storage is the biggest line ({share}{growth}): moving the originals "
                f"to {CLASS_NAMES[StorageClass.DEEP_ARCHIVE]} would cut it by {cut:.0%} to "
                f"{usd_text(archived)}, at the price of restores that take "
                f"hours."
            )
    if inputs.variants:
        largest = max(inputs.variants, key=lambda n: sheet.size(f"{n}_kb"))
        rest = tuple(n for n in inputs.variants if n != largest)
        without, _ = what_if(inputs, sheet, variants=rest)
        return (
            f"Storage is the biggest line ({share}{growth}): the originals are already in "
            f"the cheapest class, and dropping the {largest} variant would cut it to "
            f"{usd_text(without)}."
        )
    return (
        f"Storage is the biggest line ({share}{growth}), and it is already as lean as it "
        f"gets: originals only, in the cheapest class."
    )


def advice(result: Estimate, sheet: PriceSheet) -> str:
    """One sentence from the numbers: the biggest line item and what would cut it."""
    lines = {"storage": result.storage_usd, "egress": result.egress_usd, "sql": result.sql_usd}
    if result.total_usd <= 0:
        return "Nothing to pay for: the price sheet prices everything at zero."
    biggest = max(lines, key=lambda k: lines[k])
    share = f"{usd_text(lines[biggest])} of {usd_text(result.total_usd)}/month"
    if biggest == "egress":
        return _egress_advice(result, sheet, share)
    if biggest == "storage":
        return _storage_advice(result, sheet, share)
    return (
        f"The database is the biggest line ({share}): at this volume the embedded SQLite file "
        f"(no instance to pay for) or a smaller instance would do."
    )
