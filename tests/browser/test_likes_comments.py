"""Liking and commenting on a photo, and the notifications it makes, in a real Chromium against
a real server: the forms work from the keyboard, on a phone, and without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support.browser import PHONE, Account, BrowserPage, upload_photo
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser

LoggedInPage = Callable[..., tuple[BrowserPage, Account]]


def test_like_and_comment_on_a_photo_then_its_owner_is_told(
    logged_in_page: LoggedInPage,
    open_page: Callable[..., BrowserPage],
    web_server: ServerProcess,
    make_user: Callable[[], Account],
    screenshots: Path,
):
    alice = make_user()
    photo = upload_photo(web_server, alice.headers, caption="Harbour at dusk")

    anonymous = open_page()
    anonymous.page.goto(f"/images/{photo['id']}")
    expect(anonymous.testid("like-count")).to_have_text("0")
    expect(anonymous.testid("like-button")).to_have_count(0)
    expect(anonymous.testid("comment-form")).to_have_count(0)
    expect(anonymous.testid("login-to-like")).to_be_visible()
    anonymous.assert_clean()

    page, bob = logged_in_page()
    page.page.goto(f"/images/{photo['id']}")
    like = page.testid("like-button")
    expect(like).to_have_text("Like")
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()
    expect(page.testid("like-count")).to_have_text("1")
    expect(page.testid("like-button")).to_have_attribute("aria-pressed", "true")

    # a comment typed and sent from the keyboard, with text that tries to be HTML
    field = page.page.get_by_label("Add a comment")
    field.fill("  What a light! <b>bold</b>  ")
    page.testid("comment-submit").focus()
    page.page.keyboard.press("Enter")
    comment = page.testid("comment")
    expect(comment).to_have_count(1)
    expect(comment.get_by_test_id("comment-text")).to_have_text("What a light! <b>bold</b>")
    expect(page.testid("comment-count")).to_have_text("(1)")
    expect(comment.get_by_role("link", name=bob.username)).to_be_visible()
    page.page.screenshot(path=screenshots / "image-comments-desktop.png", full_page=True)
    page.assert_clean()

    # alice: the unread count in the header, the notifications page, then deleting the comment
    owner, _ = logged_in_page(account=alice, viewport=PHONE)
    owner.page.goto("/")
    expect(owner.testid("unread-count")).to_contain_text("2")
    owner.testid("notifications-link").click()
    lines = owner.testid("notification")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text(f"{bob.username} commented on your photo")
    expect(lines.nth(1)).to_contain_text(f"{bob.username} liked your photo")
    owner.page.screenshot(path=screenshots / "notifications-phone.png", full_page=True)
    owner.testid("mark-read").click()
    expect(owner.testid("unread-count")).to_have_count(0)
    lines.nth(0).get_by_role("link", name="commented on your photo").click()
    expect(owner.page).to_have_url(f"{web_server.url}/images/{photo['id']}")
    owner.page.get_by_role("button", name=f"Delete the comment by {bob.username}").click()
    expect(owner.testid("comment")).to_have_count(0)
    expect(owner.testid("no-comments")).to_be_visible()
    widths = owner.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    owner.assert_clean()

    # bob takes his like back
    page.page.goto(f"/images/{photo['id']}")
    page.testid("like-button").click()
    expect(page.testid("like-count")).to_have_text("0")
    expect(page.testid("like-button")).to_have_text("Like")
    page.assert_clean()


def test_the_forms_work_without_javascript(
    browser, web_server: ServerProcess, make_user: Callable[[], Account]
):
    alice, bob = make_user(), make_user()
    photo = upload_photo(web_server, alice.headers)
    context = browser.new_context(base_url=web_server.url, java_script_enabled=False)
    try:
        answer = context.request.post(
            "/api/v1/session", data={"username": bob.username, "password": bob.password}
        )
        assert answer.ok
        page = context.new_page()
        page.goto(f"/images/{photo['id']}")
        page.get_by_test_id("like-button").click()
        expect(page.get_by_test_id("like-count")).to_have_text("1")
        page.get_by_label("Add a comment").fill("No scripts needed")
        page.get_by_test_id("comment-submit").click()
        expect(page.get_by_test_id("comment-text")).to_have_text("No scripts needed")
    finally:
        context.close()
