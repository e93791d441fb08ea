"""The cost lab page (``/lab``): the form's choices and its inputs read from the query string.

The page only shows the form; ``lab.js`` asks ``GET /api/v1/cost/estimate`` for the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import QueryParams

from shutterbox.domain import cost
from shutterbox.domain.images import VARIANTS_BY_SIZE
from shutterbox.entrypoints.http.routing import Router
from shutterbox.entrypoints.web.rendering import render


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    detail: str
    short: str = ""
    size: str = ""


# The packaged sheet's typical sizes (the seed's), shown until the estimate brings the price
# sheet's own; the API does all the arithmetic.
SEED_SHEET = cost.load_price_sheet()


def _kb_text(kb: float) -> str:
    return f"{kb / 1000:g} MB" if kb >= 1000 else f"{kb:g} KB"


LAB_VARIANTS = tuple(
    Choice(
        spec.name,
        spec.label,
        f"{spec.max_side} px",
        size=_kb_text(SEED_SHEET.size(f"{spec.name}_kb")),
    )
    for spec in VARIANTS_BY_SIZE
)
ORIGINAL = Choice(
    "original", "Original", "as uploaded", size=_kb_text(SEED_SHEET.size("original_kb"))
)
LAB_STORAGE_CLASSES = (
    Choice("STANDARD", "Standard", "Read in milliseconds; no minimum duration", "Standard"),
    Choice(
        "STANDARD_IA",
        "Standard-IA",
        "Read in milliseconds; 30-day minimum, a fee per GB read",
        "Standard-IA",
    ),
    Choice(
        "GLACIER_IR",
        "Glacier Instant Retrieval",
        "Read in milliseconds; 90-day minimum, a fee per GB read",
        "Glacier IR",
    ),
    Choice(
        "GLACIER",
        "Glacier Flexible Retrieval",
        "Restored before a read: minutes to hours; 90-day minimum",
        "Glacier",
    ),
    Choice(
        "DEEP_ARCHIVE",
        "Glacier Deep Archive",
        "Restored before a read: up to 12 hours; 180-day minimum",
        "Deep Archive",
    ),
)
LAB_FIELDS = (
    "daily_uploads",
    "variants",
    "originals_class",
    "cdn",
    "cdn_hit_rate",
    "views_per_upload",
)


def _number(raw: str | None, default: float, low: float, high: float) -> float:
    try:
        value = float(raw) if raw is not None else default
    except ValueError:
        return default
    return value if low <= value <= high else default


@dataclass(frozen=True)
class LabInputs:
    """The lab's inputs as the form shows them; the seed's scenario by default.

    Read from the page's query string (the same parameters as ``GET /api/v1/cost/estimate``),
    so that a scenario can be linked to; anything unreadable falls back to the default.
    """

    daily_uploads: int = cost.DEFAULT_INPUTS.daily_uploads
    variants: tuple[str, ...] = cost.DEFAULT_INPUTS.variants
    originals_class: str = cost.DEFAULT_INPUTS.originals_class.value
    cdn: bool = cost.DEFAULT_INPUTS.cdn
    cdn_hit_rate: float = SEED_SHEET.size("cdn_hit_rate")
    views_per_upload: float = SEED_SHEET.size("views_per_upload")

    @classmethod
    def from_query(cls, query: QueryParams) -> LabInputs:
        default = cls()
        if not any(name in query for name in LAB_FIELDS):
            return default
        names = {v.value for v in LAB_VARIANTS}
        asked = [part.strip() for raw in query.getlist("variants") for part in raw.split(",")]
        classes = {c.value for c in LAB_STORAGE_CLASSES}
        originals_class = query.get("originals_class", default.originals_class).upper()
        return cls(
            daily_uploads=int(
                _number(query.get("daily_uploads"), default.daily_uploads, 0, 1_000_000_000)
            ),
            variants=tuple(v.value for v in LAB_VARIANTS if v.value in names & set(asked)),
            originals_class=originals_class if originals_class in classes else "STANDARD",
            # A submitted form leaves an unticked checkbox out: absent means off.
            cdn=query.get("cdn", "false").lower() in ("true", "1", "on", "yes"),
            cdn_hit_rate=_number(query.get("cdn_hit_rate"), default.cdn_hit_rate, 0, 1),
            views_per_upload=_number(
                query.get("views_per_upload"), default.views_per_upload, 0, 1_000_000
            ),
        )


router = Router(include_in_schema=False)


@router.get("/lab", response_class=HTMLResponse)
async def read_lab(request: Request) -> HTMLResponse:
    """The cost lab: the seed's calculator, computed by ``GET /api/v1/cost/estimate``."""
    return await render(
        request,
        "lab.html",
        {
            "active": "lab",
            "inputs": LabInputs.from_query(request.query_params),
            "variants": LAB_VARIANTS,
            "original": ORIGINAL,
            "storage_classes": LAB_STORAGE_CLASSES,
        },
    )
