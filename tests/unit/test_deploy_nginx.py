"""deploy/nginx keeps up with the settings it mirrors (tests/edge/test_tls.py runs it)."""

from __future__ import annotations

import re
from pathlib import Path

from shutterbox.config import Settings
from shutterbox.entrypoints.api.upload_stream import MAX_FIELD_BYTES, MAX_FIELDS

SITE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "shutterbox.conf"
MIB = 1024 * 1024


def _https_server() -> str:
    text = SITE.read_text()
    return text[text.index("listen 443 ssl") :]


def test_body_limit_lets_every_accepted_upload_through_and_nothing_much_bigger():
    """nginx's limit is the largest multipart body the service itself would read (the file
    plus every form field at its longest), rounded up to a whole MiB: so the service answers
    413 with its own message for a file just over its limit, and nginx stops only bodies
    that could never be accepted, before they reach a node."""
    found = re.findall(r"^\s*client_max_body_size (\d+)m;", SITE.read_text(), re.M)
    assert len(found) == 1
    limit = int(found[0]) * MIB
    settings = Settings()
    largest_accepted = settings.max_upload_bytes + MAX_FIELDS * MAX_FIELD_BYTES
    assert largest_accepted <= limit < largest_accepted + MIB
    assert settings.resumable_chunk_bytes < limit  # each part of a resumable upload passes


def test_every_https_location_that_adds_headers_keeps_hsts():
    """An `add_header` in a location replaces the server's, HSTS included."""
    server = _https_server()
    hsts = 'add_header Strict-Transport-Security "max-age=63072000" always;'
    assert server.count(hsts) >= 1
    for block in re.findall(r"\n    location [^{]*\{.*?\n    \}", server, re.S):
        if "add_header" in block:
            assert hsts in block, block


def test_tls_is_modern():
    server = _https_server()
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in server
    ciphers = re.search(r"ssl_ciphers ([^;]+);", server)
    assert ciphers is not None
    for cipher in ciphers[1].split(":"):
        assert cipher.startswith("ECDHE-") and ("GCM" in cipher or "CHACHA20" in cipher)
    assert "ssl_session_cache shared:" in server
    assert "ssl_stapling on;" in server
