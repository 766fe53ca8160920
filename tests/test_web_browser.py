"""In Debian's Chromium (Playwright, never a downloaded browser): an analyst logs in, sees the SYNTHETIC banner on
every page, and the pages run under the strict Content-Security-Policy without a single violation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web_support import BrowserPage, shoot

pytestmark = pytest.mark.browser


def test_an_analyst_logs_in_and_sees_the_synthetic_banner(browser_page: BrowserPage, request: Any) -> None:
    problems: list[str] = []
    browser_page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    browser_page.on("pageerror", lambda exc: problems.append(str(exc)))
    browser_page.open("/queue")
    assert "/login" in browser_page.url
    assert browser_page.locator("#synthetic-banner").is_visible()
    shoot(browser_page, f"login-{request.node.callspec.id}")
    browser_page.login("analyst")
    assert "/login" not in browser_page.url
    assert browser_page.locator("#synthetic-banner").inner_text().startswith("SYNTHETIC DATA")
    assert "analyst" in browser_page.locator(".who").inner_text()
    assert browser_page.evaluate("typeof window.htmx") == "object"  # the vendored htmx loaded from /static
    csp = [p for p in problems if "Content Security Policy" in p]
    assert not csp, csp
    shoot(browser_page, f"analyst-start-{request.node.callspec.id}")
    browser_page.click("text=Log out")
    browser_page.wait_for_url("**/login")
    assert browser_page.context.cookies() == [] or all(
        c["name"] != "tf_session" for c in browser_page.context.cookies()
    )
