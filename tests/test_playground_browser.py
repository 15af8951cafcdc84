"""The playground in headless Chromium, against `autopilot serve` (real uvicorn, no Intercom or Slack settings).

Needs Debian's ``chromium`` package and the Python ``playwright`` driver (no browser download: it launches
``/usr/bin/chromium``). Without them the test is skipped, except when ``CI=true``, where it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from automations.answering import format_passage
from automations.models import Action, Channel, Passage, Visibility
from bot.playground import reply_view
from bot.settings import DEFAULT_KB, Settings
from knowledge.articles import load_article
from store import SqlEventStore
from tests.plugins.processes import free_port

STARTUP_TIMEOUT_S = 180.0
STEP_TIMEOUT_MS = 60_000
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script> how do I top up?'


def _require(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the browser test must run)")
    pytest.skip(reason)


def _chromium() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _require("Chromium is not installed (apt-get install chromium)")
    return str(path)


@pytest.fixture
def server(kb_index, kb_dir: Path, tmp_path: Path) -> Iterator[tuple[str, Settings]]:  # type: ignore[no-untyped-def]
    """`autopilot serve` on a free port over the session's ingested index and a fresh SQLite file."""
    settings = Settings(AUTOPILOT_DATA_DIR=tmp_path / "data", CHROMA_PATH=kb_dir / "chroma")  # type: ignore[call-arg]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INTERCOM_", "SLACK_", "DATABASE_", "CHROMA_"))}
    env |= {
        "AUTOPILOT_DATA_DIR": str(settings.data_dir),
        "CHROMA_PATH": str(settings.chroma_path),
        "AUTOPILOT_HOST": "127.0.0.1",
        "AUTOPILOT_PORT": str(port),
        "AUTOPILOT_WORKERS": "1",
    }
    log = (tmp_path / "serve.log").open("w")
    command = [str(Path(sys.executable).parent / "autopilot"), "serve"]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"autopilot serve exited with {process.returncode}:\n{(tmp_path / 'serve.log').read_text()}"
                )
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"autopilot serve not ready after {STARTUP_TIMEOUT_S}s")
            time.sleep(0.5)
        yield base, settings
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
async def page(server: tuple[str, Settings]) -> AsyncIterator[object]:
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _require("the playwright driver is not installed (pip install playwright; no `playwright install`)")
    executable = _chromium()
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            tab = await browser.new_page()
            tab.set_default_timeout(STEP_TIMEOUT_MS)
            yield tab
        finally:
            await browser.close()


HOSTILE = Passage(
    "hostile", 'Hostile <img src=x onerror="window.__xss=1">', "Heading <script>window.__xss=2</script>",
    'Tap <img src=x onerror="window.__xss=3"> then <script>window.__xss=4</script>.\n\n1. Step **one**\n'
    "2. [link](javascript:window.__xss=5)",
    "https://help.example.test/hostile", Visibility.PUBLIC, ("x",), 0.9,
)  # fmt: skip


async def hostile_answer(route) -> None:  # type: ignore[no-untyped-def]
    """The playground's answer for a hostile article, plus a block a hostile server could add (a javascript: link)."""
    reply = format_passage(HOSTILE)
    blocks = [*reply_view(reply), {"type": "list", "ordered": False, "items": [
        [{"text": "click me", "strong": False, "href": "javascript:window.__xss=6"}]]}]  # fmt: skip
    decision = {
        "contact_id": "playground:hostile", "stored_text": "<b>x</b>", "category": "x", "group": "x",
        "confidence": 0.9, "action": "answer", "tier": "bot", "tier_name": "bot", "reason": "answered",
        "reply": reply, "reply_blocks": blocks, "handoff": None, "decided_at": "2026-01-05T09:00:00+00:00",
        "article": {"id": "hostile", "title": HOSTILE.title, "url": "javascript:window.__xss=7"},
    }  # fmt: skip
    await route.fulfill(status=200, content_type="application/json", body=json.dumps(decision))


async def test_a_customer_chats_in_the_browser(page, server: tuple[str, Settings]) -> None:  # type: ignore[no-untyped-def]
    from playwright.async_api import expect

    base, settings = server
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("requestfailed", lambda request: errors.append(f"failed: {request.url}"))
    page.on(
        "response",
        lambda response: errors.append(f"{response.status}: {response.url}") if response.status >= 400 else None,
    )
    await page.goto(f"{base}/")
    await expect(page).to_have_title("Support Autopilot · playground")
    box, send = page.get_by_label("Your message"), page.get_by_role("button", name="Send")
    replies = page.get_by_test_id("bot-message")

    async def ask(text: str, count: int):  # type: ignore[no-untyped-def]
        await box.fill(text)
        await send.click()
        try:
            await expect(replies).to_have_count(count, timeout=STEP_TIMEOUT_MS)  # the pipeline runs on a shared CPU
        except AssertionError as exc:
            shown = await page.locator("#status").text_content()
            raise AssertionError(f"{exc}\npage status: {shown!r}; page errors: {errors}") from exc
        return replies.nth(count - 1)

    # a question the bot answers, citing a public article
    activate = load_article(Path(DEFAULT_KB) / "public" / "activate-card.md").meta
    answer = await ask("How do I activate my new card?", 1)
    await expect(answer).to_have_attribute("data-action", "answer")
    await expect(answer.get_by_test_id("category")).to_contain_text("activate_my_card")
    await expect(answer.get_by_test_id("action")).to_have_text("answer")
    reply = answer.get_by_test_id("reply")
    await expect(reply).not_to_be_empty()
    # formatted, not raw markdown: the section's heading in bold, its steps as a numbered list
    await expect(reply.locator("li").first).to_be_visible()
    headings = [section.heading for section in load_article(Path(DEFAULT_KB) / "public" / "activate-card.md").sections]
    assert await reply.locator("strong").first.text_content() in headings
    await expect(reply).not_to_contain_text("**")
    await expect(reply.locator("a").last).to_have_attribute("href", activate.url)
    link = answer.get_by_test_id("article")
    await expect(link).to_have_text(activate.title)
    await expect(link).to_have_attribute("href", activate.url)
    await expect(box).to_be_empty()

    # a follow-up in the same conversation resolves it
    thanks = await ask("thanks, that worked", 2)
    await expect(thanks.get_by_test_id("reason")).to_have_text("customer_confirmed")

    # protected topics: handed to their team, no answer, no article
    for count, (text, team) in enumerate(
        [
            ("I received a subpoena about my account from a court", "Legal"),
            ("someone took money from my account without permission", "Fraud and disputes"),
        ],
        start=3,
    ):
        handoff = await ask(text, count)
        await expect(handoff).to_have_attribute("data-action", "handoff")
        await expect(handoff.get_by_test_id("reply")).to_contain_text(f"A person from {team} will reply by ")
        await expect(handoff.get_by_test_id("tier")).to_contain_text(team)
        await expect(handoff.get_by_test_id("action")).to_have_text("hand-off")
        await expect(handoff.get_by_test_id("article")).to_be_hidden()
        await expect(handoff.get_by_test_id("handoff-summary")).to_contain_text("Reason: safety:")

    # customer text is shown as text, never run as HTML
    await ask(XSS, 5)
    await expect(page.get_by_test_id("customer-text").last).to_have_text(XSS)
    assert await page.evaluate("window.__xss") is None
    assert await page.locator("#log img, #log script").count() == 0
    assert not errors, errors

    # a hostile article (or a hostile server answer) renders inert: its reply is built as the server builds it
    await page.route("**/playground/messages", hostile_answer)
    hostile = await ask("what about the hostile article?", 6)
    await page.unroute("**/playground/messages")
    shown = hostile.get_by_test_id("reply")
    await expect(shown).to_contain_text("then <script>window.__xss=4</script>.")
    await expect(shown.locator("ol > li")).to_have_count(2)
    await expect(shown.locator("ul > li")).to_have_text(["click me"])
    assert await page.evaluate("window.__xss") is None
    assert await page.locator("#log img, #log script, #log [onerror]").count() == 0
    assert await page.locator('#log a[href^="javascript"]').count() == 0
    assert not errors, errors

    # every message shown was recorded as a playground contact of one customer
    ids = [await item.get_attribute("data-contact-id") for item in (await replies.all())[:5]]
    store = await SqlEventStore.open(settings.db_url)
    try:
        decisions = [await store.get_decision(str(contact_id)) for contact_id in ids]
    finally:
        await store.close()
    assert all(d is not None and d.source == "playground" and d.channel is Channel.CUSTOMER for d in decisions)
    assert len({d.customer_id for d in decisions if d is not None}) == 1
    assert [d.action for d in decisions if d is not None][:4] == [Action.ANSWER] * 2 + [Action.HANDOFF] * 2
