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

Helpers (``upload_photo``, ``register_through_page``, ``BrowserPage``, ``Account``) are in
tests/support/browser.py.

Without Chromium the tests are skipped, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.support.browser import (
    CHROMIUM,
    DESKTOP,
    PASSWORD,
    SCREENSHOTS,
    WATCH_CSP,
    Account,
    BrowserPage,
    next_number,
    unavailable,
)
from tests.support.processes import shutterbox_command
from tests.support.server import ServerProcess

try:
    from playwright.sync_api import Browser, sync_playwright
except ImportError:  # the test extra not installed: the fixtures say so
    sync_playwright = None


@pytest.fixture(scope="package")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("web")
    server = ServerProcess(
        root / "data",
        serve_args=("--workers", "1"),
        SHUTTERBOX_JOB_POLL_SECONDS="0.2",
        # the upload page sends photos in parts this big: a few parts each, to resume from
        SHUTTERBOX_RESUMABLE_CHUNK_BYTES=str(256 * 1024),
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if sync_playwright is None:
        unavailable("Playwright is not installed: pip install -e '.[test]'")
    if not CHROMIUM.exists():
        unavailable(f"Chromium is not installed at {CHROMIUM}")
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
        context.add_init_script(script=WATCH_CSP)
        context.set_default_timeout(10_000)
        page = context.new_page()
        watched = BrowserPage(page)
        page.on("console", watched._on_console)
        page.on("pageerror", lambda error: watched.page_errors.append(str(error)))
        return watched

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def make_admin(web_server: ServerProcess) -> Callable[[], dict[str, str]]:
    """Create an admin from the shell, as an operator would, and log it in."""

    def make() -> dict[str, str]:
        username = f"admin{next_number()}"
        created = subprocess.run(
            shutterbox_command("users", "create", username, "--admin"),
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


@pytest.fixture
def make_user(web_server: ServerProcess) -> Callable[[], Account]:
    """Register a new user through the API (a fresh name each time)."""

    def make() -> Account:
        username = f"user{next_number()}_{os.getpid() % 1000}"
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
