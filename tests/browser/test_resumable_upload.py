"""The upload page resumes: requests cut off midway are sent again from the server's offset,
a photo can be paused and resumed, and after a reload the same photo goes on where it
stopped. (The web server sends photos in parts of 256 KiB: see conftest.py.)"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Request, Route, expect

from tests.imagegen import jpeg_bytes
from tests.support.browser import Account, BrowserPage
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser

LoggedInPage = Callable[..., tuple[BrowserPage, Account]]
TUS_PATCHES = "**/api/v1/tus/*"
READY_TIMEOUT_MS = 60_000


def _photo(directory: Path, name: str) -> Path:
    path = directory / name
    path.write_bytes(jpeg_bytes(2000, 1500, noise=True))  # about 1.5 MB: several parts
    assert path.stat().st_size > 4 * 256 * 1024
    return path


def _choose(page: BrowserPage, path: Path) -> None:
    page.page.goto("/upload")
    page.testid("file-input").set_input_files(str(path))
    page.testid("upload-start").click()


def _row(page: BrowserPage, name: str):  # type: ignore[no-untyped-def]
    return page.page.locator(f'[data-testid="upload-row"][data-name="{name}"]')


def _offsets(requests: list[Request]) -> list[int]:
    return [
        int(request.headers["upload-offset"]) for request in requests if request.method == "PATCH"
    ]


def _original_is(
    server: ServerProcess, account: Account, page: BrowserPage, name: str, path: Path
) -> None:
    image_id = _row(page, name).get_attribute("data-image-id")
    assert image_id
    with httpx.Client(base_url=server.url, headers=account.headers, timeout=30) as client:
        image = client.get(f"/api/v1/images/{image_id}").json()
        original = client.get(image["original"]["url"]).content
        mine = client.get(f"/api/v1/users/{account.username}/images").json()["items"]
    assert hashlib.sha256(original).digest() == hashlib.sha256(path.read_bytes()).digest()
    assert [i["id"] for i in mine] == [image_id]  # one image, however many tries


def test_parts_cut_off_midway_are_sent_again(
    logged_in_page: LoggedInPage, web_server: ServerProcess, tmp_path: Path
):
    page, account = logged_in_page()
    path = _photo(tmp_path, "cut.jpg")
    patches: list[Request] = []
    cut: list[int] = []

    def flaky(route: Route) -> None:
        request = route.request
        if request.method == "PATCH":
            patches.append(request)
            if len(patches) in (2, 3):  # the second part, twice: the connection drops
                cut.append(int(request.headers["upload-offset"]))
                route.abort("connectionreset")
                return
        route.continue_()

    page.expect_console_error(lambda message: "ERR_CONNECTION_RESET" in message.text)
    page.page.route(TUS_PATCHES, flaky)
    _choose(page, path)
    expect(_row(page, "cut.jpg")).to_have_attribute("data-state", "ready", timeout=READY_TIMEOUT_MS)
    offsets = _offsets(patches)
    assert cut and cut[0] > 0  # cut after the first part arrived
    assert offsets.count(cut[0]) == 3  # that part tried again from the same offset
    assert offsets == sorted(offsets) and offsets[0] == 0  # never from the start again
    _original_is(web_server, account, page, "cut.jpg", path)
    page.assert_clean()


def test_pause_and_resume(logged_in_page: LoggedInPage, web_server: ServerProcess, tmp_path: Path):
    page, account = logged_in_page()
    path = _photo(tmp_path, "paused.jpg")
    held: list[Route] = []
    patches: list[Request] = []

    def hold_the_second(route: Route) -> None:
        if route.request.method == "PATCH":
            patches.append(route.request)
            if len(patches) == 2:
                held.append(route)  # not answered until the photo is paused
                return
        route.continue_()

    page.page.route(TUS_PATCHES, hold_the_second)
    _choose(page, path)
    row = _row(page, "paused.jpg")
    expect(row.locator(".upload-pause")).to_be_visible()
    for _ in range(200):  # the first part goes through, the second is held
        if held:
            break
        page.page.wait_for_timeout(50)
    assert held, "the second part never went out"
    row.locator(".upload-pause").click()
    expect(row).to_have_attribute("data-state", "paused")
    expect(row.locator(".upload-resume")).to_be_visible()
    page.expect_console_error(lambda message: "ERR_ABORTED" in message.text)
    held[0].abort("aborted")
    row.locator(".upload-resume").click()
    expect(row).to_have_attribute("data-state", "ready", timeout=READY_TIMEOUT_MS)
    assert _offsets(patches)[2] > 0  # resumed from the server's offset, not from 0
    _original_is(web_server, account, page, "paused.jpg", path)


def test_a_reload_midway_goes_on_where_it_stopped(
    logged_in_page: LoggedInPage, web_server: ServerProcess, tmp_path: Path
):
    page, account = logged_in_page()
    path = _photo(tmp_path, "reloaded.jpg")
    patches: list[Request] = []
    reloaded: list[bool] = []

    def stall_after_two(route: Route) -> None:
        if route.request.method == "PATCH" and not reloaded:
            patches.append(route.request)
            if len(patches) > 2:
                # the page is about to be reloaded: this part, and any retry of it until
                # the reload, never reaches the server
                route.abort("connectionreset")
                return
        route.continue_()

    page.expect_console_error(lambda message: "ERR_CONNECTION_RESET" in message.text)
    page.page.route(TUS_PATCHES, stall_after_two)
    _choose(page, path)
    for _ in range(200):
        if len(patches) > 2:
            break
        page.page.wait_for_timeout(50)
    page.page.reload()
    reloaded.append(True)
    after: list[Request] = []
    page.page.on("request", lambda r: after.append(r) if "/api/v1/tus/" in r.url else None)
    page.testid("file-input").set_input_files(str(path))
    page.testid("upload-start").click()
    expect(_row(page, "reloaded.jpg")).to_have_attribute(
        "data-state", "ready", timeout=READY_TIMEOUT_MS
    )
    assert not [r for r in after if r.method == "POST"]  # no new upload was started
    assert _offsets(after)[0] >= 2 * 256 * 1024  # the parts sent before the reload stayed
    _original_is(web_server, account, page, "reloaded.jpg", path)
