"""Help Center sync: published Intercom articles → Markdown KB files → the real embedder and a private Chroma index.

Intercom is the fake HTTP server (real SDK requests); the index is a real embedded Chroma in ``tmp_path``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from automations.delivery import RetryLater
from automations.models import Visibility
from bench.fakes.intercom_server import FakeIntercom
from bot.cli_kb import register
from bot.intercom.helpcenter import HelpCenterArticle, fetch_published, render_article, sync_help_center
from bot.intercom.sender import intercom_client
from bot.settings import Settings
from knowledge.articles import load_article
from knowledge.index import ChromaIndex, chroma_client

DAY = 86_400
T = 1_767_000_000

CARD = """<h2>How long does delivery take?</h2><p>Cards arrive within <b>5 working days</b> of ordering.</p>
<h2>Tracking your card</h2><p>Open the app &amp; tap <a href="https://app.example.test/card">Card status</a>.</p>"""
PIN = "<p>Your PIN is shown in the app under Card settings, after you confirm it's you with Face ID.</p>"
FEES = "<h1>Fees</h1><p>Withdrawing cash at an ATM is free up to 200 GBP a month, then 2%.</p>"


@pytest.fixture
def fake() -> Iterator[FakeIntercom]:
    with FakeIntercom() as server:
        server.add_article("101", title="Card delivery times", body=CARD, updated_at=T)
        server.add_article("102", title="Seeing your PIN", body=PIN, updated_at=T)
        server.add_article("103", title="Unreleased: metal cards", body="<p>Coming soon.</p>", state="draft")
        yield server


def settings_for(fake: FakeIntercom, tmp_path: Path) -> Settings:
    return Settings(
        INTERCOM_BASE_URL=fake.url,
        INTERCOM_ACCESS_TOKEN=fake.token,
        AUTOPILOT_DATA_DIR=tmp_path,
        CHROMA_PATH=tmp_path / "chroma",
    )  # type: ignore[call-arg]


@pytest.fixture
def index(embedder, tmp_path: Path) -> ChromaIndex:  # type: ignore[no-untyped-def]
    return ChromaIndex(chroma_client(path=tmp_path / "chroma"), embedder)


def test_articles_render_as_kb_markdown_with_sections(tmp_path: Path) -> None:
    text = render_article(HelpCenterArticle("101", "Card delivery: times", CARD, "https://help.example.test/a/101", T))
    assert text is not None
    path = tmp_path / "a.md"
    path.write_text(text)
    article = load_article(path)
    assert article.meta.id == "intercom-101" and article.meta.visibility is Visibility.PUBLIC
    assert article.meta.title == "Card delivery: times" and article.meta.url == "https://help.example.test/a/101"
    assert [s.heading for s in article.sections] == ["How long does delivery take?", "Tracking your card"]
    assert "**5 working days**" in article.sections[0].body
    assert "[Card status](https://app.example.test/card)" in article.sections[1].body and "&amp;" not in text
    fees = render_article(HelpCenterArticle("9", "Fees", FEES, "https://help.example.test/a/9", T)) or ""
    assert "\n## Fees\n" in fees  # a top-level heading in the body starts a section
    assert render_article(HelpCenterArticle("8", "No URL", PIN, None, T)) is None
    assert render_article(HelpCenterArticle("7", "Empty", "<p> </p>", "https://help.example.test/a/7", T)) is None


async def test_sync_is_incremental_and_follows_unpublishing(
    fake: FakeIntercom, index: ChromaIndex, tmp_path: Path
) -> None:
    settings = settings_for(fake, tmp_path)
    folder = tmp_path / "kb" / "intercom"

    first = await sync_help_center(settings, index)
    assert first.fetched == 2 and sorted(first.written) == ["101", "102"]
    assert sorted(p.name for p in folder.iterdir()) == ["intercom-101.md", "intercom-102.md"]  # no draft
    assert sorted(first.ingest.added) == ["intercom-101", "intercom-102"] and first.ingest.sections == 3
    hits = await index.search("how many days until my new card arrives", k=1)
    assert hits[0].article_id == "intercom-101" and hits[0].visibility is Visibility.PUBLIC
    assert hits[0].url == "https://help.example.test/en/articles/101"

    second = await sync_help_center(settings, index)
    assert second.written == [] and sorted(second.unchanged) == ["101", "102"]
    assert not second.ingest.changed and second.ingest.sections == 0  # nothing re-embedded

    fake.add_article(
        "101", title="Card delivery times", body=CARD.replace("5 working days", "3 working days"), updated_at=T + DAY
    )
    fake.add_article("102", title="Seeing your PIN", body=PIN, state="draft", updated_at=T + DAY)
    fake.add_article("104", title="ATM fees", body=FEES, updated_at=T + DAY)
    third = await sync_help_center(settings, index)
    assert sorted(third.written) == ["101", "104"] and third.removed == ["102"]
    assert third.ingest.updated == ["intercom-101"] and third.ingest.added == ["intercom-104"]
    assert len(third.ingest.deleted) == 1 and third.ingest.deleted[0].endswith("intercom-102.md")
    assert await index.search("where can I see my PIN", k=3, article_ids={"intercom-102"}) == []
    delivery = await index.search("how long does delivery take", k=1, article_ids={"intercom-101"})
    assert "3 working days" in delivery[0].text


async def test_every_page_is_fetched(fake: FakeIntercom, tmp_path: Path) -> None:
    for n in range(5):
        fake.add_article(str(200 + n), title=f"Article {n}", body=f"<p>Text {n}.</p>", updated_at=T + n)
    client, http = intercom_client(settings_for(fake, tmp_path))
    try:
        articles = await fetch_published(client, per_page=2)
    finally:
        await http.aclose()
    assert [a.id for a in articles] == ["101", "102", "200", "201", "202", "203", "204"]
    pages = [r.query["page"] for r in fake.calls("GET", "/articles")]
    assert pages == ["1", "2", "3", "4"]  # 8 articles (one draft), 2 a page


async def test_a_rate_limited_listing_is_retried_and_a_failing_one_changes_nothing(
    fake: FakeIntercom, index: ChromaIndex, tmp_path: Path
) -> None:
    settings = settings_for(fake, tmp_path)
    fake.fail(1, 429, retry_after=0.2, path_contains="/articles")
    report = await sync_help_center(settings, index)
    assert report.fetched == 2
    assert [r.status for r in fake.calls("GET", "/articles")] == [429, 200]

    fake.add_article("102", title="Seeing your PIN", body=PIN, state="draft", updated_at=T + DAY)
    fake.fail(10, 503, retry_after=0, path_contains="/articles")
    with pytest.raises(RetryLater, match="503"):
        await sync_help_center(settings, index)
    assert [r.status for r in fake.calls("GET", "/articles")][2:] == [503] * 4  # bounded
    assert (tmp_path / "kb" / "intercom" / "intercom-102.md").is_file()  # nothing removed on a failed fetch
    assert await index.search("where can I see my PIN", k=1, article_ids={"intercom-102"})


def test_cli_sync_intercom(fake: FakeIntercom, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = typer.Typer()
    register(app)
    for name, value in {
        "INTERCOM_BASE_URL": fake.url, "INTERCOM_ACCESS_TOKEN": fake.token, "AUTOPILOT_DATA_DIR": str(tmp_path),
        "CHROMA_PATH": str(tmp_path / "chroma"), "CHROMA_HOST": "",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, ["kb", "sync-intercom"])
    assert result.exit_code == 0, result.output
    assert "2 published articles: written 2" in result.output and "added 2" in result.output
    again = CliRunner().invoke(app, ["kb", "sync-intercom"])
    assert "written 0, unchanged 2" in again.output and "0 sections embedded" in again.output

    monkeypatch.delenv("INTERCOM_ACCESS_TOKEN")
    monkeypatch.setenv("INTERCOM_ACCESS_TOKEN", "")
    missing = CliRunner().invoke(app, ["kb", "sync-intercom"])
    assert missing.exit_code == 2 and "INTERCOM_ACCESS_TOKEN" in missing.output


async def test_synced_articles_are_filed_under_their_driver_and_reach_customers(
    fake: FakeIntercom,
    tmp_path: Path,
    embedder,
    make_core,  # type: ignore[no-untyped-def]
) -> None:
    from automations.models import Action, Contact
    from bot.composition import build_categorizer, load_config, open_index

    fake.add_article(
        "301",
        title="Activating a replacement card",
        body="<p>To activate a replacement card, open the app, tap Cards, choose the new card and enter the "
        "last four digits printed on it. Activation is instant.</p>",
        updated_at=T,
    )
    settings = settings_for(fake, tmp_path)
    categorize = build_categorizer(load_config(settings), embedder)
    await sync_help_center(settings, open_index(settings, embedder), categorize=categorize)
    article = load_article(tmp_path / "kb" / "intercom" / "intercom-301.md")
    assert article.meta.categories == ("activate_my_card",)
    core = await make_core(settings)
    assert "intercom-301" in core.taxonomy.category("activate_my_card").articles
    decision = await core.pipeline.handle(Contact(id="c-301", text="how do i activate the replacement card you sent"))
    assert (decision.action, decision.article_id) == (Action.ANSWER, "intercom-301")
