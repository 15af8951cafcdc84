"""The knowledge index on Chroma: embedded ``PersistentClient`` by default, a Chroma server when a host is set.

Embeddings are always computed by our own :class:`~automations.ports.Embedder` and passed in; the collection is
created with no embedding function, so Chroma's default (which downloads a model) can never run.

Each section records which embeddings it was indexed with (``embedding``: ``float`` or ``int8``). Sections indexed
with other embeddings than the ones this process queries with report a stale digest, so the next ingest re-embeds
them instead of leaving float and int8 vectors mixed; until then a warning says so at start-up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from automations.models import Passage, Visibility
from automations.ports import Embedder
from knowledge.articles import Article

__all__ = ["COLLECTION", "ChromaIndex", "chroma_client", "embedding_kind", "sections_collection"]

COLLECTION = "kb_sections"
_SEP = "|"
_STALE = "stale:"


def embedding_kind(embedder: Embedder) -> str:
    """``int8`` for the quantised MiniLM, else ``float`` (the ONNX and torch backends give the same vectors).

    Sections indexed before this was recorded were embedded in float."""
    return "int8" if getattr(embedder, "backend", None) == "onnx-int8" else "float"


def chroma_client(*, path: Path | str | None = None, host: str | None = None, port: int = 8000) -> Any:
    """Return a Chroma ``HttpClient`` when ``host`` is given, else a ``PersistentClient`` at ``path``."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if host:
        return chromadb.HttpClient(host=host, port=port, settings=settings)
    if path is None:
        raise ValueError("a Chroma path or host is required")
    Path(path).mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def sections_collection(client: Any, name: str = COLLECTION) -> Any:
    """The Chroma collection of article sections, created empty when missing (cosine space, no embedding function,
    so Chroma's downloading default never runs). Its ``count()`` needs no embedder."""
    return client.get_or_create_collection(name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})


class ChromaIndex:
    """:class:`~automations.ports.KnowledgeIndex` over one Chroma collection of article sections."""

    def __init__(self, client: Any, embedder: Embedder, *, collection: str = COLLECTION) -> None:
        self._embedder = embedder
        self.embedding = embedding_kind(embedder)
        self._collection: Any = sections_collection(client, collection)

    async def search(
        self,
        query: str,
        *,
        k: int = 5,
        visibility: Collection[Visibility] = (Visibility.PUBLIC,),
        article_ids: Collection[str] | None = None,
    ) -> list[Passage]:
        """Nearest sections to ``query`` by cosine similarity, filtered by audience and optionally by article."""
        if article_ids is not None and not article_ids:
            return []
        clauses: list[dict[str, Any]] = [{"visibility": {"$in": [str(v) for v in visibility]}}]
        if article_ids is not None:
            clauses.append({"article_id": {"$in": sorted(article_ids)}})
        where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        vector = (await self._embedder.embed([query]))[0]
        result = await asyncio.to_thread(
            self._collection.query,
            query_embeddings=[vector],
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            _passage(meta, doc, 1.0 - float(dist))
            for meta, doc, dist in zip(
                result["metadatas"][0], result["documents"][0], result["distances"][0], strict=True
            )
        ]

    async def search_many(
        self, queries: Sequence[str], *, k: int = 10, visibility: Collection[Visibility] = (Visibility.PUBLIC,)
    ) -> list[list[Passage]]:
        """Nearest sections for a batch of queries, in one embedding call and one Chroma round trip."""
        if not queries:
            return []
        vectors = await self._embedder.embed(list(queries))
        result = await asyncio.to_thread(
            self._collection.query,
            query_embeddings=list(vectors),
            n_results=k,
            where={"visibility": {"$in": [str(v) for v in visibility]}},
            include=["documents", "metadatas", "distances"],
        )
        return [
            [_passage(m, d, 1.0 - float(x)) for m, d, x in zip(metas, docs, dists, strict=True)]
            for metas, docs, dists in zip(result["metadatas"], result["documents"], result["distances"], strict=True)
        ]

    async def dump(self) -> tuple[list[str], Any, list[Passage]]:
        """Every section: ids, embeddings (``(n, d)``) and passages (score 0), for an in-memory copy."""
        got = await asyncio.to_thread(self._collection.get, include=["embeddings", "documents", "metadatas"])
        passages = [_passage(m, d, 0.0) for m, d in zip(got["metadatas"], got["documents"], strict=True)]
        return list(got["ids"]), got["embeddings"], passages

    async def count(self) -> int:
        """Number of indexed sections."""
        return int(await asyncio.to_thread(self._collection.count))

    async def digests(self) -> dict[str, str]:
        """Map each indexed source file to the content digest it was indexed from (marked stale when its sections
        were embedded differently from this process's embedder, so that an ingest re-embeds them)."""
        got = await asyncio.to_thread(self._collection.get, include=["metadatas"])
        digests = {str(m["source"]): str(m["digest"]) for m in got["metadatas"]}
        stale = {str(m["source"]) for m in got["metadatas"] if m.get("embedding", "float") != self.embedding}
        return {source: _STALE + digest if source in stale else digest for source, digest in digests.items()}

    async def mismatched(self) -> int:
        """Sections embedded differently from the embeddings this process queries with (0 once re-ingested)."""
        same = await asyncio.to_thread(self._collection.get, where={"embedding": self.embedding}, include=[])
        return await self.count() - len(same["ids"])

    async def upsert(self, article: Article) -> int:
        """Replace every section of ``article`` (and anything indexed from its source file); returns sections."""
        await self.delete_source(article.source)
        await asyncio.to_thread(self._collection.delete, where={"article_id": article.meta.id})
        vectors = await self._embedder.embed([s.embed_text for s in article.sections])
        meta = article.meta
        metadatas = [
            {
                "article_id": meta.id,
                "title": meta.title,
                "section": s.heading,
                "intro": s.id.endswith("#intro"),
                "url": meta.url,
                "visibility": str(meta.visibility),
                "categories": _SEP + _SEP.join(meta.categories) + _SEP,
                "source": article.source,
                "digest": article.digest,
                "updated": meta.updated.isoformat(),
                "embedding": self.embedding,
            }
            for s in article.sections
        ]
        await asyncio.to_thread(
            self._collection.upsert,
            ids=[s.id for s in article.sections],
            embeddings=vectors,
            documents=[s.body for s in article.sections],
            metadatas=metadatas,
        )
        return len(article.sections)

    async def delete_source(self, source: str) -> None:
        """Remove every section indexed from ``source``."""
        await asyncio.to_thread(self._collection.delete, where={"source": source})


def _passage(meta: Mapping[str, Any], document: str, score: float) -> Passage:
    return Passage(
        article_id=str(meta["article_id"]),
        title=str(meta["title"]),
        section=str(meta["section"]),
        text=document,
        url=str(meta["url"]),
        visibility=Visibility(str(meta["visibility"])),
        categories=tuple(c for c in str(meta["categories"]).split(_SEP) if c),
        score=score,
        intro=bool(meta["intro"]) if "intro" in meta else None,
    )
