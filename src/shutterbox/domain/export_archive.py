"""The layout of an export archive: what `shutterbox export` and ``GET /api/v1/users/me/export``
write, and what `shutterbox import` reads back.

An uncompressed tar (POSIX pax headers, as Python's ``tarfile`` writes them)::

    shutterbox-export.json     the export: format version, username, as of when, how many
    images/<id>.json           an image's sidecar: its details (before its original, so that
    images/<id>.<ext>          a reader going front to back knows them), then its original

The images come oldest first (by created time, then id), each member's mtime is the image's
created time, and nothing in the archive depends on the moment it is made: the same images
with the same details always give the same bytes. So every member's offset follows from the
list of members and their sizes, and any byte range of the archive can be sent without
reading the members before it (a download resumes with ``Range``).
"""

from __future__ import annotations

import json
import math
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from shutterbox.domain.details import DetailLimits, UploadDetails, details_from
from shutterbox.domain.errors import InvalidInput
from shutterbox.domain.images import Image, Visibility

FORMAT = "shutterbox-export"
FORMAT_VERSION = 1
MANIFEST_NAME = "shutterbox-export.json"
IMAGES_FOLDER = "images"
SIDECAR_SUFFIX = ".json"
MAX_SIDECAR_BYTES = 64 * 1024
MEDIA_TYPE = "application/x-tar"
BLOCK = tarfile.BLOCKSIZE
RECORD = tarfile.RECORDSIZE


def original_member(image: Image) -> str:
    extension = PurePosixPath(image.original_key).suffix or ".bin"
    return f"{IMAGES_FOLDER}/{image.id}{extension}"


def sidecar_member(image: Image) -> str:
    return f"{IMAGES_FOLDER}/{image.id}{SIDECAR_SUFFIX}"


def sidecar_name_for(photo_name: str) -> str:
    """Where a photo's sidecar is, in an archive or a folder: the same name, ``.json``."""
    return str(PurePosixPath(photo_name).with_suffix(SIDECAR_SUFFIX))


def header(name: str, size: int, mtime: datetime) -> bytes:
    """The tar header of a regular file: the same bytes for the same name, size and time."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime.replace(tzinfo=UTC).timestamp())
    info.mode = 0o644
    info.uname = info.gname = ""
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def padding(size: int) -> bytes:
    """The zeros after a member's data, up to the next block."""
    return bytes(-size % BLOCK)


def end_of_archive(length_so_far: int) -> bytes:
    """Two zero blocks, then zeros up to a whole record (as ``tarfile`` ends an archive)."""
    length = length_so_far + 2 * BLOCK
    return bytes(2 * BLOCK + (-length % RECORD))


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat() + "Z"


def _to_json(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def sidecar(image: Image) -> bytes:
    """An image's details as JSON. shutterbox keeps no original filename: there is none."""
    place = None
    if image.location_name is not None or image.lat is not None:
        place = {"name": image.location_name, "lat": image.lat, "lon": image.lon}
    return _to_json(
        {
            "format_version": FORMAT_VERSION,
            "id": image.id,
            "caption": image.caption,
            "tags": image.tags,
            "alt_text": image.alt_text,
            "place": place,
            "visibility": image.visibility.value,
            "status": image.status.value,
            "created_at": _when(image.created_at),
            "taken_at": _when(image.taken_at),
            "width": image.width,
            "height": image.height,
            "camera": {
                "make": image.camera_make,
                "model": image.camera_model,
                "lens": image.lens,
                "exposure_time": image.exposure_time,
                "f_number": image.f_number,
                "iso": image.iso,
                "focal_length_mm": image.focal_length_mm,
            },
            "original": {
                "file": PurePosixPath(original_member(image)).name,
                "media_type": image.original_media_type,
                "bytes": image.original_bytes,
                "sha256": image.original_sha256,
            },
        }
    )


def manifest(
    username: str, as_of: datetime, count: int, not_included: list[dict[str, str]]
) -> bytes:
    """The top-level JSON. ``as_of``: the newest time recorded on the exported images (not
    the moment of the request, which would change the bytes of every download)."""
    return _to_json(
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "username": username,
            "as_of": _when(as_of),
            "images": count,
            "not_included": not_included,
        }
    )


@dataclass(frozen=True)
class Sidecar:
    """What an imported photo's sidecar says about it."""

    details: UploadDetails
    created_at: datetime | None
    taken_at: datetime | None
    sha256: str | None


def _field(document: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any) -> Any:
    value = document.get(name, default)
    if value is None or value is default:
        return value
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise InvalidInput(f"the sidecar's {name!r} has the wrong type")
    return value


def _moment(document: dict[str, Any], name: str) -> datetime | None:
    raw = _field(document, name, str, None)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput(f"the sidecar's {name!r} is not a time: {raw[:40]!r}") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _coordinate(place: dict[str, Any], name: str) -> float | None:
    value = _field(place, name, (int, float), None)
    if value is not None and not math.isfinite(value):
        raise InvalidInput(f"the sidecar's place {name} is not a number")
    return None if value is None else float(value)


def read_sidecar(raw: bytes, limits: DetailLimits) -> Sidecar:
    """A sidecar's details, checked as any upload's are; ``InvalidInput`` saying what is
    wrong with it."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"the sidecar is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidInput("the sidecar is not a JSON object")
    version = _field(document, "format_version", int, FORMAT_VERSION)
    if version > FORMAT_VERSION:
        raise InvalidInput(f"the sidecar is of a newer format ({version}) than this shutterbox")
    place = _field(document, "place", dict, None) or {}
    tags = _field(document, "tags", list, [])
    if not all(isinstance(tag, str) for tag in tags):
        raise InvalidInput("the sidecar's 'tags' must be strings")
    try:
        visibility = Visibility(_field(document, "visibility", str, Visibility.PUBLIC.value))
    except ValueError as exc:
        raise InvalidInput("the sidecar's 'visibility' must be 'public' or 'private'") from exc
    details = details_from(
        limits,
        caption=_field(document, "caption", str, ""),
        tags=tags,
        alt_text=_field(document, "alt_text", str, ""),
        location=_field(place, "name", str, None),
        lat=_coordinate(place, "lat"),
        lon=_coordinate(place, "lon"),
        visibility=visibility,
    )
    original = _field(document, "original", dict, None) or {}
    return Sidecar(
        details=details,
        created_at=_moment(document, "created_at"),
        taken_at=_moment(document, "taken_at"),
        sha256=_field(original, "sha256", str, None),
    )


def manifest_problem(raw: bytes) -> str | None:
    """What is wrong with an archive's top-level JSON (None: nothing). ``InvalidInput`` when
    it says the export is of a format newer than this shutterbox reads."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        return f"not valid JSON: {exc}"
    version = document.get("format_version") if isinstance(document, dict) else None
    if not isinstance(version, int) or isinstance(version, bool):
        return "it has no format_version"
    if version > FORMAT_VERSION:
        raise InvalidInput(
            f"the export is of format {version}, newer than this shutterbox reads "
            f"({FORMAT_VERSION}): import it with a newer version"
        )
    return None
