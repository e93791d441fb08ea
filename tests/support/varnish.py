"""A real `varnishd` running deploy/varnish/shutterbox.vcl, for the edge tests and bench.

The VCL files are copied with the backend's port filled in (and, for some tests, other
settings changed), then varnishd runs in the foreground as a subprocess of the test with
its working directory and a small malloc storage under the test's temporary directory.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.support.ports import free_port
from tests.support.processes import ManagedProcess, http_ok
from tests.support.servers import unavailable

REPO_ROOT = Path(__file__).resolve().parents[2]
VCL_DIR = REPO_ROOT / "deploy" / "varnish"
MAIN_VCL = "shutterbox.vcl"
COMMON_VCL = "shutterbox-common.vcl"
SHARD_VCL = "shutterbox-edge-shard.vcl"

ORIGIN_PORT_LINE = '    .port = "8000";'
PURGERS_ACL = 'acl purgers {\n    "127.0.0.1";\n    "::1";\n'
HEALTHY_GRACE = "set req.grace = 10s;"
TTL_CAP = "if (beresp.ttl > 1d) {\n        set beresp.ttl = 1d;"


def varnishd() -> str:
    """The varnishd binary (usually /usr/sbin, which is not always on a user's PATH)."""
    found = shutil.which("varnishd") or shutil.which("varnishd", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        unavailable("varnishd (Debian/Ubuntu package `varnish`)")
        raise AssertionError("unreachable")  # unavailable() skips or fails
    return found


def replace_once(text: str, old: str, new: str, name: str) -> str:
    if text.count(old) != 1:
        raise AssertionError(f"{name} no longer contains exactly one {old!r}")
    return text.replace(old, new)


def render_vcl(
    directory: Path,
    origin_port: int,
    *,
    purgers: tuple[str, ...] | None = None,
    healthy_grace: str | None = None,
    ttl_cap: str | None = None,
) -> Path:
    """Copies of shutterbox.vcl and shutterbox-common.vcl in ``directory``, with the origin's
    port and optionally the purge ACL, the grace while healthy and the edge TTL cap
    changed. Returns the path of the main file."""
    directory.mkdir(parents=True, exist_ok=True)
    main = (VCL_DIR / MAIN_VCL).read_text()
    main = replace_once(main, ORIGIN_PORT_LINE, f'    .port = "{origin_port}";', MAIN_VCL)
    if purgers is not None:
        entries = "".join(f'    "{address}";\n' for address in purgers)
        main = replace_once(main, PURGERS_ACL, f"acl purgers {{\n{entries}", MAIN_VCL)
    common = (VCL_DIR / COMMON_VCL).read_text()
    if healthy_grace is not None:
        common = replace_once(
            common, HEALTHY_GRACE, f"set req.grace = {healthy_grace};", COMMON_VCL
        )
    if ttl_cap is not None:
        common = replace_once(
            common,
            TTL_CAP,
            f"if (beresp.ttl > {ttl_cap}) {{\n        set beresp.ttl = {ttl_cap};",
            COMMON_VCL,
        )
    (directory / MAIN_VCL).write_text(main)
    (directory / COMMON_VCL).write_text(common)
    return directory / MAIN_VCL


SHIELD_BACKEND = re.compile(r"^backend shield\d+ \{\n.*?^\}\n", re.M | re.S)
SHIELD_ADD = re.compile(r"^(?P<indent>[ \t]*)shields\.add_backend\(shield\d+\);\n", re.M)


def render_shard_vcl(directory: Path, shield_ports: list[int]) -> Path:
    """Copies of shutterbox-edge-shard.vcl and shutterbox-common.vcl in ``directory``, with
    one shield backend per port (on 127.0.0.1) instead of the example addresses."""
    directory.mkdir(parents=True, exist_ok=True)
    text = (VCL_DIR / SHARD_VCL).read_text()
    blocks = list(SHIELD_BACKEND.finditer(text))
    adds = list(SHIELD_ADD.finditer(text))
    if not blocks or len(adds) != len(blocks):
        raise AssertionError(f"{SHARD_VCL} no longer has the expected shield lines")
    template = blocks[0].group(0)
    backends = ""
    for number, port in enumerate(shield_ports, start=1):
        block = re.sub(r"^backend shield\d+", f"backend shield{number}", template)
        block = re.sub(r'\.host = "[^"]*";', '.host = "127.0.0.1";', block)
        backends += re.sub(r'\.port = "[^"]*";', f'.port = "{port}";', block)
    add_lines = "".join(
        f"{adds[0]['indent']}shields.add_backend(shield{n});\n"
        for n in range(1, len(shield_ports) + 1)
    )
    for match in reversed(adds[1:]):
        text = text[: match.start()] + text[match.end() :]
    text = text[: adds[0].start()] + add_lines + text[adds[0].end() :]
    blocks = list(SHIELD_BACKEND.finditer(text))
    for match in reversed(blocks[1:]):
        text = text[: match.start()] + text[match.end() :]
    text = text[: blocks[0].start()] + backends + text[blocks[0].end() :]
    (directory / SHARD_VCL).write_text(text)
    (directory / COMMON_VCL).write_text((VCL_DIR / COMMON_VCL).read_text())
    return directory / SHARD_VCL


def compile_vcl(path: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    """`varnishd -C -f path`: compiles the VCL to C and prints it, or reports the errors."""
    return subprocess.run(
        [varnishd(), "-C", "-j", "none", "-n", str(workdir), "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


class Varnish(ManagedProcess):
    """varnishd in the foreground (-F) on a free port, without privilege separation
    (-j none) so that it runs as whoever runs the tests, with everything in ``workdir``."""

    def __init__(self, workdir: Path, vcl: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.vcl = vcl
        self.port = port or free_port()
        super().__init__(
            "varnishd",
            [],  # filled in by launch(): finding varnishd may skip the test
            log_path=workdir / "varnishd.log",
            ready=http_ok(f"{self.url}/edge-healthz"),
            ready_interval=0.05,
            stop_on_timeout=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> None:
        super().start(timeout)

    def launch(self) -> None:
        self.command = [
            varnishd(),
            *("-F", "-j", "none", "-a", f"127.0.0.1:{self.port}", "-T", "none"),
            *("-f", str(self.vcl), "-n", str(self.workdir / "instance"), "-s", "malloc,64m"),
        ]
        self.workdir.mkdir(parents=True, exist_ok=True)
        super().launch()

    def wait_ready(self, timeout: float = 30.0) -> None:
        super().wait_ready(timeout)
