"""The cost lab (/lab) in a real Chromium against a real server: the seed's numbers, every
control, the page against the API's JSON, the live bill, a phone screen, the security
policy."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from playwright.sync_api import ConsoleMessage, expect

from tests.imagegen import jpeg_bytes
from tests.support.browser import PHONE, BrowserPage
from tests.support.clients import wait_for_status
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser

OpenPage = Callable[..., BrowserPage]

SEED = {
    "daily_uploads": "100000",
    "variants": "thumb,medium,full",
    "originals_class": "STANDARD",
    "cdn": "true",
    "cdn_hit_rate": "0.95",
    "views_per_upload": "10",
}


# --- what the page should show for a number from the API --------------------------------------


def _half_up(value: float, exponent: int) -> Decimal:
    # The browser rounds the shortest decimal form of the float (1.275 → 1.28), half up.
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)


def money(value: float) -> str:
    """Whole dollars like the seed ($414); cents below $10; "< $0.01" for a trace."""
    if value != 0 and abs(value) < 0.005:
        return "< " + money(0.01)
    digits = 2 if value != 0 and abs(value) < 10 else 0
    return f"${_half_up(value, -digits):,}"


def amount(value: float) -> str:
    """Three significant digits (12.75 → 12.8, 0.375 → 0.375, 1234.5 → 1,230)."""
    if value == 0:
        return "0"
    rounded = _half_up(value, Decimal(repr(value)).adjusted() - 2)
    text = f"{rounded:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def query(values: dict[str, str]) -> str:
    """The query string the page sends, in its order (and puts in its own URL)."""
    return "&".join(f"{name}={values[name]}" for name in SEED)


def estimate(server: ServerProcess, values: dict[str, str]) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/api/v1/cost/estimate", params=values)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def wait_for_bill(browser_page: BrowserPage, values: dict[str, str]) -> None:
    """Until the page shows the API's answer for exactly these inputs."""
    browser_page.page.wait_for_function(
        """q => {
            const bill = document.getElementById("bill");
            return bill.dataset.state === "ready" && bill.dataset.query === q;
        }""",
        arg=query(values),
    )


def bill_refused(message: ConsoleMessage) -> bool:
    """Chromium logs the live bill's 401/403 for a visitor who is not an admin."""
    return "/api/v1/admin/bill" in message.location.get("url", "") and bool(
        re.search(r"\b40[13]\b", message.text)
    )


def open_lab(open_page: OpenPage, path: str = "/lab", **options: Any) -> BrowserPage:
    page = open_page(**options)
    if "headers" not in options:
        page.expect_console_error(bill_refused)
    page.page.goto(path)
    return page


def texts(page: BrowserPage, selector: str) -> list[list[str]]:
    """The cells of each row (also of rows in a closed <details>)."""
    cells: list[list[str]] = page.page.locator(selector).evaluate_all(
        """rows => rows.map(row => [...row.querySelectorAll("th, td")]
                                   .map(cell => cell.textContent.trim()))"""
    )
    return cells


def assert_shows(page: BrowserPage, body: dict[str, Any]) -> None:
    """Every number, breakdown, month and price on the page is the API's."""
    for testid, key, show in [
        ("stored-tb", "stored_tb", amount),
        ("egress-tb", "egress_tb", amount),
        ("per-upload-mb", "per_upload_mb", amount),
        ("storage-usd", "storage_usd", money),
        ("egress-usd", "egress_usd", money),
        ("sql-usd", "sql_usd", money),
        ("total-usd", "total_usd", money),
    ]:
        expect(page.testid(testid)).to_have_text(show(body[key]))
    expect(page.testid("verdict")).to_have_text(body["verdict"])
    expect(page.testid("advice")).to_have_text(body["advice"])

    by_class = texts(page, '[data-testid="storage-by-class"] tr')
    assert [row[1:] for row in by_class] == [
        [amount(a["tb"]), money(a["usd"])] for a in body["storage_by_class"].values()
    ]
    keys = page.page.locator('[data-testid="storage-by-class"] tr').evaluate_all(
        "rows => rows.map(r => r.dataset.key)"
    )
    assert keys == list(body["storage_by_class"])
    by_path = texts(page, '[data-testid="egress-by-path"] tr')
    assert [row[1:] for row in by_path] == [
        [amount(a["tb"]), money(a["usd"])] for a in body["egress_by_path"].values()
    ]

    months = texts(page, '[data-testid="months-table"] tr')
    assert months == [
        [
            str(m["month"]),
            amount(m["stored_tb"]),
            money(m["storage_usd"]),
            money(m["egress_usd"]),
            money(m["sql_usd"]),
            money(m["total_usd"]),
        ]
        for m in body["months"]
    ]
    chart_months = page.page.locator('[data-testid="chart"] g.month')
    assert chart_months.evaluate_all("gs => gs.map(g => Number(g.dataset.month))") == [
        m["month"] for m in body["months"]
    ]

    prices = texts(page, '[data-testid="price-sheet"] tr')
    sheet = body["price_sheet"]["prices"]
    assert prices == [
        [
            p["label"],
            f"{Decimal(str(p['usd'])).normalize():f}",
            p["unit"],
            re.sub(r"^https?://", "", p["source"]),
        ]
        for p in sheet
    ]


# --- the page and its headers, without a browser ------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self.nav_links: list[dict[str, str | None]] = []
        self._in_script = False
        self._in_nav = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        self._in_nav = self._in_nav or tag == "nav"
        if self._in_nav and tag == "a":
            self.nav_links.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        if tag == "nav":
            self._in_nav = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.script_text.append(data)


def test_the_lab_page_has_a_strict_policy_and_no_inline_script(web_server: ServerProcess):
    response = httpx.get(f"{web_server.url}/lab")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = {
        name: value
        for name, _, value in (
            part.strip().partition(" ")
            for part in response.headers["content-security-policy"].split(";")
        )
    }
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["img-src"].split() == ["'self'", "data:", "blob:"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"

    page = _Tags()
    page.feed(response.text)
    assert page.script_text == []  # no inline script
    scripts = [attrs for tag, attrs in page.tags if tag == "script"]
    assert scripts and all(attrs.get("src") for attrs in scripts)
    for tag, attrs in page.tags:
        handlers = [name for name in attrs if name.startswith("on")]
        assert not handlers, f"<{tag}> has inline handlers {handlers}"
        assert "style" not in attrs, f"<{tag}> has an inline style"

    assert [(a["href"], a.get("aria-current")) for a in page.nav_links] == [
        ("/", None),
        ("/upload", None),
        ("/lab", "page"),
    ]

    assets = [
        attrs.get("src") or attrs.get("href")
        for tag, attrs in page.tags
        if tag in ("script", "link")
        and (attrs.get("src") or attrs.get("href") or "").startswith("/static/")
    ]
    assert {re.sub(r"\?.*", "", str(a)) for a in assets} >= {"/static/app.css", "/static/lab.js"}
    for asset in assets:
        fingerprinted = httpx.get(f"{web_server.url}{asset}")
        assert fingerprinted.status_code == 200
        assert fingerprinted.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert fingerprinted.headers["x-content-type-options"] == "nosniff"
        plain = httpx.get(f"{web_server.url}{re.sub(r'[?].*', '', str(asset))}")
        assert plain.content == fingerprinted.content
        assert "immutable" not in plain.headers["cache-control"]
        stale = httpx.get(f"{web_server.url}{re.sub(r'v=.*', 'v=0000', str(asset))}")
        assert "immutable" not in stale.headers["cache-control"]


def test_pages_stay_out_of_the_api_documentation(web_server: ServerProcess):
    paths = httpx.get(f"{web_server.url}/openapi.json").json()["paths"]
    assert "/api/v1/cost/estimate" in paths
    assert not [p for p in paths if p == "/lab" or p.startswith("/static")]


def test_a_linked_scenario_fills_the_form(web_server: ServerProcess):
    response = httpx.get(
        f"{web_server.url}/lab",
        params={"daily_uploads": "2500", "variants": "thumb", "originals_class": "glacier"},
    )
    html = response.text
    assert re.search(r'id="daily-uploads"[^>]*value="2500"', html)
    assert re.search(r'id="variant-thumb"[^>]*checked', html)
    assert not re.search(r'id="variant-medium"[^>]*checked', html)
    assert re.search(r'<option value="GLACIER"[^>]*selected', html)
    assert not re.search(r'id="cdn"[^>]*checked', html)  # a submitted form leaves it out: off


# --- in the browser ----------------------------------------------------------------------------


def test_the_seed_scenario(open_page: OpenPage, web_server: ServerProcess, screenshots: Path):
    page = open_lab(open_page)
    wait_for_bill(page, SEED)
    expect(page.testid("total-usd")).to_have_text("$414")
    expect(page.testid("storage-usd")).to_have_text("$293")
    expect(page.testid("egress-usd")).to_have_text("$76")
    expect(page.testid("sql-usd")).to_have_text("$45")
    expect(page.testid("stored-tb")).to_have_text(re.compile(r"^12\.[78]$"))
    expect(page.testid("egress-tb")).to_have_text("7.5")
    expect(page.testid("per-upload-mb")).to_have_text("4.25")
    expect(page.testid("verdict")).not_to_be_empty()
    assert page.page.locator('[data-testid="chart"] svg g.month').count() == 12
    assert page.page.locator('[data-testid="chart"] svg rect.seg-storage').count() == 12
    assert_shows(page, estimate(web_server, SEED))
    page.page.wait_for_timeout(100)  # let the chart settle for the picture
    page.page.screenshot(path=screenshots / "lab-desktop.png", full_page=True)
    page.assert_clean()


def test_turning_the_cdn_off_with_the_keyboard(open_page: OpenPage, web_server: ServerProcess):
    page = open_lab(open_page)
    wait_for_bill(page, SEED)
    page.page.get_by_label("Storage class of originals").focus()
    page.page.keyboard.press("Tab")
    focused = page.page.evaluate(
        "[document.activeElement.id, getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert focused[0] == "cdn"
    assert focused[1] != "none"  # the focus is visible
    page.page.keyboard.press("Space")

    cdn_off = {**SEED, "cdn": "false"}
    wait_for_bill(page, cdn_off)
    expect(page.testid("egress-usd")).to_have_text("$675")
    expect(page.page.get_by_label("CDN hit rate")).to_be_disabled()
    expect(page.testid("diagram-cdn")).to_have_attribute("data-on", "false")
    expect(page.testid("diagram-cdn")).to_have_class(re.compile(r"\bis-off\b"))
    assert_shows(page, estimate(web_server, cdn_off))
    assert page.page.url.endswith("/lab?" + query(cdn_off))  # the scenario can be linked to

    page.page.reload()  # ... and the link brings it back
    wait_for_bill(page, cdn_off)
    expect(page.testid("egress-usd")).to_have_text("$675")
    expect(page.page.get_by_label("Serve views through a CDN")).not_to_be_checked()
    page.assert_clean()


def test_deep_archive_for_originals_lowers_storage(open_page: OpenPage, web_server: ServerProcess):
    page = open_lab(open_page)
    wait_for_bill(page, SEED)
    page.page.get_by_label("Storage class of originals").select_option("DEEP_ARCHIVE")
    archived = {**SEED, "originals_class": "DEEP_ARCHIVE"}
    wait_for_bill(page, archived)
    storage = float(page.testid("storage-usd").inner_text().lstrip("$").replace(",", ""))
    assert storage < 293 * 0.5
    expect(page.testid("diagram-originals-class")).to_have_text("Deep Archive")
    classes = page.page.locator('[data-testid="storage-by-class"] tr').evaluate_all(
        "rows => rows.map(r => r.dataset.key)"
    )
    assert "DEEP_ARCHIVE" in classes
    assert_shows(page, estimate(web_server, archived))
    page.assert_clean()


def test_unticking_medium_changes_the_size_per_upload(
    open_page: OpenPage, web_server: ServerProcess
):
    page = open_lab(open_page)
    wait_for_bill(page, SEED)
    page.page.get_by_label("Medium").uncheck()
    expect(page.testid("tier-medium")).to_have_class(re.compile(r"\bis-off\b"))
    without_medium = {**SEED, "variants": "thumb,full"}
    wait_for_bill(page, without_medium)
    expect(page.testid("per-upload-mb")).to_have_text("4.05")
    assert_shows(page, estimate(web_server, without_medium))
    page.assert_clean()


def test_every_number_is_the_apis(open_page: OpenPage, web_server: ServerProcess):
    page = open_lab(open_page)
    wait_for_bill(page, SEED)
    page.page.get_by_label("Uploads per day", exact=True).fill("25000")
    page.page.get_by_label("Thumbnail").uncheck()
    page.page.get_by_label("Storage class of originals").select_option("GLACIER_IR")
    page.page.get_by_label("CDN hit rate").fill("0.8")
    page.page.get_by_label("Views per upload").fill("4")
    values = {
        "daily_uploads": "25000",
        "variants": "medium,full",
        "originals_class": "GLACIER_IR",
        "cdn": "true",
        "cdn_hit_rate": "0.8",
        "views_per_upload": "4",
    }
    wait_for_bill(page, values)
    expect(page.testid("cdn-hit-rate-out")).to_have_text("80 %")
    body = estimate(web_server, values)
    assert body["inputs"]["cdn_hit_rate"] == 0.8
    assert body["total_usd"] != estimate(web_server, SEED)["total_usd"]
    assert_shows(page, body)
    page.assert_clean()


def test_the_slider_moves_the_daily_uploads(open_page: OpenPage, web_server: ServerProcess):
    page = open_lab(open_page)
    wait_for_bill(page, SEED)
    slider = page.page.get_by_label("Uploads per day, on a logarithmic slider")
    slider.focus()
    for _ in range(100):  # one decade down, a hundredth of a decade per key
        page.page.keyboard.press("ArrowLeft")
    expect(page.page.get_by_label("Uploads per day", exact=True)).to_have_value("10000")
    fewer = {**SEED, "daily_uploads": "10000"}
    wait_for_bill(page, fewer)
    assert_shows(page, estimate(web_server, fewer))
    expect(page.page.locator('[data-dg="uploads"]')).to_have_text("10,000")
    page.assert_clean()


def test_a_wrong_input_is_explained_and_not_sent(open_page: OpenPage):
    page = open_lab(open_page)
    wait_for_bill(page, SEED)
    sent: list[str] = []
    page.page.on("request", lambda r: sent.append(r.url) if "cost/estimate" in r.url else None)
    page.page.get_by_label("Views per upload").fill("-3")
    expect(page.testid("estimate-error")).to_be_visible()
    expect(page.testid("estimate-error")).to_contain_text("Views per upload")
    expect(page.testid("bill")).to_have_attribute("data-state", "invalid")
    assert sent == []
    page.page.get_by_label("Views per upload").fill("3")
    wait_for_bill(page, {**SEED, "views_per_upload": "3"})
    expect(page.testid("estimate-error")).to_be_hidden()
    page.assert_clean()


def test_every_control_has_a_label(open_page: OpenPage):
    page = open_lab(open_page)
    wait_for_bill(page, SEED)
    unlabelled = page.page.evaluate(
        """() => [...document.querySelectorAll("input, select, textarea, button")]
            .filter(e => e.type !== "hidden")
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute("aria-label")
                         && !(e.tagName === "BUTTON" && e.textContent.trim()))
            .map(e => e.outerHTML)"""
    )
    assert unlabelled == []


def _upload(server: ServerProcess, auth: dict[str, str], data: bytes) -> dict[str, Any]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        response = client.post(
            "/api/v1/images",
            headers=auth,
            files={"file": ("photo.jpg", data, "image/jpeg")},
        )
        assert response.status_code == 201, response.text
        return wait_for_status(client, response.json()["id"], auth, timeout=60)


def test_the_live_bill_for_an_admin(
    open_page: OpenPage,
    web_server: ServerProcess,
    make_admin: Callable[[], dict[str, str]],
    screenshots: Path,
):
    admin = make_admin()
    photo = jpeg_bytes(1600, 1200, noise=True)
    assert _upload(web_server, admin, photo)["status"] == "ready"

    page = open_lab(open_page, headers=admin)
    expect(page.testid("live-bill")).to_have_attribute("data-state", "ready")
    expect(page.testid("live-bill-note")).to_be_hidden()
    bill = httpx.get(f"{web_server.url}/api/v1/admin/bill", headers=admin).json()

    rows = page.page.locator('[data-testid="live-stored"] tbody tr:not([data-kind="trash"])')
    shown = rows.evaluate_all(
        """rows => rows.map(r => [r.dataset.kind, r.dataset.name, r.dataset.format,
                                  Number(r.querySelector("[data-bytes]").dataset.bytes)])"""
    )
    assert shown == [
        [s["kind"], s.get("name") or "", s.get("format") or "", s["bytes"]] for s in bill["stored"]
    ]
    originals = [s for s in bill["stored"] if s["kind"] == "original"]
    assert sum(s["bytes"] for s in originals) >= len(photo)
    total = page.testid("live-stored-total")
    assert int(total.get_attribute("data-bytes")) == sum(s["bytes"] for s in bill["stored"])
    assert int(total.get_attribute("data-bytes")) > len(photo)  # the variants too
    expect(page.testid("live-total-usd")).to_have_text(money(bill["monthly_usd"]["total"]))
    expect(page.testid("live-database")).to_contain_text("SQLite")
    wait_for_bill(page, SEED)
    page.page.screenshot(path=screenshots / "lab-admin-desktop.png", full_page=True)
    page.assert_clean()


def test_the_live_bill_is_for_admins_only(open_page: OpenPage, web_server: ServerProcess):
    anonymous = open_lab(open_page)
    expect(anonymous.testid("live-bill")).to_have_attribute("data-state", "forbidden")
    expect(anonymous.testid("live-bill-note")).to_be_visible()
    expect(anonymous.testid("live-bill-note")).to_contain_text("Only admins")
    expect(anonymous.testid("live-stored")).to_be_hidden()
    anonymous.assert_clean()

    with httpx.Client(base_url=web_server.url) as client:
        client.post("/api/v1/users", json={"username": "viewer", "password": "correct horse"})
        token = client.post(
            "/api/v1/auth/token", data={"username": "viewer", "password": "correct horse"}
        ).json()["access_token"]
    user = open_page(headers={"Authorization": f"Bearer {token}"})
    user.expect_console_error(bill_refused)
    user.page.goto("/lab")
    expect(user.testid("live-bill")).to_have_attribute("data-state", "forbidden")
    expect(user.testid("live-bill-note")).to_be_visible()
    user.assert_clean()


def test_a_phone_screen(open_page: OpenPage, screenshots: Path):
    page = open_lab(open_page, viewport=PHONE)
    wait_for_bill(page, SEED)
    expect(page.testid("total-usd")).to_have_text("$414")
    page.page.wait_for_timeout(100)
    widths = page.page.evaluate(
        "[document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
    )
    assert max(widths[:2]) <= widths[2], widths
    chart = page.testid("chart").bounding_box()
    assert chart is not None and chart["width"] <= PHONE["width"]
    # the pipeline is drawn top to bottom
    boxes = [b.bounding_box() for b in page.page.locator(".flow-ingest > .node").all()]
    assert len(boxes) == 4
    assert all(a and b and a["y"] < b["y"] for a, b in itertools.pairwise(boxes))
    page.page.screenshot(path=screenshots / "lab-phone.png", full_page=True)
    page.assert_clean()


def test_the_policy_blocks_inline_script(open_page: OpenPage):
    page = open_lab(open_page)
    wait_for_bill(page, SEED)
    ran = page.page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__inlineRan = true";
            document.body.appendChild(script);
            return window.__inlineRan === true;
        }"""
    )
    assert ran is False
    page.page.wait_for_function("window.__cspViolations.length > 0")
    assert any("script-src" in v for v in page.csp_violations())
