"""`shutterbox scrub` from the shell: exit statuses 0/1/2, the JSON report and the table."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shutterbox.entrypoints.cli import app
from tests.imagegen import jpeg_bytes

pytestmark = pytest.mark.e2e


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"SHUTTERBOX_DATA_DIR": str(tmp_path / "data"), "SHUTTERBOX_WORKERS": "2"}


def _run(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env, input=stdin)
    return result.exit_code, result.stdout


def _scrub_json(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out = _run(env, "scrub", "--json", *args)
    return code, json.loads(out)


def _blob(env: dict[str, str], key: str) -> Path:
    return Path(env["SHUTTERBOX_DATA_DIR"]) / "blobs" / key


def _one(env: dict[str, str], sql: str) -> Any:
    db = sqlite3.connect(Path(env["SHUTTERBOX_DATA_DIR"]) / "shutterbox.db")
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


def test_scrub_exit_statuses_and_json(tmp_path: Path, env: dict[str, str]):
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(jpeg_bytes(1400, 1000))  # all three sizes
    assert _run(env, "users", "create", "dora", stdin="password1\npassword1\n")[0] == 0
    code, out = _run(env, "import", str(folder), "--user", "dora")
    assert code == 0 and "1 imported (1 ready" in out, out

    code, report = _scrub_json(env)
    assert code == 0, report
    assert report["clean"] is True and report["exit_status"] == 0
    assert report["images_checked"] == 1 and report["problems"] == []
    assert report["blobs_checked"] == report["blobs_listed"] == 7  # original + 6 variants

    thumb = _one(env, "select key from variants where name = 'thumb' and format = 'jpeg'")
    _blob(env, thumb).unlink()
    orphan = _blob(env, "originals/2020/05/06/oooooooooooooooo.jpg")
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"an upload that never got its row")
    three_days_ago = time.time() - 3 * 86400
    os.utime(orphan, (three_days_ago, three_days_ago))

    code, report = _scrub_json(env, "--grace-hours", "100")  # the orphan is younger than that
    assert code == 1
    assert [(p["kind"], p["key"], p["repaired"]) for p in report["problems"]] == [
        ("missing_variant", thumb, False)
    ]
    assert report["recent_unreferenced"] == 1

    code, report = _scrub_json(env, "--repair", "--grace-hours", "48")
    assert code == 1  # problems were found, even though all are repaired
    assert sorted((p["kind"], p["repaired"]) for p in report["problems"]) == [
        ("missing_variant", True),
        ("orphan", True),
    ]
    assert _blob(env, thumb).is_file() and not orphan.exists()

    code, out = _run(env, "scrub")
    assert code == 0 and "clean" in out, out

    original = _one(env, "select original_key from images")
    _blob(env, original).unlink()
    code, report = _scrub_json(env, "--repair")
    assert code == 2
    assert [(p["kind"], p["repairable"]) for p in report["problems"]] == [
        ("missing_original", False)
    ]
    code, out = _run(env, "scrub")
    assert code == 2
    assert "missing_original" in out and "cannot be repaired" in out
