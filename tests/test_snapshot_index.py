"""The in-memory copy of the knowledge index, against real embedded Chroma and the real model: same results as
Chroma, its own writes visible at once, another process's writes visible after the refresh interval."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from automations.models import Visibility
from bot.settings import DEFAULT_KB
from knowledge.index import ChromaIndex, chroma_client
from knowledge.ingest import ingest
from knowledge.snapshot import SnapshotIndex

pytestmark = pytest.mark.slow

QUERIES = (
    "my card still hasn't arrived",
    "how do I change my PIN",
    "a court sent you an order about my account",
    "someone I don't know took money from my card",
    "what are the fees for exchanging currency",
    "top up failed",
)
BOTH = (Visibility.PUBLIC, Visibility.INTERNAL)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _ranked(passages: list) -> list[tuple[str, str, float]]:  # type: ignore[type-arg]
    return [(p.article_id, p.section, round(p.score, 4)) for p in passages]


async def test_searches_equal_chroma(kb_index: ChromaIndex, embedder) -> None:  # type: ignore[no-untyped-def]
    snapshot = SnapshotIndex(kb_index, embedder)
    for query in QUERIES:
        for visibility in ((Visibility.PUBLIC,), BOTH):
            expected = await kb_index.search(query, k=5, visibility=visibility)
            assert _ranked(await snapshot.search(query, k=5, visibility=visibility)) == _ranked(expected)
        only = ("pin", "card-delivery")
        expected = await kb_index.search(query, k=3, article_ids=only)
        assert _ranked(await snapshot.search(query, k=3, article_ids=only)) == _ranked(expected)
        assert await snapshot.search(query, article_ids=()) == []
    assert [_ranked(r) for r in await snapshot.search_many(QUERIES, k=10)] == [
        _ranked(r) for r in await kb_index.search_many(QUERIES, k=10)
    ]


async def test_internal_sections_never_returned_for_public(kb_index: ChromaIndex, embedder) -> None:  # type: ignore[no-untyped-def]
    snapshot = SnapshotIndex(kb_index, embedder)
    found = await snapshot.search("legal process intake subpoena procedure", k=20)
    assert found and all(p.visibility is Visibility.PUBLIC for p in found)
    both = await snapshot.search("subpoena intake", k=20, visibility=BOTH)
    assert any(p.visibility is Visibility.INTERNAL for p in both)


async def test_own_writes_at_once_other_writes_after_refresh(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    content = tmp_path / "content" / "public"
    content.mkdir(parents=True)
    shutil.copy(DEFAULT_KB / "public" / "pin.md", content / "pin.md")
    client = chroma_client(path=tmp_path / "chroma")
    clock = Clock()
    snapshot = SnapshotIndex(ChromaIndex(client, embedder), embedder, max_age_s=60, clock=clock)
    await ingest(tmp_path / "content", snapshot)
    assert {p.article_id for p in await snapshot.search("card delivery time", k=10)} == {"pin"}

    shutil.copy(DEFAULT_KB / "public" / "card-delivery.md", content / "card-delivery.md")
    other_worker = ChromaIndex(chroma_client(path=tmp_path / "chroma"), embedder)
    await ingest(tmp_path / "content", other_worker)
    assert {p.article_id for p in await snapshot.search("card delivery time", k=10)} == {"pin"}  # still fresh

    clock.now += 61  # stale: this search answers from the old copy and starts a re-read
    assert {p.article_id for p in await snapshot.search("card delivery time", k=10)} == {"pin"}
    assert snapshot._refreshing is not None
    await snapshot._refreshing
    assert (await snapshot.search("card delivery time", k=1))[0].article_id == "card-delivery"

    (content / "card-delivery.md").unlink()
    await ingest(tmp_path / "content", snapshot)
    assert {p.article_id for p in await snapshot.search("card delivery time", k=10)} == {"pin"}


async def test_large_collections_search_chroma(kb_index: ChromaIndex, embedder) -> None:  # type: ignore[no-untyped-def]
    snapshot = SnapshotIndex(kb_index, embedder, max_sections=1)
    expected = await kb_index.search(QUERIES[0], k=3)
    assert _ranked(await snapshot.search(QUERIES[0], k=3)) == _ranked(expected)
    assert snapshot._snapshot is None


async def test_an_empty_index_finds_nothing_instead_of_failing(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Before any ingest the copy is empty: searches find nothing (start-up and /readyz say why), they do not raise."""
    snapshot = SnapshotIndex(ChromaIndex(chroma_client(path=tmp_path / "never-ingested"), embedder), embedder)
    assert await snapshot.count() == 0
    assert await snapshot.search("where is my card", k=3, visibility=BOTH) == []
    assert await snapshot.search_many(["where is my card", "pin"], k=3) == [[], []]
