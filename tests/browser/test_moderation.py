"""Moderation in a real Chromium against a real server: someone reports a photo from its page
with the keyboard, an admin removes it from the moderation page, and the photo is gone."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urljoin

import httpx2 as httpx
import pytest
from playwright.sync_api import expect

from tests.support.browser import PASSWORD, PHONE, Account, BrowserPage, upload_photo
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser

LoggedInPage = Callable[..., tuple[BrowserPage, Account]]


def test_a_reported_photo_is_removed_from_the_moderation_page(
    web_server: ServerProcess,
    logged_in_page: LoggedInPage,
    make_user: Callable[[], Account],
    make_admin: Callable[[], dict[str, str]],
) -> None:
    owner = make_user()
    photo = upload_photo(
        web_server, owner.headers, caption="buy cheap watches", visibility="public"
    )

    # someone reports it from the photo's page, by keyboard
    page, _reporter = logged_in_page()
    page.page.goto(f"/images/{photo['id']}")
    page.testid("report-open").focus()
    page.page.keyboard.press("Enter")
    page.testid("report-reason").select_option("spam")
    page.testid("report-note").fill("an advert")
    page.testid("report-send").focus()
    page.page.keyboard.press("Enter")
    expect(page.testid("report-status")).to_have_text("Thank you: the moderators will look at it.")
    page.assert_clean()

    # the owner has nothing to report on their own photo
    own_page, _ = logged_in_page(account=owner)
    own_page.page.goto(f"/images/{photo['id']}")
    expect(own_page.testid("photo")).to_be_visible()
    expect(own_page.testid("report")).to_have_count(0)

    # an admin removes it from the moderation page, on a phone
    admin = make_admin()
    me = httpx.get(f"{web_server.url}/api/v1/users/me", headers=admin).json()
    admin_page, _ = logged_in_page(account=Account(me["username"], PASSWORD, admin), viewport=PHONE)
    admin_page.page.goto("/")
    admin_page.testid("moderation-link").click()  # the header leads admins to the queue
    expect(admin_page.testid("moderation-queue")).to_be_visible()
    row = admin_page.page.locator(f'[data-testid="report-row"][data-subject-id="{photo["id"]}"]')
    expect(row).to_contain_text("an advert")
    expect(row).to_contain_text("spam")
    row.get_by_test_id("resolve-note").fill("advertising")
    row.get_by_test_id("action-remove").click()
    expect(row).to_have_count(0)
    expect(admin_page.testid("audit-log")).to_contain_text("remove")
    expect(admin_page.testid("audit-log")).to_contain_text("advertising")
    admin_page.assert_clean()

    # gone for everyone, its owner too
    gone = httpx.get(f"{web_server.url}/api/v1/images/{photo['id']}", headers=owner.headers)
    assert gone.status_code == 404
    thumb_url = urljoin(web_server.url, photo["variants"]["thumb"]["url"])
    thumb = httpx.get(thumb_url, follow_redirects=False)
    assert thumb.status_code == 404


def test_the_moderation_page_is_for_admins_only(
    open_page: Callable[..., BrowserPage], logged_in_page: LoggedInPage
) -> None:
    anonymous = open_page()
    anonymous.page.goto("/admin/moderation")
    assert anonymous.page.url.endswith("/login?next=/admin/moderation")
    page, _ = logged_in_page()
    page.expect_console_error(lambda message: "status of 403" in message.text)
    response = page.page.goto("/admin/moderation")
    assert response is not None and response.status == 403
    expect(page.testid("moderation-queue")).to_have_count(0)
    expect(page.testid("moderation-link")).to_have_count(0)  # nor a way there in the header
    page.assert_clean()
