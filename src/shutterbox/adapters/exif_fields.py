"""Reading the EXIF values libvips exposes as ``exif-ifdN-Name`` strings.

libvips renders each as ``"<raw> (<formatted>, <type>, <n> components, <n> bytes)"``, e.g.
``"28/10 (f/2.8, Rational, 1 components, 8 bytes)"``. These helpers take the raw part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

FieldReader = Callable[[str], str | None]


@dataclass(frozen=True)
class PhotoMetadata:
    taken_at: datetime | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    lens: str | None = None
    exposure_time: str | None = None
    f_number: float | None = None
    iso: int | None = None
    focal_length_mm: float | None = None


def _raw(value: str | None) -> str | None:
    if value is None:
        return None
    raw = value.split(" (", 1)[0].strip().strip("\x00").strip()
    return raw or None


def _text(read: FieldReader, field: str, limit: int = 100) -> str | None:
    raw = _raw(read(field))
    if raw is None:
        return None
    printable = "".join(c for c in raw if c.isprintable())
    return printable[:limit].strip() or None


def _rationals(read: FieldReader, field: str) -> list[Fraction]:
    raw = _raw(read(field))
    if raw is None:
        return []
    values = []
    for part in raw.split():
        try:
            values.append(Fraction(part))
        except (ValueError, ZeroDivisionError):
            return []
    return values


def _first_rational(read: FieldReader, field: str) -> Fraction | None:
    values = _rationals(read, field)
    return values[0] if values else None


def _taken_at(read: FieldReader) -> datetime | None:
    for field in (
        "exif-ifd2-DateTimeOriginal",
        "exif-ifd2-DateTimeDigitized",
        "exif-ifd0-DateTime",
    ):
        text = _text(read, field)
        if text:
            try:
                return datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
            except ValueError:
                continue
    return None


def _exposure(value: Fraction | None) -> str | None:
    if value is None or value <= 0 or value > 3600:
        return None
    if value >= 1:
        return f"{float(value):g}"
    return f"1/{round(1 / value)}"


def photo_metadata(read: FieldReader) -> PhotoMetadata:
    f_number = _first_rational(read, "exif-ifd2-FNumber")
    focal = _first_rational(read, "exif-ifd2-FocalLength")
    iso = _first_rational(read, "exif-ifd2-ISOSpeedRatings") or _first_rational(
        read, "exif-ifd2-PhotographicSensitivity"
    )
    return PhotoMetadata(
        taken_at=_taken_at(read),
        camera_make=_text(read, "exif-ifd0-Make"),
        camera_model=_text(read, "exif-ifd0-Model"),
        lens=_text(read, "exif-ifd2-LensModel"),
        exposure_time=_exposure(_first_rational(read, "exif-ifd2-ExposureTime")),
        f_number=round(float(f_number), 1) if f_number and 0 < f_number < 1000 else None,
        iso=int(iso) if iso and 0 < iso < 10_000_000 else None,
        focal_length_mm=round(float(focal), 1) if focal and 0 < focal < 100_000 else None,
    )


def _degrees(values: list[Fraction]) -> float | None:
    if len(values) != 3:
        return None
    degrees, minutes, seconds = values
    return float(degrees + minutes / 60 + seconds / 3600)


def gps_position(read: FieldReader) -> tuple[float, float] | None:
    """(lat, lon) in decimal degrees from the GPS IFD, or None if absent or nonsensical."""
    lat = _degrees(_rationals(read, "exif-ifd3-GPSLatitude"))
    lon = _degrees(_rationals(read, "exif-ifd3-GPSLongitude"))
    if lat is None or lon is None:
        return None
    if (_text(read, "exif-ifd3-GPSLatitudeRef") or "N").upper().startswith("S"):
        lat = -lat
    if (_text(read, "exif-ifd3-GPSLongitudeRef") or "E").upper().startswith("W"):
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return round(lat, 6), round(lon, 6)
