"""What the embedded store holds on disk, for tests that check an operation left nothing."""

from __future__ import annotations

from pathlib import Path


def blob_files(data_dir: Path) -> set[str]:
    """Every file under the embedded store's directory (its staging files too), relative
    to it."""
    root = data_dir / "blobs"
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def originals(data_dir: Path) -> set[str]:
    return {name for name in blob_files(data_dir) if name.startswith("originals/")}
