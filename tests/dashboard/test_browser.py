"""The dashboard in a real headless browser: Debian's Chromium driven
by Playwright for Python. Every page loads without console errors, its charts render
(SVG elements with a non-zero size), every relative link leads to a page that loads,
and a screenshot of the overview is written (path printed).

Outside CI the test is skipped, saying why, when Chromium is not installed; in CI
(``CI=true``) a missing Chromium fails it (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
#: Each chart's rendered size and how many marks (bars, lines, points) it drew.
_MEASURE_CHARTS = """els => els.map(e => {
  const r = e.getBoundingClientRect();
  return [r.width, r.height, e.querySelectorAll('rect,polyline,circle').length];
})"""
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _browser_or_skip():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing in CI: .ci/run installs it (apt-get install chromium)")
        pytest.skip("Chromium is not installed (apt-get install chromium); CI runs this test")
    from playwright.sync_api import sync_playwright

    return sync_playwright


def test_dashboard_in_chromium(dashboard: Path) -> None:
    sync_playwright = _browser_or_skip()
    problems: list[str] = []
    visited: set[Path] = set()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on(
            "console",
            lambda m: (
                problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
        todo = [dashboard / "index.html"]
        while todo:
            path = todo.pop()
            if path in visited:
                continue
            visited.add(path)
            response = page.goto(path.as_uri())
            assert response is not None and response.ok, path
            for box in page.eval_on_selector_all("svg.chart", _MEASURE_CHARTS):
                width, height, marks = box
                assert width > 0 and height > 0 and marks > 0, f"{path.name}: empty chart {box}"
            hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
            for href in hrefs:
                if href.startswith("file://"):
                    target = Path(href[len("file://") :].split("#")[0])
                    assert target.is_file(), f"{path.name}: link {href} resolves to nothing"
                    todo.append(target)
            if path.name == "index.html":
                assert page.locator("svg.chart").count() == 2
                ARTIFACTS.mkdir(exist_ok=True)
                shot = ARTIFACTS / "dashboard-overview.png"
                page.screenshot(path=str(shot), full_page=True)
                print(f"\nscreenshot of the overview: {shot}")
        browser.close()
    assert not problems, problems
    assert len(visited) == 1 + 3 + 24  # overview, 3 CSM pages, 24 account pages
