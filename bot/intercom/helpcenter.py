"""Import the published Intercom Help Center articles into the knowledge base, incrementally.

Each published article becomes ``intercom-<id>.md`` (Markdown with the front matter :mod:`knowledge.articles` reads,
``visibility: public``) in a folder under the data directory. A file is rewritten only when its content changed, so
:func:`knowledge.ingest.ingest` (incremental by SHA-256) re-embeds only new and changed articles; files of deleted or
unpublished articles are removed, and ingest drops their sections from the index. The whole list is fetched before
anything on disk changes: a failed fetch leaves the folder and the index as they were.

To let the bot cite an imported article for a category, list its id (``intercom-<id>``) in the taxonomy.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import yaml
from intercom import AsyncIntercom
from markdownify import markdownify

from automations.delivery import RetryLater
from bot.intercom.sender import NO_SDK_RETRIES, delivery_error, intercom_client
from bot.settings import Settings
from knowledge.index import ChromaIndex
from knowledge.ingest import IngestReport, ingest

__all__ = [
    "HelpCenterArticle",
    "SyncReport",
    "fetch_published",
    "help_center_folder",
    "render_article",
    "sync_help_center",
    "write_articles",
]

T = TypeVar("T")
ID_PREFIX = "intercom-"
PER_PAGE = 50
MAX_PAGES = 1000
ATTEMPTS = 4
MAX_WAIT_S = 60.0
_TOP_HEADING = re.compile(r"^# ", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")
_SAFE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@dataclass(frozen=True, slots=True)
class HelpCenterArticle:
    """The parts of an Intercom article the knowledge base keeps."""

    id: str
    title: str
    body_html: str
    url: str | None
    updated_at: int
    description: str = ""


@dataclass(slots=True)
class SyncReport:
    """What one sync did: files written/unchanged/removed/skipped, and what ingestion changed in the index."""

    fetched: int = 0
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    ingest: IngestReport = field(default_factory=IngestReport)


def help_center_folder(settings: Settings) -> Path:
    """Where imported articles live: ``<data_dir>/kb/intercom``."""
    return settings.data_dir / "kb" / "intercom"


async def _with_retries(call: Callable[[], Awaitable[T]], *, attempts: int = ATTEMPTS) -> T:
    """``call()``, retried (bounded) on 429/5xx/timeouts, waiting ``Retry-After`` when the server gives one.

    Intercom failures surface as :class:`RetryLater` (attempts exhausted) or :class:`PermanentFailure`.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except Exception as exc:
            mapped = delivery_error(exc)
            if mapped is None:
                raise
            if not isinstance(mapped, RetryLater) or attempt == attempts:
                raise mapped from exc
            wait = mapped.retry_after if mapped.retry_after is not None else 2.0 ** (attempt - 1)
            await asyncio.sleep(min(wait, MAX_WAIT_S))
    raise AssertionError("unreachable")  # pragma: no cover


async def fetch_published(client: AsyncIntercom, *, per_page: int = PER_PAGE) -> list[HelpCenterArticle]:
    """Every article with ``state == "published"`` (Articles API, all pages; SDK retries off, ours bounded)."""
    found: dict[str, HelpCenterArticle] = {}
    for page in range(1, MAX_PAGES + 1):
        pager: Any = await _with_retries(
            partial(client.articles.list, page=page, per_page=per_page, request_options=NO_SDK_RETRIES)
        )
        items = list(pager.items or [])
        for item in items:
            if str(item.state) == "published":
                found[str(item.id)] = HelpCenterArticle(
                    id=str(item.id), title=item.title, body_html=item.body or "", url=item.url,
                    updated_at=int(item.updated_at), description=item.description or "",
                )  # fmt: skip
        pages = getattr(pager.response, "pages", None)
        total = pages.get("total_pages") if isinstance(pages, dict) else None
        if not items or (isinstance(total, int) and page >= total) or (total is None and len(items) < per_page):
            break
    return sorted(found.values(), key=lambda a: a.id)


def _markdown(html: str) -> str:
    text = markdownify(html, heading_style="ATX", bullets="-", strip=["img", "script", "style"])
    # the title lives in the front matter: a top-level heading in the body starts a section
    text = _TOP_HEADING.sub("## ", text)
    return _BLANK_RUNS.sub("\n\n", text).strip()


def render_article(article: HelpCenterArticle, categories: Sequence[str] = ()) -> str | None:
    """The article as KB Markdown with front matter; ``None`` when it has no URL or no text to index.

    ``categories`` are the contact drivers it answers: the pipeline offers an article to customers only for the
    categories that list it."""
    body = _markdown(article.body_html) or article.description.strip()
    if not article.url or not body or not article.title.strip() or not _SAFE_ID.match(article.id.lower()):
        return None
    meta = {
        "id": f"{ID_PREFIX}{article.id.lower()}",
        "title": article.title.strip(),
        "categories": list(categories),
        "visibility": "public",
        "url": article.url,
        "updated": datetime.fromtimestamp(article.updated_at, tz=UTC).date(),
    }
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front}---\n{body}\n"


def write_articles(
    folder: Path,
    articles: list[HelpCenterArticle],
    report: SyncReport | None = None,
    categories: Mapping[str, Sequence[str]] | None = None,
) -> SyncReport:
    """Make ``folder`` hold exactly ``articles`` (unchanged files untouched); returns what changed on disk."""
    report = report or SyncReport()
    categories = categories or {}
    folder.mkdir(parents=True, exist_ok=True)
    keep: set[str] = set()
    for article in articles:
        text = render_article(article, categories.get(article.id, ()))
        if text is None:
            report.skipped.append(article.id)
            continue
        path = folder / f"{ID_PREFIX}{article.id.lower()}.md"
        keep.add(path.name)
        data = text.encode("utf-8")
        if path.is_file() and path.read_bytes() == data:
            report.unchanged.append(article.id)
            continue
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        report.written.append(article.id)
    for stale in sorted(folder.glob("*.md")):
        if stale.name not in keep:
            stale.unlink()
            report.removed.append(stale.stem.removeprefix(ID_PREFIX))
    return report


Categorize = Callable[[Sequence[str]], Awaitable[list[tuple[str, ...]]]]
"""Maps article texts (title and opening) to the contact drivers each answers (empty when unsure)."""


async def sync_help_center(
    settings: Settings,
    index: ChromaIndex,
    *,
    folder: Path | None = None,
    client: AsyncIntercom | None = None,
    categorize: Categorize | None = None,
) -> SyncReport:
    """Fetch published Help Center articles, update the folder, and ingest it incrementally into ``index``.

    With ``categorize``, each article is filed under the drivers the classifier is confident it answers (written in
    its front matter, so an editor can correct it); :func:`bot.composition.build_core` adds them to the taxonomy."""
    folder = folder or help_center_folder(settings)
    http = None
    if client is None:
        client, http = intercom_client(settings)
    try:
        articles = await fetch_published(client)
    finally:
        if http is not None:
            await http.aclose()
    found: dict[str, tuple[str, ...]] = {}
    if categorize is not None and articles:
        texts = [f"{a.title}. {a.description} {_markdown(a.body_html)[:400]}" for a in articles]
        found = dict(zip((a.id for a in articles), await categorize(texts), strict=True))
    report = write_articles(folder, articles, SyncReport(fetched=len(articles)), found)
    report.ingest = await ingest(folder, index)
    return report
