"""Where imported photos come from: a folder of photos, an export archive (a tar, as
`shutterbox export` writes it) or a folder that is an extracted export.

A photo with a sidecar beside it (the same name ending in ``.json``, see
``domain.export_archive``) comes with the details the sidecar gives; a sidecar that cannot
be read refuses its photo, so that nothing meant to be private arrives public. An archive
is read in place, one member at a time: nothing is extracted but the photo being staged
(into a staging file of its own name, never under a name the archive gives). Links, special
files, absolute names and names with ``..``, members larger than the upload limit and sidecars
larger than ``MAX_SIDECAR_BYTES`` are refused, each with its reason.
"""

from __future__ import annotations

import functools
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType

from shutterbox.domain import export_archive as layout
from shutterbox.domain.details import DetailLimits
from shutterbox.domain.errors import InvalidInput
from shutterbox.services.images.staging import (
    StagedFile,
    Stager,
    stage_local_file,
    too_large_message,
)

_READ_FAILURES = (tarfile.TarError, EOFError, OSError)


@dataclass
class Candidate:
    """A photo to import: ``stage`` copies it into staging (blocking: run it in a thread)."""

    name: str  # for reports: the file's path, or the archive's name and the member's
    stage: Callable[[], StagedFile] | None = None
    sidecar: layout.Sidecar | None = None
    refused: str | None = None  # why it is not imported, known before reading it


def files_to_import(folder: Path) -> list[Path]:
    """Every file under ``folder``, none hidden (nor in a hidden folder), in name order."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def _is_json(name: str) -> bool:
    return name.lower().endswith(layout.SIDECAR_SUFFIX)


class ImportSource:
    """The photos at ``path`` (a folder or a tar archive). Use it as a context manager: an
    archive stays open while its photos are staged."""

    def __init__(self, path: Path, staging_dir: Path, max_bytes: int, limits: DetailLimits):
        self.path = path
        self.staging_dir = staging_dir
        self.max_bytes = max_bytes
        self.limits = limits
        self._archive: tarfile.TarFile | None = None

    def __enter__(self) -> ImportSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._archive is not None:
            self._archive.close()
            self._archive = None

    def candidates(self) -> list[Candidate]:
        """What there is to import, in order (blocking: run it in a thread). ``InvalidInput``
        if ``path`` is neither a folder nor a readable archive, or is an export of a newer
        format than this version reads."""
        if self.path.is_dir():
            return self._in_folder()
        return self._in_archive()

    # A folder ---------------------------------------------------------------------------

    def _in_folder(self) -> list[Candidate]:
        found: list[Candidate] = []
        manifest = self.path / layout.MANIFEST_NAME
        if manifest.is_file():
            found.extend(self._manifest(str(manifest), lambda: _read_small(manifest)))
        for path in files_to_import(self.path):
            if _is_json(path.name):
                continue  # sidecars and the export's description: read with their photos
            candidate = Candidate(
                str(path),
                stage=functools.partial(stage_local_file, self.staging_dir, self.max_bytes, path),
            )
            sidecar = path.with_suffix(layout.SIDECAR_SUFFIX)
            if sidecar.is_file():
                self._read_sidecar(candidate, sidecar.name, functools.partial(_read_small, sidecar))
            found.append(candidate)
        return found

    # An archive -------------------------------------------------------------------------

    def _in_archive(self) -> list[Candidate]:
        try:
            self._archive = tarfile.open(self.path, "r:*")  # noqa: SIM115 (closed on exit)
        except _READ_FAILURES as exc:
            raise InvalidInput(f"{self.path} is neither a folder nor a tar archive: {exc}") from exc
        members, damage = _members(self._archive)
        found: list[Candidate] = []
        if damage is not None:
            found.append(Candidate(str(self.path), refused=damage))
        photos: list[tarfile.TarInfo] = []
        sidecars: dict[str, tarfile.TarInfo] = {}
        for member in members:
            if member.isdir():
                continue
            refusal = self._refusal(member)
            if refusal is not None:
                found.append(Candidate(self._label(member), refused=refusal))
            elif PurePosixPath(member.name).name == layout.MANIFEST_NAME:
                read = functools.partial(self._read_member, member)
                found.extend(self._manifest(self._label(member), read))
            elif _is_json(member.name):
                sidecars[member.name] = member
            else:
                photos.append(member)
        for photo in photos:
            candidate = Candidate(
                self._label(photo), stage=functools.partial(self._stage_member, photo)
            )
            sidecar = sidecars.get(layout.sidecar_name_for(photo.name))
            if sidecar is not None:
                read = functools.partial(self._read_member, sidecar)
                self._read_sidecar(candidate, sidecar.name, read)
            found.append(candidate)
        return found

    def _label(self, member: tarfile.TarInfo) -> str:
        return f"{self.path.name}:{member.name}"

    def _refusal(self, member: tarfile.TarInfo) -> str | None:
        if member.issym() or member.islnk():
            return f"a link (to {member.linkname!r}): links are not imported"
        if not member.isreg():
            return "not a regular file: only files are imported"
        name = PurePosixPath(member.name)
        if name.is_absolute():
            return "an absolute name: names in an archive must be relative"
        if ".." in name.parts:
            return "a name with '..': names must stay inside the archive"
        if _is_json(member.name) and member.size > layout.MAX_SIDECAR_BYTES:
            return f"a JSON file larger than {layout.MAX_SIDECAR_BYTES // 1024} KB"
        if member.size > self.max_bytes:
            return too_large_message(self.max_bytes)
        return None

    def _read_member(self, member: tarfile.TarInfo) -> bytes:
        assert self._archive is not None
        try:
            handle = self._archive.extractfile(member)
            assert handle is not None, "only regular files are read"
            data = handle.read(layout.MAX_SIDECAR_BYTES + 1)
        except _READ_FAILURES as exc:
            raise InvalidInput(f"it cannot be read from the archive: {exc}") from exc
        if len(data) != member.size:
            raise InvalidInput("it is cut off in the archive")
        return data

    def _stage_member(self, member: tarfile.TarInfo) -> StagedFile:
        assert self._archive is not None
        with Stager(self.staging_dir, self.max_bytes, prefix="import-") as stager:
            try:
                handle = self._archive.extractfile(member)
                assert handle is not None, "only regular files are staged"
                stager.copy_from_file(handle)
            except _READ_FAILURES as exc:
                raise InvalidInput(f"it cannot be read from the archive: {exc}") from exc
            if stager.size != member.size:
                raise InvalidInput("it is cut off in the archive")
            return stager.finish_picture()

    # Sidecars and the export's description ----------------------------------------------

    def _read_sidecar(self, candidate: Candidate, name: str, read: Callable[[], bytes]) -> None:
        try:
            candidate.sidecar = layout.read_sidecar(read(), self.limits)
        except InvalidInput as bad:
            candidate.refused = f"its sidecar {PurePosixPath(name).name}: {bad.message}"

    def _manifest(self, name: str, read: Callable[[], bytes]) -> list[Candidate]:
        """Nothing when the export's description is readable; a refusal to report if not.
        ``InvalidInput`` (the whole import) for an export of a newer format."""
        try:
            raw = read()
        except InvalidInput as bad:
            return [Candidate(name, refused=bad.message)]
        problem = layout.manifest_problem(raw)
        return [] if problem is None else [Candidate(name, refused=problem)]


def _members(archive: tarfile.TarFile) -> tuple[list[tarfile.TarInfo], str | None]:
    """The archive's members, read up to any damage, and what the damage is."""
    members: list[tarfile.TarInfo] = []
    try:
        for member in archive:
            members.append(member)
    except _READ_FAILURES as exc:
        return members, f"the archive is damaged after {len(members)} members: {exc}"
    return members, None


def _read_small(path: Path) -> bytes:
    if path.stat().st_size > layout.MAX_SIDECAR_BYTES:
        raise InvalidInput(f"larger than {layout.MAX_SIDECAR_BYTES // 1024} KB")
    return path.read_bytes()
