"""Incremental ingestion of a folder of Markdown articles into the knowledge index.

Unchanged files (same SHA-256 as when indexed) cost nothing; changed files are re-chunked and re-embedded; files
that disappeared from the folder are removed from the index.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from automations.configfile import ConfigError
from knowledge.articles import Article, load_article

__all__ = ["IndexWriter", "IngestReport", "Progress", "ingest", "load_folder"]

Progress = Callable[[int, int, str], None]


class IndexWriter(Protocol):
    """What ingestion needs of an index (``ChromaIndex`` or ``SnapshotIndex``)."""

    async def digests(self) -> dict[str, str]:
        """Map each indexed source file to the digest it was indexed from."""
        ...

    async def upsert(self, article: Article) -> int:
        """Replace every section of ``article``; returns how many sections it has."""
        ...

    async def delete_source(self, source: str) -> None:
        """Remove every section indexed from ``source``."""
        ...


@dataclass(slots=True)
class IngestReport:
    """What one ingestion run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    sections: int = 0

    @property
    def changed(self) -> bool:
        """Whether the index was modified."""
        return bool(self.added or self.updated or self.deleted)


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root.resolve()]
    if not root.is_dir():
        raise FileNotFoundError(f"no such knowledge-base folder or file: {root}")
    return sorted(p.resolve() for p in root.rglob("*.md") if not p.name.startswith((".", "_")) and p.is_file())


def load_folder(root: Path) -> list[Article]:
    """Parse every article under ``root``; duplicate ids are an error naming both files."""
    articles = [load_article(p) for p in _files(root)]
    seen: dict[str, str] = {}
    for article in articles:
        other = seen.setdefault(article.meta.id, article.source)
        if other != article.source:
            raise ConfigError(article.source, 2, f"id {article.meta.id!r} is already used by {other}")
    return articles


async def ingest(root: Path, index: IndexWriter, *, progress: Progress | None = None) -> IngestReport:
    """Bring the index in line with the articles under ``root``; returns what changed."""
    root = Path(root)
    articles = load_folder(root)
    indexed = await index.digests()
    report = IngestReport()
    prefix = str(root.resolve()) + (os.sep if root.is_dir() else "")
    current = {a.source for a in articles}
    stale = sorted(s for s in indexed if s.startswith(prefix) and s not in current)
    total = len(articles) + len(stale)
    done = 0
    for article in articles:
        known = indexed.get(article.source)
        if known == article.digest:
            report.unchanged.append(article.meta.id)
        else:
            report.sections += await index.upsert(article)
            (report.updated if known is not None else report.added).append(article.meta.id)
        done += 1
        if progress is not None:
            progress(done, total, article.meta.id)
    for source in stale:
        await index.delete_source(source)
        report.deleted.append(source)
        done += 1
        if progress is not None:
            progress(done, total, source)
    return report
