"""The HTML report in headless Chromium: one self-contained, styled file with its charts inlined.

Needs Debian's ``chromium`` package and the Python ``playwright`` driver (no browser download: it launches
``/usr/bin/chromium``). Without them the test is skipped, except when ``CI=true``, where it fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cli_reports import register
from bot.history import generate_history
from bot.settings import Settings
from tests.test_playground_browser import _chromium, _require


@pytest.fixture
async def env(settings: Settings) -> dict[str, str]:
    await generate_history(settings, days=14, per_day=200, seed=3)
    return {"AUTOPILOT_DATA_DIR": str(settings.data_dir), "CHROMA_PATH": str(settings.chroma_dir)}


def test_the_html_report_renders_offline_with_its_charts(env: dict[str, str], tmp_path: Path) -> None:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _require("the playwright driver is not installed (pip install playwright; no `playwright install`)")
    app = typer.Typer()
    register(app)
    page_file = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", "--period", "7d", "--format", "html", "--out", str(page_file)], env=env)
    assert result.exit_code == 0, result.output
    html = page_file.read_text(encoding="utf-8")
    assert "<style>" in html and html.count("data:image/png;base64,") == 2
    assert "http://" not in html and "https://" not in html

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=_chromium(), headless=True, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1024, "height": 800})
            outside: list[str] = []
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

            def block(route) -> None:  # type: ignore[no-untyped-def]
                url = route.request.url
                if url.startswith(("file:", "data:")):
                    route.continue_()
                else:
                    outside.append(url)
                    route.abort()

            page.route("**/*", block)
            page.goto(page_file.as_uri())
            expect(page).to_have_title("Support report 7d")
            expect(page.get_by_role("heading", name="Support report", exact=True)).to_be_visible()
            expect(page.locator(".kpi")).to_have_count(6)
            for title in ("What changed", "Trends", "Biggest movers", "SLA misses by tier", "Knowledge-base gaps"):
                expect(page.get_by_role("heading", name=title)).to_be_visible()
            images = page.locator("figure img")
            expect(images).to_have_count(2)
            loaded = images.evaluate_all("imgs => imgs.map(i => i.complete && i.naturalWidth > 600)")
            assert loaded == [True, True]
            styled = page.evaluate("getComputedStyle(document.querySelector('.kpi')).borderTopStyle")
            assert styled == "solid"  # the inline style sheet applied
            fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            assert fits, "the report scrolls sideways at 1024 px"
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            assert not outside, outside
            assert not errors, errors
        finally:
            browser.close()
