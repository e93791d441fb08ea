"""Search in a real Chromium against a real server: the box in the header of every page, the
results as cards and people links, opening a result, private photos for their owner alone,
the keyboard and a phone screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.browser import PHONE, Account, BrowserPage, next_number, upload_photo
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser


def _card(page: BrowserPage, image_id: str) -> Any:
    return page.page.locator(f'[data-testid="card"][data-image-id="{image_id}"]')


def test_search_from_the_header_and_open_a_result(
    web_server: ServerProcess,
    open_page: Callable[..., BrowserPage],
    logged_in_page: Callable[..., tuple[BrowserPage, Account]],
    make_user: Callable[[], Account],
):
    owner = make_user()
    word = f"quokka{next_number()}"
    public = upload_photo(web_server, owner.headers, caption=f"A {word} on the beach")
    private = upload_photo(
        web_server, owner.headers, width=300, caption=f"My {word}", visibility="private"
    )
    page = open_page()
    page.page.goto("/")
    box = page.testid("search-input")
    box.focus()  # by keyboard: type and press Enter
    page.page.keyboard.type(word[:-1])  # the last word as typed so far: a prefix
    page.page.keyboard.press("Enter")
    page.page.wait_for_url(f"**/search?q={word[:-1]}")
    expect(_card(page, public["id"])).to_be_visible()
    expect(_card(page, private["id"])).to_have_count(0)
    expect(page.testid("search-input")).to_have_value(word[:-1])
    _card(page, public["id"]).get_by_role("link").first.click()
    page.page.wait_for_url(f"**/images/{public['id']}")
    expect(page.page.get_by_text(f"A {word} on the beach").first).to_be_visible()
    # people: the owner by the start of their username, a link to their profile
    page.page.goto(f"/search?q={owner.username}")
    person = page.testid("search-person")
    expect(person).to_have_text(f"@{owner.username}")
    person.click()
    page.page.wait_for_url(f"**/users/{owner.username}")
    page.assert_clean()

    own_page, _ = logged_in_page(account=owner)
    own_page.page.goto(f"/search?q={word}")
    expect(_card(own_page, public["id"])).to_be_visible()
    expect(_card(own_page, private["id"])).to_be_visible()
    own_page.assert_clean()


def test_search_on_a_phone_and_with_nothing_to_search_for(open_page: Callable[..., BrowserPage]):
    page = open_page(viewport=PHONE)
    page.page.goto("/")
    expect(page.testid("search-input")).to_be_visible()
    widths = page.page.evaluate(
        "[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
    )
    assert max(widths[:2]) <= widths[2], widths
    page.expect_console_error(lambda message: "status of 422" in message.text)
    page.page.goto("/search?q=%2A%2A%2A")
    expect(page.testid("search-problem")).to_contain_text("at least one word")
    page.page.goto("/search")
    expect(page.testid("search-page-input")).to_be_focused()
    page.assert_clean()
