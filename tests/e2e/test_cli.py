"""The batch commands: import a folder, reprocess images."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.imagegen import jpeg_bytes, png_bytes
from tests.support.cli import invoke, sqlite_rows

pytestmark = pytest.mark.e2e


def _run(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = invoke(env, *args, stdin=stdin)
    return result.exit_code, result.output


def test_import_a_folder_then_reprocess(tmp_path: Path, env: dict[str, str]):
    folder = tmp_path / "photos"
    (folder / "2023").mkdir(parents=True)
    (folder / ".thumbnails").mkdir()
    same = jpeg_bytes(800, 600)
    (folder / "a.jpg").write_bytes(same)
    (folder / "2023" / "copy-of-a.jpg").write_bytes(same)
    (folder / "2023" / "b.png").write_bytes(png_bytes(300, 200, "RGB"))
    (folder / "notes.txt").write_text("not a photo")
    broken = jpeg_bytes(900, 700, noise=True)
    (folder / "cut.jpg").write_bytes(broken[: len(broken) // 2])
    (folder / ".thumbnails" / "t.jpg").write_bytes(jpeg_bytes(50, 50))

    code, out = _run(env, "users", "create", "carol", stdin="password1\npassword1\n")
    assert code == 0, out
    code, out = _run(env, "import", str(folder), "--user", "carol", "--tags", "archive")
    assert code == 0, out
    assert "3 imported (2 ready, 1 failed), 1 duplicates skipped, 1 refused" in out
    assert "notes.txt: the file is not a picture" in out
    assert "cut.jpg: the file is cut off" in out
    assert sqlite_rows(env, "select status, count(*) from images group by status order by 1") == [
        ("failed", 1),
        ("ready", 2),
    ]
    assert sqlite_rows(env, "select distinct tag from image_tags") == [("archive",)]

    before = dict(
        sqlite_rows(env, "select image_id || name, sha256 from variants where format = 'jpeg'")
    )
    code, out = _run(env, "reprocess", "--all")
    assert code == 1  # the cut-off file still fails, and says so
    assert "2 ready, 1 failed" in out and "cut off" in out
    env_quality = {**env, "SHUTTERBOX_JPEG_QUALITY": "60"}
    ready_ids = [row[0] for row in sqlite_rows(env, "select id from images where status='ready'")]
    code, out = _run(env_quality, "reprocess", *ready_ids)
    assert code == 0, out
    after = dict(
        sqlite_rows(env, "select image_id || name, sha256 from variants where format = 'jpeg'")
    )
    assert after.keys() == before.keys()
    assert all(after[k] != before[k] for k in after)  # new bytes at the lower quality


def test_reprocess_needs_a_choice_and_known_ids(env: dict[str, str]):
    code, out = _run(env, "reprocess")
    assert code != 0 and "--all" in out
    code, out = _run(env, "reprocess", "nosuchimage")
    assert code == 1 and "no such image: nosuchimage" in out


def test_import_for_an_unknown_user(tmp_path: Path, env: dict[str, str]):
    (tmp_path / "empty").mkdir()
    code, out = _run(env, "import", str(tmp_path / "empty"), "--user", "nobody")
    assert code == 1 and "no user called 'nobody'" in out
