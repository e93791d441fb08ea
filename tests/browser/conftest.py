"""A real Chromium (Playwright) against a real `shutterbox serve`.

Fixtures for every browser test:

- ``web_server``: one `shutterbox serve` subprocess for the session (a temporary data
  directory, one background worker).
- ``browser``: Debian's Chromium at ``/usr/bin/chromium``, headless, for the session.
- ``open_page``: a factory for a fresh browser context and page
  (``open_page(viewport=..., headers=...)``), which records console errors, uncaught
  exceptions and Content-Security-Policy violations; ``BrowserPage.assert_clean()`` fails on
  any of them.
- ``make_admin``: an admin account (made with `shutterbox users create --admin`) and its
  bearer header.
- ``screenshots``: the directory screenshots go to (``tests/browser/screenshots/``).
- ``make_user``: a new registered ``Account`` (name, password, bearer header for API checks).
- ``logged_in_page``: ``open_page`` for a logged-in user (a session cookie in its context).

Helpers: ``upload_photo`` (a JPEG through the API, waited for until processed) and
``register_through_page`` (the register form, as a visitor fills it in).

Without Chromium the tests are skipped, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.conftest import wait_for_status
from tests.e2e.server import ServerProcess
from tests.imagegen import jpeg_bytes

try:
    from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright
except ImportError:  # the test extra not installed: the fixtures say so
    sync_playwright = None

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery"

# Runs in every page before its own scripts: keeps the CSP violations the browser reports.
_WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    event.violatedDirective + " blocked " + (event.blockedURI || "inline") +
      " (" + event.sourceFile + ":" + event.lineNumber + ")"
  );
});
"""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI must install it (see .ci/run)", pytrace=False)
    pytest.skip(reason)


@dataclass
class BrowserPage:
    """A page in its own browser context, and what went wrong in it."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    expected_errors: list[Callable[[ConsoleMessage], bool]] = field(default_factory=list)

    def expect_console_error(self, matches: Callable[[ConsoleMessage], bool]) -> None:
        """Console errors ``matches`` accepts are not counted (e.g. an expected 401)."""
        self.expected_errors.append(matches)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and not any(m(message) for m in self.expected_errors):
            where = message.location.get("url", "")
            self.console_errors.append(f"{message.text} ({where})")

    def csp_violations(self) -> list[str]:
        violations: list[str] = self.page.evaluate("window.__cspViolations || []")
        return violations

    def assert_clean(self) -> None:
        assert self.page_errors == [], self.page_errors
        assert self.console_errors == [], self.console_errors
        assert self.csp_violations() == []

    def testid(self, name: str) -> Any:
        return self.page.get_by_test_id(name)


@pytest.fixture(scope="package")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("web")
    server = ServerProcess(
        root / "data",
        serve_args=("--workers", "1"),
        SHUTTERBOX_JOB_POLL_SECONDS="0.2",
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        _unavailable("Playwright is not installed: pip install -e '.[test]'")
    if not CHROMIUM.exists():
        _unavailable(f"Chromium is not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser: Browser, web_server: ServerProcess) -> Iterator[Callable[..., BrowserPage]]:
    contexts: list[Any] = []

    def make(
        *, viewport: dict[str, int] | None = None, headers: dict[str, str] | None = None
    ) -> BrowserPage:
        context = browser.new_context(
            base_url=web_server.url,
            viewport=viewport or DESKTOP,  # type: ignore[arg-type]
            extra_http_headers=headers,
        )
        contexts.append(context)
        context.add_init_script(script=_WATCH_CSP)
        context.set_default_timeout(10_000)
        page = context.new_page()
        watched = BrowserPage(page)
        page.on("console", watched._on_console)
        page.on("pageerror", lambda error: watched.page_errors.append(str(error)))
        return watched

    yield make
    for context in contexts:
        context.close()


_names = itertools.count(1)


@pytest.fixture
def make_admin(web_server: ServerProcess) -> Callable[[], dict[str, str]]:
    """Create an admin from the shell, as an operator would, and log it in."""

    def make() -> dict[str, str]:
        username = f"admin{next(_names)}"
        created = subprocess.run(
            [
                sys.executable,
                "-m",
                "shutterbox.entrypoints.cli",
                "users",
                "create",
                username,
                "--admin",
            ],
            input=f"{PASSWORD}\n{PASSWORD}\n".encode(),
            env=web_server.env,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert created.returncode == 0, created.stderr.decode()
        token = httpx.post(
            f"{web_server.url}/api/v1/auth/token",
            data={"username": username, "password": PASSWORD},
        )
        assert token.status_code == 200, token.text
        return {"Authorization": f"Bearer {token.json()['access_token']}"}

    return make


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS


# --- accounts, and pages of a logged-in visitor ---------------------------------------------


@dataclass(frozen=True)
class Account:
    """A registered user: the name, the password, and a bearer header for API checks."""

    username: str
    password: str
    headers: dict[str, str]


@pytest.fixture
def make_user(web_server: ServerProcess) -> Callable[[], Account]:
    """Register a new user through the API (a fresh name each time)."""

    def make() -> Account:
        username = f"user{next(_names)}_{os.getpid() % 1000}"
        created = httpx.post(
            f"{web_server.url}/api/v1/users", json={"username": username, "password": PASSWORD}
        )
        assert created.status_code == 201, created.text
        token = httpx.post(
            f"{web_server.url}/api/v1/auth/token",
            data={"username": username, "password": PASSWORD},
        )
        assert token.status_code == 200, token.text
        bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
        return Account(username, PASSWORD, bearer)

    return make


@pytest.fixture
def logged_in_page(
    open_page: Callable[..., BrowserPage], make_user: Callable[[], Account]
) -> Callable[..., tuple[BrowserPage, Account]]:
    """``logged_in_page(viewport=..., account=...)``: a fresh page whose browser context holds
    a session cookie (from ``POST /api/v1/session``, the endpoint the login page also starts
    sessions with), for a new user unless ``account`` is given."""

    def make(
        *, viewport: dict[str, int] | None = None, account: Account | None = None
    ) -> tuple[BrowserPage, Account]:
        account = account or make_user()
        page = open_page(viewport=viewport)
        answer = page.page.context.request.post(
            "/api/v1/session", data={"username": account.username, "password": account.password}
        )
        assert answer.ok, answer.text()
        return page, account

    return make


# --- photos and registering, as tests need them -------------------------------------------


def upload_photo(
    server: ServerProcess,
    headers: dict[str, str],
    *,
    width: int = 320,
    height: int = 240,
    **fields: str,
) -> dict[str, Any]:
    """Upload a fresh JPEG through the API (``headers`` authenticate: a bearer header, or a
    session cookie with its ``X-CSRF-Token``), with form ``fields`` such as ``caption``,
    ``tags``, ``alt_text`` or ``visibility``; wait until it is processed and return its JSON."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        response = client.post(
            "/api/v1/images",
            headers=headers,
            data=fields,
            files={"file": ("photo.jpg", jpeg_bytes(width, height), "image/jpeg")},
        )
        assert response.status_code == 201, response.text
        image = wait_for_status(client, response.json()["id"], headers, timeout=60)
    assert image["status"] == "ready", image
    return image


def new_username(prefix: str = "user") -> str:
    """A name no other test uses."""
    return f"{prefix}{next(_names)}_{os.getpid() % 1000}"


def register_through_page(page: BrowserPage, username: str, password: str = PASSWORD) -> None:
    """Create an account with the register form; the page ends logged in, on the feed."""
    page.page.goto("/register")
    page.page.get_by_label("Username").fill(username)
    page.page.get_by_label("Password").fill(password)
    page.page.get_by_role("button", name="Create account").click()
    page.page.wait_for_url("**/")
    assert page.testid("account-name").inner_text() == username
