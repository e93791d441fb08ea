"""Accounts, feeds, profiles, tags and following, in a real Chromium against a real server:
registering and logging in through the forms, a caption that tries to be HTML, infinite
scroll, the blurhash placeholders, Follow and the home feed, a phone screen, and screenshots.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import Dialog, Route, expect

from shutterbox.entrypoints.web.auth_pages import safe_next
from shutterbox.entrypoints.web.cards import date_label, rfc3339
from tests.support.browser import (
    PASSWORD,
    PHONE,
    Account,
    BrowserPage,
    new_username,
    register_through_page,
    upload_photo,
)
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser

OpenPage = Callable[..., BrowserPage]
MakeUser = Callable[[], Account]

EVIL_CAPTION = "<script>alert(1)</script><b>x</b>"


def card(page: BrowserPage, image_id: str) -> Any:
    return page.page.locator(f'[data-testid="card"][data-image-id="{image_id}"]')


def wait_until_images_load(page: BrowserPage) -> None:
    """Until every image the browser has started loading has arrived (for a screenshot)."""
    page.page.wait_for_function(
        """() => [...document.querySelectorAll(".card-img")]
                 .filter(img => img.loading === "eager")
                 .every(img => img.complete && img.naturalWidth > 0)"""
    )


def expect_error_status(page: BrowserPage, path: str, status: int) -> None:
    """Chromium logs a page answered with an error status; here that is the point."""
    page.expect_console_error(
        lambda message: (
            message.location.get("url", "").endswith(path) and f"status of {status}" in message.text
        )
    )


def no_horizontal_overflow(page: BrowserPage) -> None:
    widths = page.page.evaluate(
        "[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
    )
    assert max(widths[:2]) <= widths[2], widths


# --- without a browser --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "goes_to"),
    [
        ("/home", "/home"),
        ("/users/alice?limit=5", "/users/alice?limit=5"),
        ("", "/"),
        (None, "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/home", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("home", "/"),
        ("/home\r\nSet-Cookie: x=1", "/"),
    ],
)
def test_after_logging_in_only_a_path_on_this_site(asked: str | None, goes_to: str):
    assert safe_next(asked) == goes_to


def test_a_cross_site_login_is_refused(web_server: ServerProcess, make_user: MakeUser):
    account = make_user()
    form = {"username": account.username, "password": account.password, "next": "/"}
    with httpx.Client(base_url=web_server.url) as client:
        evil = client.post("/login", data=form, headers={"Origin": "https://evil.example"})
        assert evil.status_code == 403
        assert "another site" in evil.text
        assert "set-cookie" not in evil.headers
        anonymous = client.post("/login", data=form)  # no Origin, no Referer: not a page's post
        assert anonymous.status_code == 403
        evil_register = client.post(
            "/register",
            data={"username": new_username(), "password": PASSWORD},
            headers={"Origin": "https://evil.example"},
        )
        assert evil_register.status_code == 403
        own = client.post("/login", data=form, headers={"Origin": web_server.url})
        assert own.status_code == 303
        assert own.headers["location"] == "/"
        assert "shutterbox_session=" in own.headers["set-cookie"]
        assert "httponly" in own.headers["set-cookie"].lower()


def test_the_forms_answer_mistakes_with_the_right_status(
    web_server: ServerProcess, make_user: MakeUser
):
    account = make_user()
    page = {"Origin": web_server.url}
    with httpx.Client(base_url=web_server.url, headers=page) as client:
        taken = client.post("/register", data={"username": account.username, "password": PASSWORD})
        assert taken.status_code == 409
        assert "taken" in taken.text
        short = client.post("/register", data={"username": "ab", "password": PASSWORD})
        assert short.status_code == 400
        assert "3-30 characters" in short.text
        weak = client.post("/register", data={"username": new_username(), "password": "short"})
        assert weak.status_code == 400
        empty = client.post("/login", data={})
        assert empty.status_code == 400
        wrong = client.post("/login", data={"username": account.username, "password": "nope" * 3})
        assert wrong.status_code == 401
        nobody = client.post("/login", data={"username": "nobody_here", "password": PASSWORD})
        assert nobody.status_code == 401
        # Logging out needs the session's CSRF token from the form.
        client.post("/login", data={"username": account.username, "password": PASSWORD})
        assert client.get("/home").status_code == 200
        forged = client.post("/logout", data={"csrf_token": "0" * 64})
        assert forged.status_code == 403
        assert client.get("/home").status_code == 200  # still logged in


def test_anonymous_home_goes_to_the_login(web_server: ServerProcess):
    response = httpx.get(f"{web_server.url}/home")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/home"


# --- registering, logging out and in --------------------------------------------------------


def test_register_log_out_and_log_in_again(open_page: OpenPage, screenshots: Path):
    page = open_page()
    username = new_username("reg")
    register_through_page(page, username)
    nav = page.page.get_by_role("navigation", name="Main").get_by_role("link")
    expect(nav).to_have_text(["Feed", "Home", "Upload", "Lab"])
    expect(page.testid("account-name")).to_have_attribute("href", f"/users/{username}")
    token = page.page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token and len(token) >= 32

    page.testid("logout").click()
    page.page.wait_for_url("**/")
    expect(page.testid("login-link")).to_be_visible()
    expect(page.testid("account-name")).to_have_count(0)
    assert page.page.locator('meta[name="csrf-token"]').count() == 0
    assert [c for c in page.page.context.cookies() if c["name"] == "shutterbox_session"] == []

    # A protected page sends the visitor to the login, and the login back to it.
    page.page.goto("/home")
    page.page.wait_for_url("**/login?next=/home")
    page.page.get_by_label("Username").fill(username)
    page.page.get_by_label("Password").fill("not the password")
    expect_error_status(page, "/login", 401)
    with page.page.expect_response(re.compile(r"/login$")) as answer:
        page.page.get_by_role("button", name="Log in").click()
    assert answer.value.status == 401
    expect(page.testid("auth-error")).to_have_text("Wrong username or password.")
    expect(page.page.get_by_label("Username")).to_have_value(username)
    expect(page.page.get_by_label("Password")).to_be_focused()

    page.page.get_by_label("Password").fill(PASSWORD)
    page.page.get_by_role("button", name="Log in").click()
    page.page.wait_for_url("**/home")
    expect(page.testid("account-name")).to_have_text(username)
    expect(page.page.get_by_role("heading", level=1)).to_have_text("Home")
    page.assert_clean()


def test_the_login_page_and_its_labels(open_page: OpenPage, screenshots: Path):
    for name, viewport in (("desktop", None), ("phone", PHONE)):
        page = open_page(viewport=viewport)
        page.page.goto("/login")
        username = page.page.get_by_label("Username")
        expect(username).to_have_attribute("autocomplete", "username")
        expect(username).to_be_focused()
        expect(page.page.get_by_label("Password")).to_have_attribute(
            "autocomplete", "current-password"
        )
        no_horizontal_overflow(page)
        page.page.screenshot(path=screenshots / f"login-{name}.png", full_page=True)
        page.assert_clean()
    page.page.goto("/register")
    expect(page.page.get_by_label("Password")).to_have_attribute("autocomplete", "new-password")
    page.assert_clean()


# --- cards ------------------------------------------------------------------------------------


def test_a_caption_is_text_everywhere(
    open_page: OpenPage, web_server: ServerProcess, make_user: MakeUser
):
    owner = make_user()
    tag = new_username("xss")
    evil = upload_photo(web_server, owner.headers, caption=EVIL_CAPTION, tags=tag)
    newer = upload_photo(web_server, owner.headers, caption="a newer one")
    page = open_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.page.on("dialog", on_dialog)

    # Rendered by the server: the feed, the tag page, the profile.
    # ... and built by feed.js: the profile one photo per page, the evil one on the second.
    for path in (
        "/",
        f"/tags/{tag}",
        f"/users/{owner.username}",
        f"/users/{owner.username}?limit=1",
    ):
        page.page.goto(path)
        shown = card(page, evil["id"])
        expect(shown).to_have_count(1)
        caption = shown.get_by_test_id("card-caption")
        assert caption.evaluate("e => e.textContent") == EVIL_CAPTION
        assert shown.locator("b, script").count() == 0
        expect(shown.locator("img")).to_have_attribute("alt", EVIL_CAPTION)
        tag_links = shown.get_by_test_id("card-tag")
        expect(tag_links).to_have_text([f"#{tag}"])
        expect(tag_links).to_have_attribute("href", f"/tags/{tag}")
        expect(shown.get_by_test_id("card-owner")).to_have_attribute(
            "href", f"/users/{owner.username}"
        )
    expect(card(page, newer["id"])).to_have_count(1)
    feed = page.testid("feed")
    expect(feed).to_have_attribute("data-pages", "2")
    page.page.wait_for_timeout(200)  # time for a script that should not run
    assert dialogs == []
    page.assert_clean()


def test_alt_text_and_responsive_images(
    open_page: OpenPage, web_server: ServerProcess, make_user: MakeUser
):
    owner = make_user()
    described = upload_photo(
        web_server,
        owner.headers,
        width=2400,
        height=1600,
        caption="Harbour",
        alt_text="Fishing boats moored in a harbour at dusk",
    )
    bare = upload_photo(web_server, owner.headers)
    page = open_page()
    page.page.goto(f"/users/{owner.username}")
    img = card(page, described["id"]).locator("img")
    expect(img).to_have_attribute("alt", "Fishing boats moored in a harbour at dusk")
    expect(card(page, bare["id"]).locator("img")).to_have_attribute(
        "alt", f"Photo by {owner.username}"
    )
    variants = described["variants"]
    assert img.get_attribute("srcset") == ", ".join(
        f"{v['formats']['jpeg']} {v['width']}w" for v in variants.values()
    )
    assert img.get_attribute("src") == variants["medium"]["formats"]["jpeg"]
    assert img.get_attribute("width") == str(variants["medium"]["width"])
    assert img.get_attribute("height") == str(variants["medium"]["height"])
    assert "100vw" in (img.get_attribute("sizes") or "")
    webp = card(page, described["id"]).locator('picture source[type="image/webp"]')
    expect(webp).to_have_attribute(
        "srcset", ", ".join(f"{v['formats']['webp']} {v['width']}w" for v in variants.values())
    )
    # The browser picked a size from the srcset (WebP, as Chromium decodes it).
    page.page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0 && img.currentSrc !== ''",
        arg=img.element_handle(),
    )
    current = img.evaluate("img => img.currentSrc")
    assert current in {web_server.url + v["formats"]["webp"] for v in variants.values()}, current
    page.assert_clean()


def test_the_blurhash_shows_until_the_image_arrives(
    open_page: OpenPage, web_server: ServerProcess, make_user: MakeUser
):
    owner = make_user()
    image = upload_photo(web_server, owner.headers, width=640, height=480)
    assert image["blurhash"]
    page = open_page()
    held: list[Route] = []
    page.page.route("**/media/**", lambda route: held.append(route))  # held until we say so
    page.page.goto(f"/users/{owner.username}", wait_until="domcontentloaded")
    shown = card(page, image["id"])
    placeholder = shown.locator("canvas.card-placeholder")
    expect(placeholder).to_have_attribute("data-state", "drawn")
    expect(placeholder).to_have_attribute("data-blurhash", image["blurhash"])
    assert shown.locator("img").evaluate("img => img.complete && img.naturalWidth > 0") is False
    expect(shown.locator(".card-media")).not_to_have_class(re.compile(r"\bis-loaded\b"))
    # The placeholder is a picture (red left, blue right, as the photo), not an empty box.
    left, right = placeholder.evaluate(
        """canvas => {
            const data = canvas.getContext("2d").getImageData(0, 0, 32, 32).data;
            const at = (x, y) => Array.from(data.slice((y * 32 + x) * 4, (y * 32 + x) * 4 + 4));
            return [at(2, 16), at(29, 16)];
        }"""
    )
    assert left[3] == right[3] == 255
    assert left[0] > left[2] and right[2] > right[0], (left, right)
    box = placeholder.bounding_box()
    media = shown.locator(".card-media").bounding_box()
    assert box and media and abs(box["height"] - media["height"]) < 1 and box["height"] > 50
    background = shown.locator(".card-media").evaluate("e => getComputedStyle(e).backgroundColor")
    hex_color = image["dominant_color"].lstrip("#")
    assert background == "rgb({}, {}, {})".format(
        *(int(hex_color[i : i + 2], 16) for i in (0, 2, 4))
    )

    assert held
    for route in held:
        route.continue_()
    page.page.unroute("**/media/**")
    expect(shown.locator(".card-media")).to_have_class(re.compile(r"\bis-loaded\b"))
    page.assert_clean()


# --- infinite scroll ------------------------------------------------------------------------


def test_scrolling_down_loads_the_next_page(
    open_page: OpenPage, web_server: ServerProcess, make_user: MakeUser
):
    owner = make_user()
    images = [upload_photo(web_server, owner.headers, caption=f"photo {i}") for i in range(8)]
    newest_first = [i["id"] for i in reversed(images)]
    page = open_page(viewport=PHONE)
    asked: list[str] = []
    page.page.on("request", lambda r: asked.append(r.url) if "/api/v1/users/" in r.url else None)
    page.page.goto(f"/users/{owner.username}?limit=6")
    grid = page.testid("feed-grid")
    expect(grid.get_by_test_id("card")).to_have_count(6)
    page.page.wait_for_timeout(300)
    assert asked == []  # the end of the grid is far below: nothing fetched yet
    expect(page.testid("feed")).to_have_attribute("data-pages", "1")
    loading = [i.get_attribute("loading") for i in grid.locator("img").all()]
    assert loading == ["eager"] * 4 + ["lazy"] * 2

    page.page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    expect(grid.get_by_test_id("card")).to_have_count(8)
    ids = grid.get_by_test_id("card").evaluate_all("cards => cards.map(c => c.dataset.imageId)")
    assert ids == newest_first
    assert len(asked) == 1 and "limit=6" in asked[0] and "cursor=" in asked[0]
    expect(page.testid("feed")).to_have_attribute("data-pages", "2")
    expect(page.testid("feed-end")).to_be_visible()
    expect(page.testid("load-more")).to_be_hidden()
    expect(page.testid("feed-status")).to_have_text("2 more photos loaded.")

    # A card feed.js built is the same markup as one the server rendered.
    def shape(index: int) -> Any:
        return (
            grid.get_by_test_id("card")
            .nth(index)
            .evaluate(
                """card => [card, ...card.querySelectorAll("*")].map(e =>
                e.tagName + "[" + [...e.attributes].map(a => a.name).sort().join(",") + "]"
                + [...e.classList].filter(c => c !== "is-loaded").sort().join("."))"""
            )
        )

    assert shape(7) == shape(5)
    newest_loaded = grid.get_by_test_id("card").nth(7)
    expect(newest_loaded.locator("canvas")).to_have_attribute("data-state", "drawn")
    assert newest_loaded.locator("img").get_attribute("loading") == "lazy"
    expect(newest_loaded.get_by_test_id("card-caption")).to_have_text("photo 0")
    # The server and the script write dates alike.
    for index, image in ((0, images[-1]), (7, images[0])):
        created = datetime.fromisoformat(image["created_at"])
        when = grid.get_by_test_id("card").nth(index).locator("time")
        expect(when).to_have_text(date_label(created))
        expect(when).to_have_attribute("datetime", rfc3339(created))
    page.assert_clean()


def test_load_more_with_the_keyboard(
    open_page: OpenPage, web_server: ServerProcess, make_user: MakeUser
):
    """Without IntersectionObserver nothing loads by itself: "Load more" does it, and the
    focus moves to the first new photo."""
    owner = make_user()
    images = [upload_photo(web_server, owner.headers) for _ in range(5)]
    page = open_page()
    page.page.add_init_script(script="delete window.IntersectionObserver;")
    page.page.goto(f"/users/{owner.username}?limit=2")
    grid = page.testid("feed-grid")
    expect(grid.get_by_test_id("card")).to_have_count(2)
    more = page.testid("load-more")
    expect(more).to_have_attribute("href", re.compile(r"\?limit=2&cursor="))
    more.focus()
    page.page.keyboard.press("Enter")
    expect(grid.get_by_test_id("card")).to_have_count(4)
    focused = page.page.evaluate(
        "document.activeElement.closest('[data-testid=card]').dataset.imageId"
    )
    assert focused == images[2]["id"]  # newest first: the third newest is the first new one
    more.focus()
    page.page.keyboard.press("Enter")
    expect(grid.get_by_test_id("card")).to_have_count(5)
    expect(more).to_be_hidden()
    expect(page.testid("feed-end")).to_be_visible()
    page.assert_clean()


def test_the_next_page_without_javascript(web_server: ServerProcess, make_user: MakeUser):
    owner = make_user()
    for _ in range(3):
        upload_photo(web_server, owner.headers)
    with httpx.Client(base_url=web_server.url) as client:
        first = client.get(f"/users/{owner.username}", params={"limit": 2})
        more = re.search(r'href="([^"]+)" data-feed-more', first.text)
        assert more is not None
        second = client.get(more.group(1).replace("&amp;", "&"))
        assert second.status_code == 200
        assert second.text.count('data-testid="card"') == 1
        assert "Back to the newest photos" in second.text
        broken = client.get("/", params={"cursor": "not-a-cursor"})
        assert broken.status_code == 400


# --- following and home ---------------------------------------------------------------------


def test_follow_from_the_profile_and_see_it_at_home(
    open_page: OpenPage,
    logged_in_page: Callable[..., tuple[BrowserPage, Account]],
    web_server: ServerProcess,
    make_user: MakeUser,
    screenshots: Path,
):
    alice = make_user()
    photo = upload_photo(web_server, alice.headers, caption="Alice's sunset", tags="sunset")
    hidden = upload_photo(web_server, alice.headers, caption="just mine", visibility="private")

    anonymous = open_page()
    anonymous.page.goto(f"/users/{alice.username}")
    expect(anonymous.testid("follow-button")).to_have_count(0)
    expect(anonymous.testid("login-to-follow")).to_have_attribute(
        "href", f"/login?next=/users/{alice.username}"
    )
    expect(card(anonymous, hidden["id"])).to_have_count(0)
    anonymous.assert_clean()

    page, bob = logged_in_page()
    page.page.goto("/home")
    expect(page.testid("account-name")).to_have_text(bob.username)
    expect(card(page, photo["id"])).to_have_count(0)
    expect(page.testid("empty")).to_be_visible()

    page.page.goto(f"/users/{alice.username}")
    button = page.testid("follow-button")
    expect(button).to_have_text("Follow")
    expect(page.testid("count-followers")).to_have_text("0")
    expect(page.testid("count-images")).to_have_text("1")  # the private one is not counted
    button.click()
    expect(button).to_have_text("Unfollow")
    expect(page.testid("count-followers")).to_have_text("1")
    expect(page.testid("follow-status")).to_contain_text("You follow")
    wait_until_images_load(page)
    page.page.screenshot(path=screenshots / "profile-desktop.png", full_page=True)
    page.page.reload()
    expect(button).to_have_text("Unfollow")  # it was saved

    page.page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    page.page.wait_for_url("**/home")
    expect(card(page, photo["id"])).to_have_count(1)
    expect(card(page, hidden["id"])).to_have_count(0)
    expect(card(page, photo["id"]).get_by_test_id("card-caption")).to_have_text("Alice's sunset")

    page.page.goto(f"/users/{alice.username}")
    button.focus()
    page.page.keyboard.press("Enter")  # unfollow with the keyboard
    expect(button).to_have_text("Follow")
    expect(page.testid("count-followers")).to_have_text("0")
    page.page.goto("/home")
    expect(card(page, photo["id"])).to_have_count(0)

    # Your own profile has no Follow button, and shows your private photos.
    alice_page, _ = logged_in_page(account=alice)
    alice_page.page.goto(f"/users/{alice.username}")
    expect(alice_page.testid("follow-button")).to_have_count(0)
    expect(card(alice_page, hidden["id"]).get_by_test_id("card-private")).to_be_visible()
    expect(alice_page.testid("count-images")).to_have_text("2")
    for watched in (page, alice_page):
        watched.assert_clean()


def test_home_pages_through_the_api_with_the_session_cookie(
    logged_in_page: Callable[..., tuple[BrowserPage, Account]], web_server: ServerProcess
):
    """Photos uploaded with the page's session (cookie and CSRF header), and /home's next
    pages fetched by feed.js with the same cookie."""
    page, _ = logged_in_page()
    page.page.goto("/home")
    token = page.page.locator('meta[name="csrf-token"]').get_attribute("content")
    cookie = next(
        c["value"] for c in page.page.context.cookies() if c["name"] == "shutterbox_session"
    )
    session = {"Cookie": f"shutterbox_session={cookie}", "X-CSRF-Token": str(token)}
    mine = [upload_photo(web_server, session, caption=f"mine {i}") for i in range(3)]
    page.page.goto("/home?limit=1")
    grid = page.testid("feed-grid")
    expect(grid.get_by_test_id("card")).to_have_count(3)
    ids = grid.get_by_test_id("card").evaluate_all("cards => cards.map(c => c.dataset.imageId)")
    assert ids == [m["id"] for m in reversed(mine)]
    expect(page.testid("feed")).to_have_attribute("data-pages", "3")
    page.assert_clean()


def test_follow_counts_come_from_the_server(
    logged_in_page: Callable[..., tuple[BrowserPage, Account]],
    web_server: ServerProcess,
    make_user: MakeUser,
):
    """Following someone another visitor also follows: the count is the server's, not +1."""
    carol = make_user()
    dave = make_user()
    followed = httpx.put(
        f"{web_server.url}/api/v1/users/{carol.username}/follow", headers=dave.headers
    )
    assert followed.status_code == 204
    page, _ = logged_in_page()
    page.page.goto(f"/users/{carol.username}")
    expect(page.testid("count-followers")).to_have_text("1")
    # Someone else follows carol after the page was rendered.
    erin = make_user()
    httpx.put(f"{web_server.url}/api/v1/users/{carol.username}/follow", headers=erin.headers)
    page.testid("follow-button").click()
    expect(page.testid("count-followers")).to_have_text("3")
    page.assert_clean()


# --- pages at two sizes ---------------------------------------------------------------------


def test_feed_profile_and_tag_on_a_phone_and_a_desktop(
    open_page: OpenPage, web_server: ServerProcess, make_user: MakeUser, screenshots: Path
):
    owner = make_user()
    tag = new_username("harbour")
    for i, (width, height) in enumerate(((1600, 1200), (1200, 1600), (1600, 900), (1000, 1000))):
        upload_photo(
            web_server,
            owner.headers,
            width=width,
            height=height,
            caption=f"Harbour study {i + 1}, a caption long enough to wrap on a narrow screen",
            tags=f"{tag} sea boats",
        )
    for name, viewport in (("desktop", None), ("phone", PHONE)):
        page = open_page(viewport=viewport)
        for shot, path in (
            ("feed", "/"),
            ("tag", f"/tags/{tag}"),
            ("profile", f"/users/{owner.username}"),
        ):
            page.page.goto(path)
            expect(page.testid("card").first).to_be_visible()
            wait_until_images_load(page)
            no_horizontal_overflow(page)
            columns = page.testid("feed-grid").evaluate(
                "g => getComputedStyle(g).gridTemplateColumns.split(' ').length"
            )
            assert columns == (1 if viewport == PHONE else 3), (path, columns)
            if not (shot == "profile" and name == "desktop"):  # that one is taken logged in
                page.page.screenshot(path=screenshots / f"{shot}-{name}.png", full_page=True)
        page.page.goto(f"/tags/{tag}")
        expect(page.testid("tag-name")).to_have_text(f"#{tag}")
        expect(page.testid("card")).to_have_count(4)
        page.assert_clean()


def test_empty_states(open_page: OpenPage, make_user: MakeUser):
    quiet = make_user()
    page = open_page()
    page.page.goto(f"/users/{quiet.username}")
    expect(page.testid("empty")).to_contain_text(f"{quiet.username} has not shared any photos")
    page.page.goto(f"/tags/{new_username('nothing')}")
    expect(page.testid("empty")).to_contain_text("No public photos are tagged")
    expect_error_status(page, "/users/nobody_at_all", 404)
    page.page.goto("/users/nobody_at_all")
    expect(page.testid("message")).to_contain_text("Nobody here is called")
    page.assert_clean()
