"""The single composition root: settings in, a wired automation core out."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from automations.answering import ExtractiveAnswerer
from automations.classifier import EmbeddingClassifier, LinearHead
from automations.llm import SummarizingNotifier
from automations.models import Decision
from automations.outcomes import OutcomeTracker
from automations.pipeline import Pipeline, Policy
from automations.ports import Clock, Notifier
from automations.redaction import Redactor, install_log_redaction
from automations.safety import SafetyGate, load_safety_rules
from automations.taxonomy import Taxonomy, load_taxonomy
from bot.llm import build_answerer, build_summarizer, llm_enabled
from bot.settings import Settings
from knowledge.embedding import MiniLMEmbedder
from knowledge.index import ChromaIndex, chroma_client
from knowledge.ingest import load_folder
from knowledge.snapshot import SnapshotIndex
from store import SqlEventStore

__all__ = [
    "Core",
    "LogNotifier",
    "SystemClock",
    "article_categorizer",
    "build_core",
    "imported_articles",
    "make_embedder",
    "open_index",
]

log = logging.getLogger("autopilot")


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        """Current UTC time."""
        return datetime.now(UTC)


class LogNotifier:
    """Hand-off notifier for the embedded default: writes each hand-off to the (redacting) log."""

    async def handoff(self, decision: Decision) -> None:
        """Log the hand-off summary."""
        log.info("hand-off to %s: %s", decision.tier, decision.contact_id)


@dataclass
class Core:
    """Everything a process needs, built once."""

    settings: Settings
    taxonomy: Taxonomy
    embedder: MiniLMEmbedder
    classifier: EmbeddingClassifier
    index: ChromaIndex | SnapshotIndex
    store: SqlEventStore
    pipeline: Pipeline
    outcomes: OutcomeTracker

    async def close(self) -> None:
        """Release the database connections."""
        await self.store.close()


def make_embedder(settings: Settings, *, cache_size: int = 8192) -> MiniLMEmbedder:
    """The packaged MiniLM on the configured backend (``EMBEDDING_BACKEND``, int8 ONNX by default)."""
    return MiniLMEmbedder(backend=settings.embedding_backend, cache_size=cache_size)


def open_index(settings: Settings, embedder: MiniLMEmbedder) -> ChromaIndex:
    """The knowledge index: a Chroma server when ``CHROMA_HOST`` is set, else the embedded store."""
    client = chroma_client(path=settings.chroma_dir, host=settings.chroma_host, port=settings.chroma_port)
    return ChromaIndex(client, embedder)


def imported_articles(settings: Settings) -> dict[str, list[str]]:
    """Category → ids of the articles imported at run time (``<data dir>/kb``, e.g. the Intercom Help Center)."""
    folder = settings.data_dir / "kb"
    extra: dict[str, list[str]] = {}
    if folder.is_dir():
        for article in load_folder(folder):
            for category in article.meta.categories:
                extra.setdefault(category, []).append(article.meta.id)
    return extra


def article_categorizer(
    settings: Settings, embedder: MiniLMEmbedder
) -> Callable[[Sequence[str]], Awaitable[list[tuple[str, ...]]]]:
    """Files imported articles under the bot-answerable driver the classifier is confident about (else none)."""
    taxonomy = load_taxonomy(settings.taxonomy_path)
    head = LinearHead.load(settings.model_dir)
    classifier = EmbeddingClassifier(embedder, head)

    async def categorize(texts: Sequence[str]) -> list[tuple[str, ...]]:
        found = await classifier.classify(texts)
        return [
            (c.category,)
            if c.category in taxonomy
            and taxonomy.category(c.category).bot_may_answer
            and c.confidence >= head.threshold
            else ()
            for c in found
        ]

    return categorize


async def build_core(
    settings: Settings,
    *,
    model_dir: Path | None = None,
    notifier: Notifier | None = None,
    clock: Clock | None = None,
    embedder: MiniLMEmbedder | None = None,
) -> Core:
    """Load configuration, model, index and store, and wire the pipeline."""
    install_log_redaction()
    taxonomy = load_taxonomy(settings.taxonomy_path).with_articles(imported_articles(settings))
    safety = SafetyGate(load_safety_rules(settings.safety_path))
    head = LinearHead.load(model_dir or settings.model_dir)
    unknown = sorted(set(head.labels) - set(taxonomy.ids))
    if unknown:
        log.warning("model labels not in the taxonomy are treated as out_of_scope: %s", ", ".join(unknown[:10]))
    embedder = embedder or make_embedder(settings)
    notifier = notifier or LogNotifier()
    if llm_enabled(settings):  # hand-off summaries get a model-written gist on top (never for protected topics)
        notifier = SummarizingNotifier(notifier, build_summarizer(settings, embedder))
    classifier = EmbeddingClassifier(embedder, head)
    chroma = open_index(settings, embedder)
    stale = await chroma.mismatched()
    if stale:
        log.warning(
            "%d knowledge-base sections were not embedded in %s like this process's queries;"
            " run `autopilot kb ingest` (same EMBEDDING_BACKEND) to re-embed them", stale, chroma.embedding,
        )  # fmt: skip
    index: ChromaIndex | SnapshotIndex = chroma
    if settings.index_snapshot_s > 0:  # searches from an in-memory copy, re-read at most this often
        index = SnapshotIndex(index, embedder, max_age_s=settings.index_snapshot_s)
    store = await SqlEventStore.open(settings.db_url)
    outcomes = OutcomeTracker(
        store,
        resolve_after=timedelta(hours=settings.resolve_after_hours),
        reopen_within=timedelta(days=settings.reopen_within_days),
    )
    pipeline = Pipeline(
        taxonomy=taxonomy,
        classifier=classifier,
        index=index,
        answerer=build_answerer(settings, embedder, ExtractiveAnswerer()),
        store=store,
        notifier=notifier,
        clock=clock or SystemClock(),
        policy=Policy(confidence=head.threshold, retrieval=head.retrieval_threshold, k=settings.retrieval_k),
        safety=safety,
        redactor=Redactor(),
        outcomes=outcomes,
    )
    return Core(settings, taxonomy, embedder, classifier, index, store, pipeline, outcomes)
