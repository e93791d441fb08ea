"""The vendored scripts are the very files their README names, unchanged."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[2] / "src/shutterbox/entrypoints/web/static/vendor"


def test_each_vendored_file_has_the_checksum_its_readme_gives():
    rows = re.findall(
        r"^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$", (VENDOR / "README.md").read_text(), re.M
    )
    assert rows, "the README lists no files"
    for name, sha256 in rows:
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == sha256, name
    listed = {name for name, _ in rows}
    scripts = {p.name for p in VENDOR.glob("*.js")}
    assert scripts == listed
