"""The knowledge index on an embedded Chroma with the real MiniLM embedder: incremental ingestion, audience
filtering, article filters, and no Chroma-side embedding function."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from automations.models import Visibility
from automations.ports import Vectors
from bot.settings import DEFAULT_KB
from knowledge.articles import load_article
from knowledge.index import ChromaIndex, chroma_client
from knowledge.ingest import ingest

pytestmark = pytest.mark.slow

PUBLIC = ("card-delivery", "activate-card", "pin", "lost-stolen-card")
INTERNAL = ("internal-legal-process-intake", "internal-dsar-handling")
FOLDERS = (("public", PUBLIC), ("internal", INTERNAL))
BOTH = (Visibility.PUBLIC, Visibility.INTERNAL)
SUBPOENA = "how do I handle a subpoena"


class CountingEmbedder:
    """The real embedder, counting how often it is asked to embed and how many texts."""

    def __init__(self, inner: object) -> None:
        self._inner = inner
        self.calls = 0
        self.texts = 0

    @property
    def dimension(self) -> int:
        return int(self._inner.dimension)  # type: ignore[attr-defined]

    async def embed(self, texts: Sequence[str]) -> Vectors:
        self.calls += 1
        self.texts += len(texts)
        vectors: Vectors = await self._inner.embed(texts)  # type: ignore[attr-defined]
        return vectors

    def reset(self) -> None:
        self.calls = self.texts = 0


def _copy_kb(root: Path) -> Path:
    for folder, names in FOLDERS:
        (root / folder).mkdir(parents=True)
        for name in names:
            shutil.copy(DEFAULT_KB / folder / f"{name}.md", root / folder / f"{name}.md")
    return root


def _sections(root: Path) -> int:
    return sum(len(load_article(p).sections) for p in root.rglob("*.md"))


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """A private copy of a few shipped articles (public and internal)."""
    return _copy_kb(tmp_path / "content")


@pytest.fixture
def counting(embedder) -> CountingEmbedder:  # type: ignore[no-untyped-def]
    return CountingEmbedder(embedder)


@pytest.fixture
def index(tmp_path: Path, counting: CountingEmbedder) -> ChromaIndex:
    """A fresh embedded Chroma index in ``tmp_path``, embedding through ``counting``."""
    return ChromaIndex(chroma_client(path=tmp_path / "chroma"), counting)  # type: ignore[arg-type]


async def test_first_ingest_adds_every_article(kb: Path, index: ChromaIndex, counting: CountingEmbedder) -> None:
    report = await ingest(kb, index)
    assert sorted(report.added) == sorted(PUBLIC + INTERNAL)
    assert report.updated == report.unchanged == report.deleted == []
    assert report.changed
    expected = _sections(kb)
    assert expected > len(PUBLIC + INTERNAL)  # articles are chunked into several sections
    assert report.sections == expected
    assert await index.count() == expected
    assert counting.texts == expected
    digests = await index.digests()
    assert set(digests) == {str((kb / f / f"{n}.md").resolve()) for f, names in FOLDERS for n in names}


async def test_second_ingest_changes_nothing_and_embeds_nothing(
    kb: Path, index: ChromaIndex, counting: CountingEmbedder
) -> None:
    await ingest(kb, index)
    before = await index.count()
    counting.reset()
    progress: list[tuple[int, int, str]] = []
    report = await ingest(kb, index, progress=lambda done, total, name: progress.append((done, total, name)))
    assert sorted(report.unchanged) == sorted(PUBLIC + INTERNAL)
    assert report.added == report.updated == report.deleted == []
    assert not report.changed
    assert report.sections == 0
    assert counting.calls == 0
    assert await index.count() == before
    assert [done for done, _, _ in progress] == list(range(1, len(PUBLIC + INTERNAL) + 1))


async def test_edited_file_is_the_only_one_reembedded(kb: Path, index: ChromaIndex, counting: CountingEmbedder) -> None:
    await ingest(kb, index)
    path = kb / "public" / "pin.md"
    removed = load_article(path).sections[1]  # the first "## " section
    text = path.read_text(encoding="utf-8").replace(f"## {removed.heading}", "## Can I choose a PIN made of emoji?", 1)
    text += (
        "\n## Can a carrier pigeon bring my PIN reminder?\n"
        "Yes: in the Orkney Islands a carrier pigeon delivers PIN reminders.\n"
    )
    path.write_text(text, encoding="utf-8")
    counting.reset()

    report = await ingest(kb, index)
    assert report.updated == ["pin"]
    assert sorted(report.unchanged) == sorted(set(PUBLIC + INTERNAL) - {"pin"})
    assert report.added == report.deleted == []
    new_sections = len(load_article(path).sections)
    assert report.sections == new_sections
    assert counting.texts == new_sections  # only the edited article was embedded
    assert await index.count() == _sections(kb)

    hits = await index.search("does a pigeon deliver PIN reminders in Orkney", k=1)
    assert hits[0].article_id == "pin"
    assert hits[0].section == "Can a carrier pigeon bring my PIN reminder?"
    assert "carrier pigeon" in hits[0].text
    sections = {p.section for p in await index.search("PIN", k=50, article_ids={"pin"})}
    assert "Can I choose a PIN made of emoji?" in sections
    assert removed.heading not in sections
    assert index._collection.get(ids=[removed.id])["ids"] == []  # the old section is gone, not left behind


async def test_deleted_file_is_removed(kb: Path, index: ChromaIndex) -> None:
    await ingest(kb, index)
    path = kb / "public" / "lost-stolen-card.md"
    gone = len(load_article(path).sections)
    before = await index.count()
    path.unlink()

    report = await ingest(kb, index)
    assert report.deleted == [str(path.resolve())]
    assert report.added == report.updated == []
    assert await index.count() == before - gone
    assert str(path.resolve()) not in await index.digests()
    assert await index.search("I lost my card", k=5, article_ids={"lost-stolen-card"}) == []
    hits = await index.search("my card was stolen", k=10, visibility=BOTH)
    assert all(h.article_id != "lost-stolen-card" for h in hits)


async def test_ingest_leaves_a_sibling_folder_alone(tmp_path: Path, kb: Path, index: ChromaIndex) -> None:
    extra = tmp_path / "content-extra"
    extra.mkdir()
    shutil.copy(DEFAULT_KB / "public" / "fees.md", extra / "fees.md")
    await ingest(extra, index)
    report = await ingest(kb, index)
    assert report.deleted == []
    assert await index.search("fees", k=3, article_ids={"fees"})


async def test_public_search_never_returns_internal_articles(kb: Path, index: ChromaIndex, kb_index) -> None:  # type: ignore[no-untyped-def]
    await ingest(kb, index)
    internal = set(INTERNAL)
    for idx in (index, kb_index):
        for query in (SUBPOENA, "police asked for my account data", "delete all my personal data under GDPR"):
            hits = await idx.search(query, k=50)
            assert hits, query
            assert all(h.visibility is Visibility.PUBLIC for h in hits)
            assert not {h.article_id for h in hits} & internal
            assert not any(h.article_id.startswith("internal-") for h in hits)
        assert await idx.search(SUBPOENA, k=5, article_ids={"internal-legal-process-intake"}) == []


async def test_internal_search_finds_the_legal_intake_article(kb: Path, index: ChromaIndex, kb_index) -> None:  # type: ignore[no-untyped-def]
    await ingest(kb, index)
    for idx in (index, kb_index):
        hits = await idx.search(SUBPOENA, k=3, visibility=BOTH)
        assert hits[0].article_id == "internal-legal-process-intake"
        assert hits[0].visibility is Visibility.INTERNAL
        assert hits[0].categories == ("legal_request",)
        assert hits[0].url == "https://wiki.lumen.internal/support/internal-legal-process-intake"
        internal_only = await idx.search(SUBPOENA, k=3, visibility=(Visibility.INTERNAL,))
        assert {h.visibility for h in internal_only} == {Visibility.INTERNAL}


async def test_article_ids_filter(kb: Path, index: ChromaIndex) -> None:
    await ingest(kb, index)
    query = "where is my new card"
    hits = await index.search(query, k=20, article_ids={"pin", "activate-card"})
    assert hits
    assert {h.article_id for h in hits} <= {"pin", "activate-card"}
    assert {h.article_id for h in hits} == {"pin", "activate-card"}  # k exceeds both articles' sections
    assert await index.search(query, k=5, article_ids=set()) == []
    assert await index.search(query, k=5, article_ids={"no-such-article"}) == []
    unfiltered = await index.search(query, k=1)
    assert unfiltered[0].article_id == "card-delivery"


async def test_scores_are_cosine_similarities_in_order(kb: Path, index: ChromaIndex, embedder) -> None:  # type: ignore[no-untyped-def]
    await ingest(kb, index)
    query = "I forgot my PIN"
    hits = await index.search(query, k=5)
    assert len(hits) == 5
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(-1.0 <= s <= 1.0 for s in scores)
    article = load_article(kb / "public" / f"{hits[0].article_id}.md")
    section = next(s for s in article.sections if s.heading == hits[0].section)
    q, s = await embedder.embed([query, section.embed_text])
    assert hits[0].score == pytest.approx(float(np.dot(q, s)), abs=1e-3)


@pytest.mark.filterwarnings("ignore:legacy embedding function config:DeprecationWarning")
async def test_collection_has_no_embedding_function(tmp_path: Path, kb: Path, index: ChromaIndex, embedder) -> None:  # type: ignore[no-untyped-def]
    await ingest(kb, index)
    collection = index._collection
    assert collection.configuration.get("embedding_function") is None
    with pytest.raises(ValueError, match="embedding function"):
        collection.query(query_texts=["where is my new card"], n_results=1)
    with pytest.raises(ValueError, match="embedding function"):
        collection.add(ids=["x"], documents=["a document Chroma would have to embed itself"])
    # the stored vectors are our embedder's
    article = load_article(kb / "public" / "card-delivery.md")
    got = collection.get(ids=[article.sections[0].id], include=["embeddings"])
    ours = await embedder.embed([article.sections[0].embed_text])
    assert np.allclose(np.asarray(got["embeddings"][0]), ours[0], atol=1e-5)

    reopened = ChromaIndex(chroma_client(path=tmp_path / "chroma"), embedder)  # a new client on the same files
    assert reopened._collection.configuration.get("embedding_function") is None
    assert await reopened.count() == await index.count()
    with pytest.raises(ValueError, match="embedding function"):
        reopened._collection.query(query_texts=["card"], n_results=1)


async def test_retrieval_quality_on_the_shipped_kb(kb_index) -> None:  # type: ignore[no-untyped-def]
    expectations = {
        "where is my new card": "card-delivery",
        "how do I activate my card": "activate-card",
        "I forgot my PIN": "pin",
        "someone stole my card": "lost-stolen-card",
    }
    for query, article in expectations.items():
        hits = await kb_index.search(query, k=3)
        assert hits[0].article_id == article, (query, [(h.article_id, round(h.score, 3)) for h in hits])
    delivery = (await kb_index.search("where is my new card", k=1))[0]
    assert delivery.score > 0.5
    assert delivery.url == "https://help.lumen.example/articles/card-delivery"
    assert "card_arrival" in delivery.categories


async def test_search_many_matches_one_search_per_query(kb_index) -> None:  # type: ignore[no-untyped-def]
    queries = ["where is my new card", "how do I cancel a transfer", "what is the fee for cash withdrawals abroad"]
    batched = await kb_index.search_many(queries, k=5)
    assert len(batched) == len(queries)
    for query, hits in zip(queries, batched, strict=True):
        single = await kb_index.search(query, k=5)
        assert [h.article_id for h in hits] == [h.article_id for h in single]
        assert all(h.visibility is Visibility.PUBLIC for h in hits)


class LabelledInt8(CountingEmbedder):
    """The counting embedder, announcing itself as the int8 backend."""

    backend = "onnx-int8"


async def test_sections_embedded_otherwise_are_reembedded_by_the_next_ingest(
    tmp_path: Path, kb: Path, counting: CountingEmbedder
) -> None:
    client = chroma_client(path=tmp_path / "chroma")
    before = ChromaIndex(client, counting)  # type: ignore[arg-type]
    await ingest(kb, before)
    int8 = LabelledInt8(counting._inner)
    index = ChromaIndex(client, int8)  # type: ignore[arg-type]
    assert (before.embedding, index.embedding) == ("float", "int8")
    assert await index.mismatched() == await index.count() == _sections(kb)
    report = await ingest(kb, index)
    assert sorted(report.updated) == sorted(PUBLIC + INTERNAL) and int8.texts == _sections(kb)
    assert await index.mismatched() == 0 and await before.mismatched() == _sections(kb)
    int8.reset()
    assert not (await ingest(kb, index)).changed and int8.calls == 0
