"""What the browser tests share besides their fixtures: the page wrapper that records what
went wrong in a page, accounts, and photos and registering as tests need them.

Without Chromium the tests are skipped, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2 as httpx
import pytest

from tests.imagegen import jpeg_bytes
from tests.support.clients import wait_for_status
from tests.support.server import ServerProcess

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "browser" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery"

# Runs in every page before its own scripts: keeps the CSP violations the browser reports.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    event.violatedDirective + " blocked " + (event.blockedURI || "inline") +
      " (" + event.sourceFile + ":" + event.lineNumber + ")"
  );
});
"""


def unavailable(reason: str) -> None:
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


_names = itertools.count(1)


def next_number() -> int:
    """A number no other test has drawn in this process."""
    return next(_names)


@dataclass(frozen=True)
class Account:
    """A registered user: the name, the password, and a bearer header for API checks."""

    username: str
    password: str
    headers: dict[str, str]


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
    return f"{prefix}{next_number()}_{os.getpid() % 1000}"


def register_through_page(page: BrowserPage, username: str, password: str = PASSWORD) -> None:
    """Create an account with the register form; the page ends logged in, on the feed."""
    page.page.goto("/register")
    page.page.get_by_label("Username").fill(username)
    page.page.get_by_label("Password").fill(password)
    page.page.get_by_role("button", name="Create account").click()
    page.page.wait_for_url("**/")
    assert page.testid("account-name").inner_text() == username
