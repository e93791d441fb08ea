"""Uploading and looking after photos in a real Chromium against a real server: /upload (a
batch, progress from the bytes sent, live status from the event stream, a refused file among
good ones, a phone screen) and /images/{id} (the picture, editing, deleting with undo, the
original, escaping, who may see what)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import ConsoleMessage, FileChooser, Route, expect

from tests.imagegen import jpeg_bytes
from tests.support.browser import PHONE, Account, BrowserPage, upload_photo
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser

LoggedInPage = Callable[..., tuple[BrowserPage, Account]]
PROCESSING_TIMEOUT_MS = 60_000

# Notes every value a row's progress bar is given (the attribute follows the property), the
# most rows uploading at once, and every state a row was in.
_WATCH_PROGRESS = """
() => {
  window.__progress = {};
  window.__mostUploading = 0;
  window.__states = {};
  window.__samePage = true;
  const list = document.getElementById("upload-list");
  new MutationObserver((changes) => {
    for (const change of changes) {
      const target = change.target;
      const row = target.closest("[data-testid=upload-row]");
      const name = row.dataset.name;
      if (target.tagName === "PROGRESS") {
        (window.__progress[name] = window.__progress[name] || []).push([target.value, target.max]);
      } else if (target === row) {
        (window.__states[name] = window.__states[name] || []).push(row.dataset.state);
      }
    }
    const uploading = list.querySelectorAll("[data-state=uploading]").length;
    window.__mostUploading = Math.max(window.__mostUploading, uploading);
  }).observe(list, {attributes: true, attributeFilter: ["value", "data-state"], subtree: true});
}
"""


def write_jpegs(directory: Path, count: int, prefix: str = "photo") -> list[Path]:
    """Pictures big enough (noise does not compress) for the upload to take a few progress
    events."""
    paths = []
    for number in range(1, count + 1):
        path = directory / f"{prefix}-{number}.jpg"
        path.write_bytes(jpeg_bytes(1600, 1200, noise=True, camera=("Canon", "Canon EOS R5")))
        paths.append(path)
    return paths


def rows(page: BrowserPage) -> Any:
    return page.testid("upload-row")


def row(page: BrowserPage, name: str) -> Any:
    return page.page.locator(f'[data-testid="upload-row"][data-name="{name}"]')


def choose_and_upload(page: BrowserPage, paths: list[Path]) -> None:
    page.testid("file-input").set_input_files([str(p) for p in paths])
    expect(rows(page)).to_have_count(len(paths))
    page.page.evaluate(_WATCH_PROGRESS)
    page.testid("upload-start").click()


def expect_all(page: BrowserPage, names: list[str], state: str) -> None:
    for name in names:
        expect(row(page, name)).to_have_attribute(
            "data-state", state, timeout=PROCESSING_TIMEOUT_MS
        )


def assert_progress_reached_the_end(page: BrowserPage, paths: list[Path]) -> None:
    """Each bar ended full, measured in the bytes of the request (the file and the form)."""
    seen: dict[str, list[list[float]]] = page.page.evaluate("window.__progress")
    for path in paths:
        bar = row(page, path.name).locator("progress")
        value, maximum = bar.evaluate("b => [b.value, b.max]")
        assert value == maximum, (path.name, value, maximum)
        assert maximum >= path.stat().st_size  # the whole body, not a made-up 100 %
        values = [v for v, _ in seen[path.name]]
        assert values[0] == 0 and values[-1] == maximum, values


def refused_upload(message: ConsoleMessage) -> bool:
    """Chromium logs the 415 the server answers for the file that is not a picture."""
    url = message.location.get("url", "")
    return ("/api/v1/images" in url or "/api/v1/tus/" in url) and "415" in message.text


# --- without a browser -----------------------------------------------------------------------


def test_the_upload_page_sends_visitors_to_the_login_first(web_server: ServerProcess):
    response = httpx.get(f"{web_server.url}/upload", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/upload"


def test_an_image_nobody_may_see_is_a_friendly_404(
    web_server: ServerProcess, make_user: Callable[[], Account]
):
    owner, stranger = make_user(), make_user()
    private = upload_photo(web_server, owner.headers, visibility="private", caption="mine only")
    public = upload_photo(web_server, owner.headers, caption="for everyone")

    for path, headers in [
        ("/images/nosuchimage0000", {}),
        (f"/images/{private['id']}", {}),  # anonymous
    ]:
        response = httpx.get(f"{web_server.url}{path}", headers=headers)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "This photo is not here" in response.text
        assert "mine only" not in response.text
        assert response.headers["content-security-policy"].startswith("default-src 'self'")

    # a stranger's session: still not found
    session = httpx.Client(base_url=web_server.url)
    login = session.post(
        "/api/v1/session", json={"username": stranger.username, "password": stranger.password}
    )
    assert login.status_code == 200
    assert session.get(f"/images/{private['id']}").status_code == 404
    # a public image is there for anyone, without the owner's tools
    page = session.get(f"/images/{public['id']}")
    assert page.status_code == 200
    assert "for everyone" in page.text
    assert 'data-testid="owner-tools"' not in page.text
    assert public["original"]["url"].split("?")[0] not in page.text
    session.close()

    # deleted: gone, for the owner too
    assert (
        httpx.delete(
            f"{web_server.url}/api/v1/images/{public['id']}", headers=owner.headers
        ).status_code
        == 204
    )
    owner_session = httpx.Client(base_url=web_server.url)
    owner_session.post(
        "/api/v1/session", json={"username": owner.username, "password": owner.password}
    )
    assert owner_session.get(f"/images/{public['id']}").status_code == 404
    assert owner_session.get(f"/images/{private['id']}").status_code == 200
    owner_session.close()


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        self._in_script = tag == "script"
        if tag == "script" and not names.get("src"):
            self.problems.append("a <script> without src")
        self.problems += [f"<{tag} {n}>" for n in names if n.startswith("on") or n == "style"]

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append("inline script")


def test_the_pages_have_no_inline_script_style_or_handlers(
    web_server: ServerProcess, make_user: Callable[[], Account]
):
    account = make_user()
    body = upload_photo(web_server, account.headers, caption="checked", tags="a b")
    with httpx.Client(base_url=web_server.url) as session:
        login = session.post(
            "/api/v1/session", json={"username": account.username, "password": account.password}
        )
        assert login.status_code == 200
        for path in ("/upload", f"/images/{body['id']}", "/images/nosuchimage0000"):
            response = session.get(path)
            assert response.status_code in (200, 404), path
            assert response.headers["content-security-policy"].startswith("default-src 'self'")
            assert response.headers["x-frame-options"] == "DENY"
            markup = _Markup()
            markup.feed(response.text)
            assert markup.problems == [], (path, markup.problems)
            assert f'<meta name="csrf-token" content="{login.json()["csrf_token"]}">' in (
                response.text
            )


# --- in the browser ----------------------------------------------------------------------------


def test_upload_three_then_edit_delete_undo_and_delete(
    logged_in_page: LoggedInPage,
    web_server: ServerProcess,
    tmp_path: Path,
    screenshots: Path,
):
    page, account = logged_in_page()
    page.page.goto("/upload")
    expect(page.page.locator('meta[name="csrf-token"]')).to_have_count(1)
    expect(page.testid("upload-start")).to_be_disabled()

    paths = write_jpegs(tmp_path, 3)
    page.testid("caption").fill("Harbour at dusk")
    page.testid("tags").fill("sea, dusk")
    page.testid("location").fill("Hamburg")
    page.testid("alt-text").fill("Boats moored in a harbour under an orange sky")
    page.testid("file-input").set_input_files([str(p) for p in paths])
    expect(rows(page)).to_have_count(3)
    expect(page.testid("upload-start")).to_have_text("Upload 3 photos")
    for path in paths:  # a preview of each, from the file itself
        expect(row(page, path.name).locator("img")).to_have_attribute("src", re.compile("^blob:"))
    page.page.screenshot(path=screenshots / "upload-desktop-chosen.png", full_page=True)

    page.page.evaluate(_WATCH_PROGRESS)
    url_before = page.page.url
    page.testid("upload-start").click()
    page.page.screenshot(path=screenshots / "upload-desktop-during.png", full_page=True)

    names = [p.name for p in paths]
    expect_all(page, names, "ready")
    assert page.page.url == url_before
    assert page.page.evaluate("window.__samePage") is True  # no reload: the rows turned live
    expect(page.testid("upload-list")).to_have_attribute("data-live", "events")
    assert_progress_reached_the_end(page, paths)
    ids = []
    for name in names:
        the_row = row(page, name)
        expect(the_row.locator(".upload-status")).to_have_text("Ready")
        image_id = the_row.get_attribute("data-image-id")
        assert image_id
        ids.append(image_id)
        expect(the_row.get_by_role("link", name="View")).to_have_attribute(
            "href", f"/images/{image_id}"
        )
        expect(the_row.locator("img")).to_have_attribute(
            "src", re.compile(f"/media/{image_id}/thumb-")
        )
    expect(page.testid("upload-summary")).to_have_text("3 photos: 3 ready.")
    expect(page.testid("upload-announcer")).to_contain_text("Ready")
    page.page.screenshot(path=screenshots / "upload-desktop-done.png", full_page=True)

    for image_id in ids:  # what the batch fields said, on every image
        body = httpx.get(
            f"{web_server.url}/api/v1/images/{image_id}", headers=account.headers
        ).json()
        assert body["caption"] == "Harbour at dusk"
        assert body["tags"] == ["sea", "dusk"]
        assert body["location"]["name"] == "Hamburg"
        assert body["alt_text"] == "Boats moored in a harbour under an orange sky"
        assert body["owner"] == account.username

    # --- the image page
    image_id = ids[0]
    row(page, names[0]).get_by_role("link", name="View").click()
    page.page.wait_for_url(f"**/images/{image_id}")
    photo = page.testid("photo")
    expect(photo).to_have_attribute("alt", "Boats moored in a harbour under an orange sky")
    expect(photo).to_have_attribute("width", "1600")
    expect(photo).to_have_attribute("height", "1200")
    page.page.wait_for_function(  # loaded, from the source the browser chose
        "img => img.complete && img.naturalWidth > 0 && img.currentSrc !== ''",
        arg=photo.element_handle(),
    )
    current = photo.evaluate("img => img.currentSrc")
    assert re.search(rf"/media/{image_id}/(medium|full)-[0-9a-f]+\.webp$", current), current
    webp = page.page.locator('picture source[type="image/webp"]')
    assert "1080w" in webp.get_attribute("srcset") and "320w" in webp.get_attribute("srcset")
    expect(page.testid("blurhash")).to_have_attribute("data-state", "drawn")
    expect(page.testid("caption")).to_have_text("Harbour at dusk")
    expect(page.testid("tags").get_by_role("link")).to_have_text(["#sea", "#dusk"])
    expect(page.testid("tags").get_by_role("link").first).to_have_attribute("href", "/tags/sea")
    expect(page.testid("location")).to_contain_text("Hamburg")
    expect(page.testid("camera")).to_have_text("Canon EOS R5")
    expect(page.testid("owner")).to_have_attribute("href", f"/users/{account.username}")
    page.page.screenshot(path=screenshots / "image-desktop.png", full_page=True)

    # edit the caption and the tags: saved without a reload, there after one
    page.page.evaluate("window.__samePage = true")
    page.testid("edit-caption").fill("Harbour at dusk, from the bridge")
    page.testid("edit-tags").fill("sea bridge")
    page.testid("edit-save").click()
    expect(page.testid("edit-status")).to_have_text("Saved.")
    expect(page.testid("caption")).to_have_text("Harbour at dusk, from the bridge")
    expect(page.testid("tags").get_by_role("link")).to_have_text(["#sea", "#bridge"])
    assert page.page.evaluate("window.__samePage") is True
    page.page.reload()
    expect(page.testid("caption")).to_have_text("Harbour at dusk, from the bridge")
    expect(page.testid("edit-tags")).to_have_value("sea, bridge")

    # delete: asks first; cancelling with Escape keeps it
    page.testid("delete").click()
    dialog = page.testid("delete-dialog")
    expect(dialog).to_be_visible()
    expect(page.testid("delete-cancel")).to_be_focused()
    page.page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.testid("image-view")).to_be_visible()
    expect(page.testid("delete")).to_be_focused()
    assert httpx.get(f"{web_server.url}/api/v1/images/{image_id}").status_code == 200

    # ... confirming deletes it; Undo brings it back
    page.testid("delete").click()
    page.testid("delete-confirm").click()
    expect(page.testid("deleted-notice")).to_be_visible()
    expect(page.testid("deleted-notice")).to_contain_text("Deleted.")
    expect(page.testid("image-view")).to_be_hidden()
    expect(page.testid("undo")).to_be_focused()
    assert httpx.get(f"{web_server.url}/api/v1/images/{image_id}").status_code == 404
    page.testid("undo").click()
    expect(page.testid("image-view")).to_be_visible()
    expect(page.testid("deleted-notice")).to_be_hidden()
    expect(page.testid("caption")).to_have_text("Harbour at dusk, from the bridge")
    assert httpx.get(f"{web_server.url}/api/v1/images/{image_id}").status_code == 200
    page.page.reload()
    expect(page.testid("photo")).to_be_visible()

    # ... and deleting it again, for good: gone from the feed page and the API
    page.testid("delete").click()
    page.testid("delete-confirm").click()
    expect(page.testid("deleted-notice")).to_be_visible()
    feed = httpx.get(f"{web_server.url}/api/v1/feed", params={"limit": 100}).json()
    listed = [item["id"] for item in feed["items"]]
    assert image_id not in listed
    assert ids[1] in listed and ids[2] in listed
    assert httpx.get(f"{web_server.url}/api/v1/images/{image_id}").status_code == 404
    page.page.goto("/")
    expect(page.page.locator(f'[data-image-id="{ids[1]}"]')).to_have_count(1)
    expect(page.page.locator(f'[data-image-id="{image_id}"]')).to_have_count(0)
    page.expect_console_error(
        lambda m: f"/images/{image_id}" in m.location.get("url", "") and "404" in m.text
    )
    page.page.goto(f"/images/{image_id}")
    expect(page.testid("image-missing")).to_contain_text("This photo is not here")
    page.assert_clean()


def test_a_refused_file_does_not_stop_the_others(logged_in_page: LoggedInPage, tmp_path: Path):
    page, _ = logged_in_page()
    page.expect_console_error(refused_upload)
    page.page.goto("/upload")
    good = write_jpegs(tmp_path, 2, prefix="good")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a picture at all\n")
    zip_named_jpeg = tmp_path / "archive.jpg"
    zip_named_jpeg.write_bytes(b"PK\x03\x04" + bytes(200))
    choose_and_upload(page, [good[0], notes, zip_named_jpeg, good[1]])

    for bad in (notes, zip_named_jpeg):
        expect(row(page, bad.name)).to_have_attribute("data-state", "rejected")
        expect(row(page, bad.name).locator(".upload-status")).to_have_text(
            re.compile(r"^Not uploaded: the file is not a picture in a supported format")
        )
        expect(row(page, bad.name).get_by_role("link", name="View")).to_be_hidden()
    expect_all(page, [p.name for p in good], "ready")
    expect(page.testid("upload-summary")).to_have_text("4 photos: 2 ready, 2 refused.")
    # three at a time: the fourth waited for its turn
    assert page.page.evaluate("window.__mostUploading") == 3
    states = page.page.evaluate("window.__states")
    assert states[good[1].name][:2] == ["waiting", "uploading"]
    page.assert_clean()


def test_a_photo_that_fails_processing_can_be_tried_again(
    logged_in_page: LoggedInPage, tmp_path: Path
):
    page, _ = logged_in_page()
    page.page.goto("/upload")
    whole = jpeg_bytes(1600, 1200, noise=True)
    cut_off = tmp_path / "cut-off.jpg"
    cut_off.write_bytes(whole[: len(whole) // 2])  # a real JPEG header: accepted, then fails
    good = write_jpegs(tmp_path, 1, prefix="good")[0]
    choose_and_upload(page, [cut_off, good])

    failed = row(page, cut_off.name)
    expect(failed).to_have_attribute("data-state", "failed", timeout=PROCESSING_TIMEOUT_MS)
    expect(failed.locator(".upload-status")).to_have_text(re.compile(r"^Failed: .*cut off"))
    expect_all(page, [good.name], "ready")
    retry = failed.get_by_role("button", name="Retry")
    expect(retry).to_be_visible()

    # Retry: processed again (the event stream says so), and the same bytes fail again.
    failed.evaluate(
        """r => { r.__states = [];
                  new MutationObserver(() => r.__states.push(r.dataset.state))
                    .observe(r, {attributes: true, attributeFilter: ["data-state"]}); }"""
    )
    retry.click()
    page.page.wait_for_function(
        """name => {
            const r = document.querySelector(`[data-testid=upload-row][data-name="${name}"]`);
            return r.__states.includes("processing") && r.dataset.state === "failed";
        }""",
        arg=cut_off.name,
        timeout=PROCESSING_TIMEOUT_MS,
    )
    expect(failed.locator(".upload-status")).to_have_text(re.compile(r"^Failed: .*cut off"))
    expect(page.testid("upload-announcer")).to_contain_text("Trying again")

    # Its page says why, and offers the owner to try again there too.
    failed.get_by_role("link", name="View").click()
    expect(page.testid("failure")).to_contain_text("cut off")
    page.page.evaluate("window.__samePage = true")
    page.testid("retry").click()
    # processed again, then the page shows the outcome by itself (a reload)
    page.page.wait_for_function(
        "() => window.__samePage === undefined", timeout=PROCESSING_TIMEOUT_MS
    )
    expect(page.testid("failure")).to_contain_text("cut off")
    page.assert_clean()


def test_markup_in_a_caption_is_only_text(
    logged_in_page: LoggedInPage, open_page: Callable[..., BrowserPage], web_server: ServerProcess
):
    page, account = logged_in_page()
    markup = '<img src=x onerror="window.__owned=1"><b>bold</b> & "quotes"'
    body = upload_photo(
        web_server, account.headers, caption=markup, alt_text='a "quoted" <i>alt</i>', tags="safe"
    )

    visitor = open_page()  # anyone: the server's rendering
    visitor.page.goto(f"/images/{body['id']}")
    expect(visitor.testid("caption")).to_have_text(markup)
    assert visitor.testid("caption").locator("img, b").count() == 0
    expect(visitor.testid("photo")).to_have_attribute("alt", 'a "quoted" <i>alt</i>')
    assert visitor.page.evaluate("window.__owned") is None
    visitor.assert_clean()

    # the owner edits it into other markup: the page's script shows it as text too
    page.page.goto(f"/images/{body['id']}")
    edited = "<script>window.__owned=2</script><a href=/x>link</a>"
    page.testid("edit-caption").fill(edited)
    page.testid("edit-alt-text").fill("<b>alt</b>")
    page.testid("edit-save").click()
    expect(page.testid("edit-status")).to_have_text("Saved.")
    expect(page.testid("caption")).to_have_text(edited)
    assert page.testid("caption").locator("script, a").count() == 0
    expect(page.testid("photo")).to_have_attribute("alt", "<b>alt</b>")
    assert page.page.evaluate("window.__owned") is None
    page.assert_clean()


def test_upload_on_a_phone(
    logged_in_page: LoggedInPage, web_server: ServerProcess, tmp_path: Path, screenshots: Path
):
    page, account = logged_in_page(viewport=PHONE)
    page.page.goto("/upload")
    paths = write_jpegs(tmp_path, 2)
    page.testid("caption").fill("From the ferry")
    page.testid("file-input").set_input_files([str(p) for p in paths])
    expect(rows(page)).to_have_count(2)
    # the second photo gets its own caption and description
    second = row(page, paths[1].name)
    second.get_by_text("Caption and description for this photo").click()
    second.get_by_label("Caption").fill("The lighthouse")
    second.get_by_label("Description").fill("A white lighthouse on rocks")
    page.page.screenshot(path=screenshots / "upload-phone-chosen.png", full_page=True)
    page.page.evaluate(_WATCH_PROGRESS)
    page.testid("upload-start").click()
    page.page.screenshot(path=screenshots / "upload-phone-during.png", full_page=True)
    expect_all(page, [p.name for p in paths], "ready")
    assert page.page.evaluate("window.__samePage") is True
    assert_progress_reached_the_end(page, paths)
    captions = []
    for path in paths:
        image_id = row(page, path.name).get_attribute("data-image-id")
        image = httpx.get(f"{web_server.url}/api/v1/images/{image_id}", headers=account.headers)
        captions.append((image.json()["caption"], image.json()["alt_text"]))
    assert captions == [("From the ferry", ""), ("The lighthouse", "A white lighthouse on rocks")]
    # nothing wider than the screen
    assert page.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.page.screenshot(path=screenshots / "upload-phone-done.png", full_page=True)

    row(page, paths[0].name).get_by_role("link", name="View").click()
    expect(page.testid("photo")).to_be_visible()
    expect(page.testid("caption")).to_have_text("From the ferry")
    assert page.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = page.testid("photo").bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]
    page.page.wait_for_function(  # the browser chooses its source soon after, not at once
        "img => img.currentSrc !== ''", arg=page.testid("photo").element_handle()
    )
    current = page.testid("photo").evaluate("img => img.currentSrc")
    assert re.search(r"/(medium|full)-[0-9a-f]+\.webp$", current), current  # not the thumbnail
    page.page.screenshot(path=screenshots / "image-phone.png", full_page=True)
    page.assert_clean()


def test_the_drop_zone_works_with_the_keyboard(logged_in_page: LoggedInPage, tmp_path: Path):
    page, _ = logged_in_page()
    choosers: list[FileChooser] = []
    # Listening before the page loads: file choosers are intercepted from the start.
    page.page.on("filechooser", lambda chooser: choosers.append(chooser))
    page.page.goto("/upload")
    zone = page.testid("drop-zone")
    zone.focus()
    assert zone.evaluate("z => getComputedStyle(z).outlineStyle") != "none"  # focus is visible

    def chooser_after(key: str) -> FileChooser:
        before = len(choosers)
        zone.focus()
        page.page.keyboard.press(key)
        for _ in range(100):
            if len(choosers) > before:
                return choosers[-1]
            page.page.wait_for_timeout(50)
        raise AssertionError(f"{key!r} on the drop zone opened no file chooser")

    chooser = chooser_after("Enter")
    assert chooser.is_multiple()
    chooser.set_files(str(write_jpegs(tmp_path, 1)[0]))
    expect(rows(page)).to_have_count(1)
    chooser_after(" ").set_files([])
    expect(rows(page)).to_have_count(1)
    page.assert_clean()


def test_downloading_the_original(logged_in_page: LoggedInPage, web_server: ServerProcess):
    page, account = logged_in_page()
    body = upload_photo(web_server, account.headers, caption="original")
    page.page.goto(f"/images/{body['id']}")
    link = page.testid("download-original")
    expect(link).to_have_attribute("href", body["original"]["url"])

    with page.page.expect_download() as download:
        link.click()
    saved = download.value.path()
    assert hashlib.sha256(Path(saved).read_bytes()).hexdigest() == body["original"]["sha256"]
    expect(page.testid("download-status")).to_have_text("")

    # An archived original answers 202 + Retry-After while it is restored (the API's own tests
    # cover that answer; here the page is shown it): the page says so instead of navigating.
    def archived(route: Route) -> None:
        route.fulfill(
            status=202,
            headers={"Retry-After": "900", "Content-Type": "application/json"},
            body='{"detail": "The original is archived", "code": "restoring"}',
        )

    page.page.route(re.compile(r".*/media/.*/original-.*"), archived)
    url = page.page.url
    link.click()
    expect(page.testid("download-status")).to_have_text(
        "The original is archived; a restore has started — try again in 15 minutes."
    )
    assert page.page.url == url
    page.assert_clean()
