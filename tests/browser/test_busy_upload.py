"""When the queue is busy the upload page says the photo is safe and how long its sizes will
take, from the server's own answer (a real server whose busy depth is 0 and which has no
workers, so nothing is being made ready)."""

from __future__ import annotations

from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_upload_flow import choose_and_upload, row, write_jpegs
from tests.support.browser import PASSWORD, BrowserPage
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser


def test_the_upload_page_says_when_processing_waits(browser: Browser, tmp_path: Path):
    server = ServerProcess(
        tmp_path / "data", serve_args=("--workers", "0"), SHUTTERBOX_QUEUE_BUSY_DEPTH="0"
    )
    server.start()
    context = browser.new_context(base_url=server.url)
    try:
        created = httpx.post(
            f"{server.url}/api/v1/users", json={"username": "busy", "password": PASSWORD}
        )
        assert created.status_code == 201, created.text
        page = BrowserPage(context.new_page())
        answer = page.page.context.request.post(
            "/api/v1/session", data={"username": "busy", "password": PASSWORD}
        )
        assert answer.ok, answer.text()
        page.page.goto("/upload")
        photo = write_jpegs(tmp_path, 1, prefix="busy")[0]
        choose_and_upload(page, [photo])
        expect(row(page, photo.name)).to_have_attribute("data-state", "processing")
        expect(row(page, photo.name).locator(".upload-status")).to_have_text(
            "Uploaded — safe; waiting for the server to make its sizes"
        )
    finally:
        context.close()
        server.stop()
