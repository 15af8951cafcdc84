"""An in-memory read copy of the Chroma index, for searches that cost a matrix product instead of a round trip.

A help centre is small (hundreds to tens of thousands of sections), so every web worker can hold its sections' vectors
in one numpy matrix and search it exactly. Chroma stays the system of record: writes go to it, and the copy is
re-read when this process wrote, and otherwise at most ``max_age_s`` after the last read (stale-while-revalidate:
the old copy answers while a background task re-reads), so an ingest by another process shows up within that time.
Collections over ``max_sections`` are not copied; searches then go to Chroma.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from automations.models import Passage, Visibility
from automations.ports import Embedder
from knowledge.articles import Article
from knowledge.index import ChromaIndex

__all__ = ["SnapshotIndex"]

log = logging.getLogger("autopilot.knowledge")


@dataclass(frozen=True)
class _Snapshot:
    vectors: npt.NDArray[np.float32]
    passages: tuple[Passage, ...]
    visibility: npt.NDArray[np.str_]
    articles: npt.NDArray[np.str_]
    taken: float


class SnapshotIndex:
    """:class:`~automations.ports.KnowledgeIndex` answering from a refreshed in-memory copy of a :class:`ChromaIndex`.

    Results equal Chroma's exact cosine ranking; ``clock`` is injectable for tests.
    """

    def __init__(
        self,
        index: ChromaIndex,
        embedder: Embedder,
        *,
        max_age_s: float = 60.0,
        max_sections: int = 200_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.index = index
        self._embedder = embedder
        self._max_age = max_age_s
        self._max_sections = max_sections
        self._clock = clock
        self._snapshot: _Snapshot | None = None
        self._dirty = True
        self._lock = asyncio.Lock()
        self._refreshing: asyncio.Task[None] | None = None

    async def _current(self) -> _Snapshot | None:
        if self._dirty or self._snapshot is None:
            async with self._lock:
                if self._dirty or self._snapshot is None:
                    await self._refresh()
        elif self._clock() - self._snapshot.taken > self._max_age and self._refreshing is None:
            self._refreshing = asyncio.create_task(self._background())
        return self._snapshot

    async def _background(self) -> None:
        try:
            async with self._lock:
                await self._refresh()
        except Exception:  # the old copy keeps answering; the next search tries again
            log.warning("refreshing the knowledge snapshot failed", exc_info=True)
        finally:
            self._refreshing = None

    async def _refresh(self) -> None:
        taken = self._clock()
        self._dirty = False
        if await self.index.count() > self._max_sections:
            self._snapshot = None
            return
        ids, vectors, passages = await self.index.dump()
        if ids:
            matrix = np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)
        else:  # an empty (never ingested) index finds nothing; the CLI and /readyz say why
            matrix = np.zeros((0, self._embedder.dimension), dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self._snapshot = _Snapshot(
            vectors=(matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32),
            passages=tuple(passages),
            visibility=np.array([str(p.visibility) for p in passages], dtype=np.str_),
            articles=np.array([p.article_id for p in passages], dtype=np.str_),
            taken=taken,
        )

    @staticmethod
    def _top(
        snapshot: _Snapshot, scores: npt.NDArray[np.float32], mask: npt.NDArray[np.bool_], k: int
    ) -> list[Passage]:
        candidates = np.flatnonzero(mask)
        if k <= 0 or candidates.size == 0:
            return []
        picked = candidates[np.argsort(-scores[candidates], kind="stable")[:k]]
        return [_scored(snapshot.passages[i], float(scores[i])) for i in picked]

    async def search(
        self,
        query: str,
        *,
        k: int = 5,
        visibility: Collection[Visibility] = (Visibility.PUBLIC,),
        article_ids: Collection[str] | None = None,
    ) -> list[Passage]:
        """Nearest sections to ``query`` by cosine similarity, filtered by audience and optionally by article."""
        snapshot = await self._current()
        if snapshot is None:
            return await self.index.search(query, k=k, visibility=visibility, article_ids=article_ids)
        if article_ids is not None and not article_ids:
            return []
        vector = (await self._embedder.embed([query]))[0]
        mask = np.isin(snapshot.visibility, [str(v) for v in visibility])
        if article_ids is not None:
            mask &= np.isin(snapshot.articles, list(article_ids))
        return self._top(snapshot, snapshot.vectors @ np.asarray(vector, dtype=np.float32), mask, k)

    async def search_many(
        self, queries: Sequence[str], *, k: int = 10, visibility: Collection[Visibility] = (Visibility.PUBLIC,)
    ) -> list[list[Passage]]:
        """Nearest sections for a batch of queries, in one embedding call and one matrix product."""
        snapshot = await self._current()
        if snapshot is None:
            return await self.index.search_many(queries, k=k, visibility=visibility)
        if not queries:
            return []
        vectors = np.asarray(await self._embedder.embed(list(queries)), dtype=np.float32)
        mask = np.isin(snapshot.visibility, [str(v) for v in visibility])
        scores = vectors @ snapshot.vectors.T
        return [self._top(snapshot, row, mask, k) for row in scores]

    async def count(self) -> int:
        """Number of indexed sections (from Chroma)."""
        return await self.index.count()

    async def digests(self) -> dict[str, str]:
        """Map each indexed source file to the content digest it was indexed from."""
        return await self.index.digests()

    async def upsert(self, article: Article) -> int:
        """Replace ``article``'s sections in Chroma; this process's next search sees them."""
        try:
            return await self.index.upsert(article)
        finally:
            self._dirty = True

    async def delete_source(self, source: str) -> None:
        """Remove every section indexed from ``source``; this process's next search sees it."""
        try:
            await self.index.delete_source(source)
        finally:
            self._dirty = True


def _scored(passage: Passage, score: float) -> Passage:
    return replace(passage, score=score)
