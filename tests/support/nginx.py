"""A real nginx running deploy/nginx (TLS included), for the edge and scale tests.

The two files are copied with the test's ports, certificate and data directory filled in and
run unprivileged in the foreground. The certificate is made by ``trustme``: a throwaway CA
(self-signed) that signs a certificate for 127.0.0.1 and localhost; clients trust that CA
through ``ThrowawayCertificate.client_context``, so TLS is verified as a browser would.
"""

from __future__ import annotations

import os
import re
import shutil
import ssl
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import trustme

from tests.support.ports import free_port
from tests.support.processes import ManagedProcess, port_open
from tests.support.servers import unavailable

REPO_ROOT = Path(__file__).resolve().parents[2]
NGINX_CONFIG_DIR = REPO_ROOT / "deploy" / "nginx"
SITE = "shutterbox.conf"

CERTIFICATE_DIR = "/etc/letsencrypt/live/photos.example.org/"
DATA_DIR = "/var/lib/shutterbox/"
HTTP_LISTEN = "    listen 80;"
HTTPS_LISTEN = "    listen 443 ssl http2;"
EDGE_LISTEN = "    listen 127.0.0.1:8080;"
REDIRECT = "return 301 https://$host$request_uri;"
SERVER_LINE = re.compile(r"^(?P<indent>[ \t]*)server 127\.0\.0\.1:\d+(?P<params>[^;]*);.*$", re.M)


def nginx_binary() -> str:
    """nginx (Debian puts it in /usr/sbin, not always on a user's PATH)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        unavailable("nginx (Debian/Ubuntu package `nginx`)")
        raise AssertionError("unreachable")  # unavailable() skips or fails
    return found


@dataclass(frozen=True)
class ThrowawayCertificate:
    """A CA and the server certificate it signed, written where deploy/nginx expects them
    (fullchain.pem, privkey.pem, chain.pem in one directory)."""

    directory: Path
    ca: trustme.CA

    @classmethod
    def create(cls, directory: Path) -> ThrowawayCertificate:
        directory.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA()
        leaf = ca.issue_cert("127.0.0.1", "localhost")
        with open(directory / "fullchain.pem", "wb") as fullchain:
            for pem in leaf.cert_chain_pems:
                fullchain.write(pem.bytes())
        leaf.private_key_pem.write_to_path(str(directory / "privkey.pem"))
        ca.cert_pem.write_to_path(str(directory / "chain.pem"))
        return cls(directory, ca)

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only this CA (and verifies the host name)."""
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context


def replace_once(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise AssertionError(f"deploy/nginx/{SITE} no longer contains exactly one {old!r}")
    return text.replace(old, new)


def render_site(
    upstream_ports: Sequence[int],
    ports: tuple[int, int, int],
    certificate_dir: Path,
    data_dir: Path | None,
) -> str:
    """deploy/nginx/shutterbox.conf with the API nodes, the listening ports (plain HTTP,
    HTTPS and the edge's plain listener, all on 127.0.0.1), the redirect's port, the
    certificate's directory and the data directory replaced."""
    http_port, https_port, edge_port = ports
    site = (NGINX_CONFIG_DIR / SITE).read_text()
    servers = list(SERVER_LINE.finditer(site))
    if not servers:
        raise AssertionError(f"deploy/nginx/{SITE} no longer lists 127.0.0.1 upstream servers")
    first = servers[0]
    lines = "\n".join(
        f"{first['indent']}server 127.0.0.1:{port}{first['params']};" for port in upstream_ports
    )
    for match in reversed(servers[1:]):
        site = site[: match.start()] + site[match.end() + 1 :]
    site = site[: first.start()] + lines + site[first.end() :]
    site = replace_once(site, HTTP_LISTEN, f"    listen 127.0.0.1:{http_port};")
    site = replace_once(site, HTTPS_LISTEN, f"    listen 127.0.0.1:{https_port} ssl http2;")
    site = replace_once(site, EDGE_LISTEN, f"    listen 127.0.0.1:{edge_port};")
    site = replace_once(site, REDIRECT, f"return 301 https://$host:{https_port}$request_uri;")
    if site.count(CERTIFICATE_DIR) != 3:
        raise AssertionError(f"deploy/nginx/{SITE} no longer names three certificate files")
    site = site.replace(CERTIFICATE_DIR, f"{certificate_dir}/")
    if data_dir is not None:
        site = replace_once(site, DATA_DIR, f"{data_dir.absolute()}/")
    return site


class Nginx(ManagedProcess):
    """deploy/nginx/nginx.conf + shutterbox.conf in front of API nodes on 127.0.0.1, with a
    fresh test certificate: https on ``port``, plain http (redirects) on ``http_port``, the
    edge cache's plain listener on ``edge_port``.
    ``data_dir``: the directory the X-Accel-Redirect location may serve files from."""

    def __init__(
        self,
        prefix: Path,
        upstream_ports: Sequence[int],
        *,
        data_dir: Path | None = None,
        port: int | None = None,
    ) -> None:
        self.prefix = prefix
        self.port = port or free_port()
        self.http_port = free_port()
        self.edge_port = free_port()
        self.upstream_ports = list(upstream_ports)
        self.data_dir = data_dir
        self.access_log = prefix / "access.log"
        self.certificate = ThrowawayCertificate.create(prefix / "tls")
        super().__init__(
            "nginx",
            [],  # filled in by launch(): finding nginx may skip the test
            log_path=prefix / "nginx-stderr.log",
            ready=port_open(self.url),
            ready_interval=0.05,
        )

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def edge_url(self) -> str:
        """The plain listener an edge cache on the same machine sends its requests to."""
        return f"http://127.0.0.1:{self.edge_port}"

    def client_context(self) -> ssl.SSLContext:
        return self.certificate.client_context()

    def render(self) -> Path:
        ports = (self.http_port, self.port, self.edge_port)
        site = render_site(self.upstream_ports, ports, self.certificate.directory, self.data_dir)
        self.prefix.mkdir(parents=True, exist_ok=True)
        (self.prefix / SITE).write_text(site)
        main = (NGINX_CONFIG_DIR / "nginx.conf").read_text()
        if os.geteuid() == 0:  # workers would drop to `nobody`, who cannot enter tmp_path
            main = f"user root;\n{main}"
        (self.prefix / "nginx.conf").write_text(main)
        return self.prefix / "nginx.conf"

    def _command(self, *extra: str) -> list[str]:
        conf = self.prefix / "nginx.conf"
        return [nginx_binary(), "-p", str(self.prefix), "-c", str(conf), "-e", "stderr", *extra]

    def check(self) -> subprocess.CompletedProcess[str]:
        """`nginx -t` on the rendered configuration."""
        self.render()
        return subprocess.run(self._command("-t"), capture_output=True, text=True, check=False)

    def launch(self) -> None:
        checked = self.check()
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{checked.stderr}")
        self.command = self._command("-g", "daemon off;")
        super().launch()

    def start(self, timeout: float = 15.0) -> None:
        super().start(timeout)

    def access_log_entries(self) -> list[dict[str, str]]:
        """The access log (deploy's `shutterbox` format): per request the request line,
        the status and the upstream addresses tried (several when nginx retried)."""
        pattern = re.compile(r'"(?P<request>[^"]*)" (?P<status>\d{3}) .* up=(?P<up>.*?) req=')
        if not self.access_log.exists():
            return []
        return [
            match.groupdict()
            for line in self.access_log.read_text(errors="replace").splitlines()
            if (match := pattern.search(line))
        ]
