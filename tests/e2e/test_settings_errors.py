"""Settings that fail clearly, and every documented value accepted.

docs/configuration.md is read as an operator reads it: for each setting, its default, its
examples ("e.g. ..."), the values that turn something off ("0: ...", "empty: ..."), the ends
of a range ("(1-100)"), the URL forms of a place, the forms of a rate, the choices of a list;
and from the code, every choice of a setting that has choices. Each value must load, on the
embedded default or (for what the page says is S3's) on a scaled installation; a few real
servers start with a representative set. A table of bad values must stop the commands with
exit status 2 and exactly one line on stderr naming the setting.
"""

from __future__ import annotations

import re
import subprocess
import typing
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from pydantic import ValidationError

from shutterbox.config import Settings
from shutterbox.config.problems import variable
from tests.support.cli import invoke
from tests.support.processes import clean_env, shutterbox_command
from tests.support.server import ServerProcess
from tests.support.servers import require_redis

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "configuration.md"
ROW = re.compile(r"^\| `(SHUTTERBOX_[A-Z_]+)` \| (.*?) \| (.*) \|$", re.M)


def documented() -> dict[str, tuple[str, str]]:
    """Each setting's variable → (its default cell, its description) as the page has them."""
    return {m[1]: (m[2], m[3]) for m in ROW.finditer(DOC.read_text())}


def _default_values(cell: str) -> set[str]:
    values = set(re.findall(r"`([^`]*)`", cell))
    if "(empty)" in cell or "none" in cell:
        values.add("")
    return values


def documented_values(name: str, cell: str, description: str) -> set[str]:
    """The values the page shows for one setting."""
    text = re.sub(r"\[[^\]]*\]", "", description)  # optional parts of a form: left out
    values = _default_values(cell)
    values |= {m.rstrip(".,") for m in re.findall(r"e\.g\. ([^\s;)`]+)", text)}
    if re.search(r"\b0(?: or empty)?:|\(0 disables|\b0 or empty", text):
        values.add("0")
    if re.search(r"\b[Ee]mpty\b", text):
        values.add("")
    for low, high in re.findall(r"\b(\d+)-(\d+)\)", text):
        values |= {low, high}
    if name.endswith("_URL"):
        values |= set(re.findall(r"\b([a-z][a-z0-9+]*://[^\s,;()`]*)", text))
    values |= {f"5/{unit}" for unit in re.findall(r"\bN/(second|minute|hour)\b", text)}
    for listed in re.findall(r"\b[A-Z][A-Z_]+(?:, [A-Z][A-Z_]+)* or [A-Z][A-Z_]+\b", text):
        choices = re.split(r", | or ", listed)
        if values & set(choices):  # a list of what the setting itself may be
            values |= set(choices)
    return values


def choices_in_code(name: str) -> set[str]:
    """The choices of a setting whose type has them (true/false, a Literal)."""
    annotation = Settings.model_fields[name.removeprefix("SHUTTERBOX_").lower()].annotation
    if annotation is bool:
        return {"true", "false"}
    if typing.get_origin(annotation) is typing.Literal:
        return {str(choice) for choice in typing.get_args(annotation)}
    return set()


EMBEDDED: dict[str, str] = {}
SCALED = {
    "SHUTTERBOX_DATABASE_URL": "postgresql+asyncpg://shutterbox@db.internal/shutterbox",
    "SHUTTERBOX_STORAGE_URL": "s3://shutterbox-media",
}


def _load(monkeypatch: pytest.MonkeyPatch, data_dir: Path, env: dict[str, str]) -> Settings:
    with monkeypatch.context() as patched:
        patched.setenv("SHUTTERBOX_DATA_DIR", str(data_dir))
        for key, value in env.items():
            patched.setenv(key, value)
        return Settings()


def test_the_page_is_read_whole():
    """The reading above finds what it should: every setting, and the values that matter."""
    rows = documented()
    assert set(rows) == {variable(name) for name in Settings.model_fields}
    values = {name: documented_values(name, *row) for name, row in rows.items()}
    assert {"0", "", "120/minute", "5/second", "5/hour"} <= values["SHUTTERBOX_UPLOAD_RATE"]
    assert {"1", "100", "82"} <= values["SHUTTERBOX_JPEG_QUALITY"]
    assert {"STANDARD", "STANDARD_IA", "GLACIER_IR"} <= values["SHUTTERBOX_ORIGINALS_STORAGE_CLASS"]
    assert {"db://", "nats://host:4222", "kafka://host:9092"} <= values["SHUTTERBOX_QUEUE_URL"]
    assert {"memory://", "db://", "redis://host:6379"} <= values["SHUTTERBOX_RATE_LIMIT_URL"]
    assert {"GLACIER:90", "STANDARD_IA:30,GLACIER:90", ""} <= values[
        "SHUTTERBOX_ORIGINAL_TRANSITIONS"
    ]
    assert sum(len(v) for v in values.values()) >= 90  # the reading did not break


def test_every_documented_value_loads(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    refused = []
    tried = 0
    for name, row in documented().items():
        for value in documented_values(name, *row) | choices_in_code(name):
            tried += 1
            errors = []
            for place in (EMBEDDED, SCALED):
                try:
                    settings = _load(monkeypatch, tmp_path / "data", {**place, name: value})
                except ValidationError as error:
                    errors.append(error)
                    continue
                field = name.removeprefix("SHUTTERBOX_").lower()
                assert getattr(settings, field) is not None or value == ""
                break
            else:
                refused.append(f"{name}={value!r}: {errors[0]}")
    assert refused == []
    assert tried >= 90


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for server in started:
        server.stop()


def _start(servers: list[ServerProcess], data_dir: Path, **env: str) -> ServerProcess:
    data_dir.mkdir(parents=True)
    server = ServerProcess(data_dir, serve_args=("--workers", "1"), **env)
    servers.append(server)
    server.start()
    return server


def test_servers_start_with_documented_values(
    servers: list[ServerProcess], tmp_path: Path, postgres_url: str
):
    """A handful of real starts: the values operators turn things off with, the other
    choices, and the scaled forms (PostgreSQL given as postgresql://, Redis counters)."""
    embedded = _start(
        servers,
        tmp_path / "embedded" / "data",
        SHUTTERBOX_DATABASE_URL=f"sqlite:///{tmp_path / 'embedded' / 'plain.db'}",
        SHUTTERBOX_UPLOAD_RATE="0",
        SHUTTERBOX_LOGIN_RATE="",
        SHUTTERBOX_COMMENT_RATE="5/second",
        SHUTTERBOX_REPORT_RATE="5/hour",
        SHUTTERBOX_VARIANT_FORMATS="jpeg,webp,avif",
        SHUTTERBOX_ORIGINAL_TRANSITIONS="STANDARD_IA:30,GLACIER_IR:180",
        SHUTTERBOX_ORIGINALS_STORAGE_CLASS="STANDARD_IA",
        SHUTTERBOX_ACCESS_LOG="false",
        SHUTTERBOX_USER_QUOTA_BYTES="0",
        SHUTTERBOX_QUEUE_BUSY_DEPTH="0",
        SHUTTERBOX_TRASH_RETENTION_DAYS="0",
        SHUTTERBOX_IMAGING_NICENESS="19",
        SHUTTERBOX_JPEG_QUALITY="100",
        SHUTTERBOX_REPLICA_COPY="before_ready",
        SHUTTERBOX_RATE_LIMIT_URL="memory://",
    )
    scaled = _start(
        servers,
        tmp_path / "scaled" / "data",
        SHUTTERBOX_DATABASE_URL=postgres_url.replace("postgresql+asyncpg://", "postgresql://"),
        SHUTTERBOX_RATE_LIMIT_URL=require_redis(),
        SHUTTERBOX_ORIGINAL_TRANSITIONS="",
        SHUTTERBOX_LOGIN_RATE="0",
        SHUTTERBOX_IMAGING_NICENESS="0",
        SHUTTERBOX_JPEG_QUALITY="1",
    )
    for server in (embedded, scaled):
        assert httpx.get(f"{server.url}/readyz").status_code == 200


BAD = [
    ("SHUTTERBOX_UPLOAD_RATE", "lots"),
    ("SHUTTERBOX_LOGIN_RATE", "5/day"),
    ("SHUTTERBOX_COMMENT_RATE", "5"),
    ("SHUTTERBOX_JPEG_QUALITY", "0"),
    ("SHUTTERBOX_JPEG_QUALITY", "high"),
    ("SHUTTERBOX_WORKERS", "-1"),
    ("SHUTTERBOX_API_PROCESSES", "0"),
    ("SHUTTERBOX_IMAGING_NICENESS", "20"),
    ("SHUTTERBOX_ACCESS_LOG", "maybe"),
    ("SHUTTERBOX_REPLICA_COPY", "later"),
    ("SHUTTERBOX_VARIANT_FORMATS", "png"),
    ("SHUTTERBOX_EVENTS_POLL_SECONDS", "0"),
    ("SHUTTERBOX_TRASH_RETENTION_DAYS", "-1"),
    ("SHUTTERBOX_SIGNED_URL_TTL_SECONDS", "10"),
    ("SHUTTERBOX_MAX_UPLOAD_BYTES", "50MB"),
    ("SHUTTERBOX_ORIGINAL_TRANSITIONS", "GLACIER"),
    ("SHUTTERBOX_ORIGINAL_TRANSITIONS", "COLD:30"),
    ("SHUTTERBOX_ORIGINAL_TRANSITIONS", "GLACIER:90"),  # on the local disk: a restore per read
    ("SHUTTERBOX_ORIGINAL_TRANSITIONS", "DEEP_ARCHIVE:180"),
    ("SHUTTERBOX_ORIGINALS_STORAGE_CLASS", "GLACIER"),
    ("SHUTTERBOX_STORAGE_CLASS_URLS", "COLD=file:///mnt/cold"),
    ("SHUTTERBOX_STORAGE_URL", "ftp://files.example.com"),
    ("SHUTTERBOX_QUEUE_URL", "rabbitmq://localhost"),
    ("SHUTTERBOX_DATABASE_URL", "mysql://db/shutterbox"),
    ("SHUTTERBOX_RATE_LIMIT_URL", "memcached://localhost"),
]
COMMANDS = [
    ("serve",),
    ("worker",),
    ("migrate",),
    ("settings",),
    ("scrub",),
    ("reprocess", "--all"),
    ("users", "suspend", "someone", "--reason", "test"),
]


@pytest.mark.parametrize(("name", "value"), BAD)
def test_a_bad_value_stops_every_command_with_one_line(name: str, value: str, tmp_path: Path):
    env = {"SHUTTERBOX_DATA_DIR": str(tmp_path / "data"), name: value}
    for command in COMMANDS:
        result = invoke(env, *command)
        lines = result.stderr.splitlines()
        assert result.exit_code == 2, (command, result.output)
        assert len(lines) == 1, (command, lines)
        assert lines[0].startswith(f"{name}="), lines[0]
        assert "is not allowed" in lines[0]
    assert not (tmp_path / "data" / "shutterbox.db").exists()  # nothing was done


def test_an_archive_class_on_a_local_disk_is_allowed_where_the_operator_placed_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    cold = (tmp_path / "cold").as_uri()
    settings = _load(
        monkeypatch,
        tmp_path / "data",
        {
            "SHUTTERBOX_ORIGINAL_TRANSITIONS": "GLACIER:90",
            "SHUTTERBOX_STORAGE_CLASS_URLS": f"GLACIER={cold}",
        },
    )
    assert [(str(c), d) for c, d in settings.transitions] == [("GLACIER", 90.0)]
    assert _load(monkeypatch, tmp_path / "data", {}).transitions == []
    on_s3 = _load(monkeypatch, tmp_path / "data", SCALED)
    assert [(str(c), d) for c, d in on_s3.transitions] == [("GLACIER", 90.0)]


def test_several_problems_give_a_line_each_and_secrets_are_not_shown(tmp_path: Path):
    env = {
        "SHUTTERBOX_DATA_DIR": str(tmp_path / "data"),
        "SHUTTERBOX_JPEG_QUALITY": "0",
        "SHUTTERBOX_WORKERS": "many",
        "SHUTTERBOX_DATABASE_URL": "mysql://admin:hunter2@db/shutterbox",
    }
    lines = invoke(env, "migrate").stderr.splitlines()
    assert sorted(line.split("=", 1)[0] for line in lines) == [
        "SHUTTERBOX_DATABASE_URL",
        "SHUTTERBOX_JPEG_QUALITY",
        "SHUTTERBOX_WORKERS",
    ]
    assert "hunter2" not in "\n".join(lines)
    assert "expected a whole number from 1 to 100" in "\n".join(lines)


@pytest.mark.parametrize("command", [("serve",), ("worker",), ("migrate",)])
def test_the_real_command_prints_one_line_and_no_traceback(command: tuple[str, ...], tmp_path):
    done = subprocess.run(
        shutterbox_command(*command),
        env=clean_env(
            SHUTTERBOX_DATA_DIR=str(tmp_path / "data"), SHUTTERBOX_UPLOAD_RATE="ten a minute"
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "SHUTTERBOX_UPLOAD_RATE='ten a minute' is not allowed: expected N/second, N/minute or "
        "N/hour (e.g. 10/minute); 0 or empty: no limit"
    ]
    assert done.stdout == ""
