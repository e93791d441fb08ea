""" "Load more" appends the server's own cards: the next page of a feed comes as an HTML
fragment rendered from ``_image_card.html``, never rebuilt by the script."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Response, expect

from tests.support.browser import PHONE, Account, BrowserPage, upload_photo
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser

OpenPage = Callable[..., BrowserPage]
MakeUser = Callable[[], Account]

CARD_ID = re.compile(r'data-testid="card" data-image-id="([^"]+)"')

# A card's elements with their attribute names and classes, leaving out what the page adds
# once the card is in it (its image loaded, its placeholder drawn).
SHAPE = """card => [card, ...card.querySelectorAll("*")].map(e =>
    e.tagName + "[" + [...e.attributes].map(a => a.name)
        .filter(n => !["data-watched", "data-state", "style"].includes(n)).sort().join(",")
    + "]" + [...e.classList].filter(c => c !== "is-loaded").sort().join("."))"""


def test_load_more_appends_the_servers_cards(
    open_page: OpenPage, web_server: ServerProcess, make_user: MakeUser
):
    owner = make_user()
    images = [upload_photo(web_server, owner.headers, caption=f"photo {i}") for i in range(5)]
    newest_first = [i["id"] for i in reversed(images)]
    page = open_page(viewport=PHONE)
    page.page.add_init_script(script="delete window.IntersectionObserver;")
    fragments: list[tuple[str, str, str]] = []  # (url, content type, the cards it held)
    api_lists: list[str] = []

    def seen(response: Response) -> None:
        if "/fragments/" in response.url:
            cards = ",".join(CARD_ID.findall(response.text()))
            fragments.append((response.url, response.headers["content-type"], cards))
        elif re.search(r"^[^?]*/api/v1/users/[^/]+/images", response.url):
            api_lists.append(response.url)

    page.page.on("response", seen)
    page.page.goto(f"/users/{owner.username}?limit=2")
    grid = page.testid("feed-grid")
    expect(grid.get_by_test_id("card")).to_have_count(2)
    first_shape: Any = grid.get_by_test_id("card").nth(1).evaluate(SHAPE)

    more = page.testid("load-more")
    more.click()
    expect(grid.get_by_test_id("card")).to_have_count(4)
    expect(more).to_have_attribute("href", re.compile(r"\?limit=2&cursor="))  # still a link
    more.click()
    expect(grid.get_by_test_id("card")).to_have_count(5)
    expect(more).to_be_hidden()
    expect(page.testid("feed-end")).to_be_visible()
    expect(page.testid("feed")).to_have_attribute("data-pages", "3")

    ids = grid.get_by_test_id("card").evaluate_all("cards => cards.map(c => c.dataset.imageId)")
    assert ids == newest_first and len(set(ids)) == 5  # no card twice across pages
    # The next pages came from the fragment route as HTML, not from the JSON API.
    assert api_lists == []
    assert [url.split("?")[0] for url, _, _ in fragments] == [
        f"{web_server.url}/fragments/api/v1/users/{owner.username}/images"
    ] * 2
    assert all(kind.startswith("text/html") for _, kind, _ in fragments)
    assert [cards for _, _, cards in fragments] == [",".join(ids[2:4]), ids[4]]
    # An appended card is the server's markup: the same elements as a first-page card.
    for index in (2, 4):
        assert grid.get_by_test_id("card").nth(index).evaluate(SHAPE) == first_shape
    expect(grid.get_by_test_id("card").nth(4).get_by_test_id("card-caption")).to_have_text(
        "photo 0"
    )
    expect(grid.get_by_test_id("card").nth(4).locator("canvas")).to_have_attribute(
        "data-state", "drawn"
    )
    page.assert_clean()
