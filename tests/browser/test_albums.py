"""Albums and share links in a real Chromium against a real server: making an album, adding
photos to it from their pages, sharing it by a link with a password, then opening the link in
a fresh browser with no cookies (logged out), on a phone screen, until the link is revoked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import expect

from tests.support.browser import PHONE, Account, BrowserPage, upload_photo
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser

LINK_PASSWORD = "open sesame"


def _errors_with(page: BrowserPage, *statuses: int) -> None:
    """Chromium logs a page answered with an error status; here that is the point."""
    page.expect_console_error(
        lambda message: any(f"status of {status}" in message.text for status in statuses)
    )


def _images_loaded(page: BrowserPage, count: int) -> None:
    page.page.wait_for_function(
        """(count) => {
             const images = [...document.querySelectorAll(".card-img")];
             return images.length === count
               && images.every(img => img.complete && img.naturalWidth > 0);
           }""",
        arg=count,
    )


def test_an_album_shared_by_link_opens_logged_out(
    logged_in_page: Callable[..., tuple[BrowserPage, Account]],
    open_page: Callable[..., BrowserPage],
    web_server: ServerProcess,
) -> None:
    owner_page, account = logged_in_page()
    private = upload_photo(web_server, account.headers, visibility="private", caption="private one")
    public = upload_photo(web_server, account.headers, caption="public one")
    page = owner_page.page

    # a new private album, from the albums page
    page.goto(f"/users/{account.username}/albums")
    page.get_by_label("Title").fill("Holidays")
    page.get_by_label("Who can see it").select_option("private")
    page.get_by_test_id("album-create").click()
    page.wait_for_url("**/albums/*")
    expect(page.get_by_test_id("album-heading")).to_have_text("Holidays")
    album_url = page.url

    # both photos added from their own pages, with the keyboard
    for image in (private, public):
        page.goto(f"/images/{image['id']}")
        choice = page.get_by_test_id("album-choice")
        expect(choice.locator("option")).to_have_text(["Holidays"])
        page.get_by_test_id("add-to-album").focus()
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("album-picker-status")).to_contain_text("Added to")

    # the album, and a link to it with a password
    page.goto(album_url)
    expect(page.locator(".album-entry")).to_have_count(2)
    page.get_by_test_id("share-album").click()
    dialog = page.get_by_test_id("share-dialog")
    expect(dialog).to_be_visible()
    page.get_by_test_id("share-password").fill(LINK_PASSWORD)
    page.get_by_test_id("share-hide-details").check()
    page.get_by_test_id("share-create").click()
    link_field = page.get_by_test_id("share-url")
    expect(link_field).to_be_visible()
    link = link_field.input_value()
    assert "/s/" in link
    expect(link_field).to_be_focused()
    page.get_by_test_id("share-copy").click()
    expect(page.get_by_test_id("share-status")).not_to_be_empty()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    owner_page.assert_clean()

    # a fresh browser, no cookies: the password first, then the album
    visitor = open_page(viewport=PHONE)
    _errors_with(visitor, 401, 403)
    visitor.page.goto(link)
    assert visitor.page.context.cookies() == []
    visitor.testid("link-password").fill("wrong guess")
    visitor.testid("link-unlock").click()
    expect(visitor.testid("link-password-error")).to_contain_text("wrong password")
    visitor.testid("link-password").fill(LINK_PASSWORD)
    visitor.testid("link-password").press("Enter")
    expect(visitor.testid("shared-title")).to_have_text("Holidays")
    expect(visitor.testid("card")).to_have_count(2)
    _images_loaded(visitor, 2)  # the private photo too, through URLs signed for the link
    assert "account-name" not in visitor.page.content()  # still logged out
    widths: list[Any] = visitor.page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert widths[0] <= widths[1], widths
    visitor.assert_clean()

    # revoked: the page says so, and the private photo's URL stops working
    private_src = visitor.page.locator(".card-img").first.get_attribute("src")
    assert private_src is not None and "share=" in private_src
    with httpx.Client(base_url=web_server.url) as client:
        links = client.get("/api/v1/shares", headers=account.headers).json()["items"]
        assert (
            client.delete(f"/api/v1/shares/{links[0]['id']}", headers=account.headers).status_code
            == 204
        )
    _errors_with(visitor, 410)
    visitor.page.reload()
    expect(visitor.page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    with httpx.Client(base_url=web_server.url) as client:
        assert client.get(private_src).status_code in (403, 404, 410)
