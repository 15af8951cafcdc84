"""The same knowledge index against a real ``chroma run`` server (``CHROMA_HOST``/``CHROMA_PORT``)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from automations.models import Visibility
from bot.composition import open_index
from bot.settings import DEFAULT_KB, Settings
from knowledge.articles import load_article
from knowledge.index import COLLECTION, ChromaIndex, chroma_client
from knowledge.ingest import ingest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.chroma_server,
    pytest.mark.filterwarnings("ignore:legacy embedding function config:DeprecationWarning"),
]

ARTICLES = {"public": ("card-delivery", "pin", "lost-stolen-card"), "internal": ("internal-legal-process-intake",)}


def _copy_kb(root: Path) -> Path:
    for folder, names in ARTICLES.items():
        (root / folder).mkdir(parents=True)
        for name in names:
            shutil.copy(DEFAULT_KB / folder / f"{name}.md", root / folder / f"{name}.md")
    return root


def _sections(root: Path) -> int:
    return sum(len(load_article(root / f / f"{n}.md").sections) for f, names in ARTICLES.items() for n in names)


async def test_ingest_search_and_reingest_over_http(chroma_server: tuple[str, int], embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    host, port = chroma_server
    client = chroma_client(host=host, port=port)
    assert client.heartbeat() > 0
    name = f"kb_{uuid.uuid4().hex[:8]}"
    index = ChromaIndex(client, embedder, collection=name)
    kb = _copy_kb(tmp_path / "content")
    expected = _sections(kb)

    first = await ingest(kb, index)
    assert sorted(first.added) == sorted(n for names in ARTICLES.values() for n in names)
    assert first.sections == expected
    assert await index.count() == expected
    remote = client.get_collection(name, embedding_function=None)
    assert remote.count() == expected  # the data is in the server, not in this process
    assert remote.configuration.get("embedding_function") is None
    with pytest.raises(Exception, match="embedding function"):
        remote.query(query_texts=["card"], n_results=1)

    hits = await index.search("where is my new card", k=3)
    assert hits[0].article_id == "card-delivery"
    assert all(h.visibility is Visibility.PUBLIC for h in hits)
    subpoena = "how do I handle a subpoena"
    assert all(h.visibility is Visibility.PUBLIC for h in await index.search(subpoena, k=20))
    agent = await index.search(subpoena, k=3, visibility=(Visibility.PUBLIC, Visibility.INTERNAL))
    assert agent[0].article_id == "internal-legal-process-intake"
    assert {h.article_id for h in await index.search("card", k=20, article_ids={"pin"})} == {"pin"}

    second = await ingest(kb, index)
    assert not second.changed
    assert second.sections == 0

    pin = kb / "public" / "pin.md"
    pin.write_text(
        pin.read_text(encoding="utf-8") + "\n## Is my PIN sent by carrier pigeon?\nOnly in the Orkney Islands.\n",
        encoding="utf-8",
    )
    (kb / "public" / "lost-stolen-card.md").unlink()
    third = await ingest(kb, index)
    assert third.updated == ["pin"]
    assert sorted(third.unchanged) == ["card-delivery", "internal-legal-process-intake"]
    assert [Path(s).name for s in third.deleted] == ["lost-stolen-card.md"]
    assert await index.count() == sum(len(load_article(p).sections) for p in kb.rglob("*.md"))
    top = (await index.search("is my PIN delivered by carrier pigeon", k=1))[0]
    assert (top.article_id, top.section) == ("pin", "Is my PIN sent by carrier pigeon?")
    assert await index.search("stolen card", k=5, article_ids={"lost-stolen-card"}) == []
    client.delete_collection(name)


async def test_open_index_uses_the_server_when_chroma_host_is_set(
    chroma_server: tuple[str, int],
    embedder,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    host, port = chroma_server
    settings = Settings(  # type: ignore[call-arg]
        AUTOPILOT_DATA_DIR=tmp_path, CHROMA_HOST=host, CHROMA_PORT=port, CHROMA_PATH=tmp_path / "unused"
    )
    index = open_index(settings, embedder)
    kb = _copy_kb(tmp_path / "content")
    report = await ingest(kb, index)
    assert report.sections == _sections(kb)
    assert not (tmp_path / "unused").exists()  # nothing embedded on disk: the server holds the index
    server_side = chroma_client(host=host, port=port).get_collection(COLLECTION, embedding_function=None)
    assert server_side.count() == report.sections
    hits = await index.search("I forgot my PIN", k=1)
    assert hits[0].article_id == "pin"
    # a second process-level client sees the same collection
    again = open_index(settings, embedder)
    assert await again.count() == report.sections
    assert not (await ingest(kb, again)).changed
