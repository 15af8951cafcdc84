"""The one composition root: settings in, every process wired out.

Each process (web, worker, scheduler, CLI) calls one function here. Configuration files (taxonomy, safety rules) are
loaded once per process into a :class:`Config`, and nothing below this module reads configuration on its own.

- :func:`build_core`: the decision core (model, index, event store, pipeline);
- :func:`build_web`: the HTTP service with its SQL queues and every channel adapter (``serve`` and ``worker``);
- :func:`build_scheduler`: the scheduler's jobs;
- :func:`build_categorizer`: the help-centre importer's article filing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from automations.answering import ExtractiveAnswerer
from automations.classifier import EmbeddingClassifier, LinearHead
from automations.clocks import SystemClock
from automations.llm import GroundingPolicy
from automations.models import Decision, Passage
from automations.nondisclosure import NonDisclosure
from automations.obligations import Obligations, load_obligations
from automations.outcomes import OutcomeTracker
from automations.pipeline import Pipeline, Policy
from automations.ports import Clock, EventStore, Notifier
from automations.qa import QaScorer, Scorecard, load_scorecard
from automations.qa.coaching import CoachingRules, load_coaching
from automations.qa.directory import AgentDirectory, load_directory
from automations.qa.scorer import QaJudge
from automations.redaction import Redactor, install_log_redaction
from automations.risk import DEFAULT_RISK, RiskHead, load_risk
from automations.safety import SafetyGate, load_safety_rules
from automations.sections import SectionRanker
from automations.taxonomy import Taxonomy, load_taxonomy
from bot.composition.team import team_view
from bot.context import Core, Queues
from bot.llm import build_answerer, build_summarizer, llm_enabled, load_policy
from bot.service import Service, build_service
from bot.settings import Settings
from knowledge.embedding import MiniLMEmbedder
from knowledge.index import ChromaIndex, chroma_client
from knowledge.ingest import load_folder
from knowledge.snapshot import SnapshotIndex
from store import SqlAuditTrail, SqlEventStore, SqlRegulatoryClocks, SqlReportSource
from store.conversations import SqlConversations
from store.qa import SqlQaRecords
from store.queues import SqlInbox, SqlOutbox

__all__ = [
    "Config",
    "Core",
    "LogNotifier",
    "Scheduled",
    "SystemClock",
    "build_categorizer",
    "build_core",
    "build_scheduler",
    "build_web",
    "imported_articles",
    "load_config",
    "make_embedder",
    "open_index",
    "open_reporting",
    "open_reports",
    "sql_queues",
    "warm_up",
]

log = logging.getLogger("autopilot")
ANSWER_MARGIN = 0.1
"""More sections of the answering article (two at most) join the reply when they score this close to the best (chosen
on the answers dev set: ``autopilot eval answers --facts``)."""


class LogNotifier:
    """Hand-off notifier for the embedded default: writes each hand-off to the (redacting) log."""

    async def handoff(self, decision: Decision) -> None:
        """Log the hand-off."""
        log.info("hand-off to %s: %s", decision.tier, decision.contact_id)


@dataclass(frozen=True)
class Config:
    """Every configuration file of a process, loaded and validated once."""

    settings: Settings
    taxonomy: Taxonomy
    safety: SafetyGate
    grounding: GroundingPolicy
    risk: RiskHead | None
    obligations: Obligations | None = None
    scorecard: Scorecard | None = None
    agents: AgentDirectory | None = None
    coaching: CoachingRules | None = None


def imported_articles(settings: Settings) -> dict[str, list[str]]:
    """Category → ids of the articles imported at run time (``<data dir>/kb``, e.g. the Intercom Help Center)."""
    folder = settings.data_dir / "kb"
    extra: dict[str, list[str]] = {}
    if folder.is_dir():
        for article in load_folder(folder):
            for category in article.meta.categories:
                extra.setdefault(category, []).append(article.meta.id)
    return extra


def kb_passages(settings: Settings) -> list[Passage]:
    """Every section of the knowledge base and of the imported articles, for the section ranker's word statistics."""
    folders = [settings.kb_path, settings.data_dir / "kb"]
    return [p for folder in folders if folder.exists() for a in load_folder(folder) for p in a.passages()]


def load_config(settings: Settings) -> Config:
    """Load the taxonomy (with imported articles), the safety rules and the regulatory obligations."""
    taxonomy = load_taxonomy(settings.taxonomy_path).with_articles(imported_articles(settings))
    safety = SafetyGate(load_safety_rules(settings.safety_path))
    obligations = load_obligations(settings.obligations_path)
    scorecard = load_scorecard(settings.qa_scorecard_path)
    agents, coaching = load_directory(settings.agent_directory_path), load_coaching(settings.coaching_path)
    return Config(
        settings, taxonomy, safety, load_policy(), load_risk(DEFAULT_RISK), obligations, scorecard, agents, coaching
    )


def make_embedder(settings: Settings, *, cache_size: int = 8192) -> MiniLMEmbedder:
    """The packaged MiniLM on the configured backend (``EMBEDDING_BACKEND``, int8 ONNX by default)."""
    return MiniLMEmbedder(backend=settings.embedding_backend, cache_size=cache_size)


def open_index(settings: Settings, embedder: MiniLMEmbedder) -> ChromaIndex:
    """The knowledge index: a Chroma server when ``CHROMA_HOST`` is set, else the embedded store."""
    client = chroma_client(path=settings.chroma_dir, host=settings.chroma_host, port=settings.chroma_port)
    return ChromaIndex(client, embedder)


def build_categorizer(
    config: Config, embedder: MiniLMEmbedder
) -> Callable[[Sequence[str]], Awaitable[list[tuple[str, ...]]]]:
    """Files imported articles under the bot-answerable driver the classifier is confident about (else none)."""
    taxonomy, head = config.taxonomy, LinearHead.load(config.settings.model_dir)
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
    config: Config | None = None,
    model_dir: Path | None = None,
    notifier: Notifier | None = None,
    clock: Clock | None = None,
    embedder: MiniLMEmbedder | None = None,
    store: SqlEventStore | None = None,
    chroma: ChromaIndex | None = None,
) -> Core:
    """Load the model, the index and the event store, and wire the pipeline (``store`` defaults to the SQL one at
    ``DATABASE_URL``)."""
    install_log_redaction()
    config = config or load_config(settings)
    taxonomy = config.taxonomy
    head = LinearHead.load(model_dir or settings.model_dir)
    unknown = sorted(set(head.labels) - set(taxonomy.ids))
    if unknown:
        log.warning("model labels not in the taxonomy are treated as out_of_scope: %s", ", ".join(unknown[:10]))
    embedder = embedder or make_embedder(settings)
    classifier = EmbeddingClassifier(embedder, head, risk=config.risk)
    chroma = chroma or open_index(settings, embedder)
    stale = await chroma.mismatched()
    if stale:
        log.warning(
            "%d knowledge-base sections were not embedded in %s like this process's queries;"
            " run `autopilot kb ingest` (same EMBEDDING_BACKEND) to re-embed them",
            stale,
            chroma.embedding,
        )
    index: ChromaIndex | SnapshotIndex = chroma
    if settings.index_snapshot_s > 0:  # searches from an in-memory copy, re-read at most this often
        index = SnapshotIndex(index, embedder, max_age_s=settings.index_snapshot_s)
    sql = store or await SqlEventStore.open(settings.db_url)
    events: EventStore = sql
    audit = SqlAuditTrail(sql.engine)
    clocks = SqlRegulatoryClocks(sql.engine, audit)  # each decision's deadlines, kept running; transitions audited
    outcomes = OutcomeTracker(
        events,
        resolve_after=timedelta(hours=settings.resolve_after_hours),
        reopen_within=timedelta(days=settings.reopen_within_days),
    )
    llm = llm_enabled(settings)
    extractive = ExtractiveAnswerer(margin=ANSWER_MARGIN)
    pipeline = Pipeline(
        taxonomy=taxonomy,
        classifier=classifier,
        index=index,
        answerer=build_answerer(
            settings, embedder, extractive, taxonomy=taxonomy, safety=config.safety, policy=config.grounding
        ),
        store=events,
        notifier=notifier or LogNotifier(),
        clock=clock or SystemClock(),
        policy=Policy(confidence=head.threshold, retrieval=head.retrieval_threshold, k=settings.retrieval_k),
        safety=config.safety,
        redactor=Redactor(),
        outcomes=outcomes,
        # with a model configured, each hand-off's summary gets a checked gist (never for protected topics)
        summarizer=build_summarizer(
            settings, embedder, taxonomy=taxonomy, safety=config.safety, policy=config.grounding
        )
        if llm
        else None,
        obligations=config.obligations or load_obligations(settings.obligations_path),
        jurisdiction=settings.default_jurisdiction,
        clocks=clocks,
        nondisclosure=NonDisclosure.of(taxonomy, config.scorecard),  # no reply may tip an AML customer off
        ranker=SectionRanker(kb_passages(settings)),
    )
    reports = SqlReportSource(sql.engine)
    team = team_view(settings, taxonomy, sql.engine, directory=config.agents, rules=config.coaching)
    return Core(
        settings, taxonomy, embedder, classifier, index, events, pipeline, outcomes, reports, clocks, audit, team=team
    )


@dataclass(frozen=True)
class Warm:
    """The parts of a core that load synchronously (configuration, the ONNX model, the Chroma client)."""

    config: Config
    embedder: MiniLMEmbedder
    chroma: ChromaIndex


def warm_up(settings: Settings) -> Warm:
    """Load those parts; blocking, so a web process runs it in a thread while its event loop keeps answering."""
    embedder = make_embedder(settings)
    return Warm(load_config(settings), embedder, open_index(settings, embedder))


async def sql_queues(settings: Settings, store: SqlEventStore) -> Queues:
    """The inbox, outbox and conversation state in SQL: the event store's database, or ``INBOX_DATABASE_URL``."""
    from automations.groupcommit import GroupCommitInbox

    inbox_store = await SqlEventStore.open(settings.inbox_db_url) if settings.inbox_db_url else None
    inbox_engine = inbox_store.engine if inbox_store is not None else store.engine
    return Queues(
        inbox=GroupCommitInbox(SqlInbox(inbox_engine)),
        outbox=SqlOutbox(store.engine),
        conversations=SqlConversations(store.engine),
        close=inbox_store.close if inbox_store else None,
        transcripts=SqlQaRecords(store.engine),
    )


async def build_web(
    settings: Settings,
    *,
    core: Core | None = None,
    clock: Clock | None = None,
    parts: list[Callable[..., Awaitable[object]]] | None = None,
    store: SqlEventStore | None = None,
    warm: Warm | None = None,
    **kwargs: object,
) -> Service:
    """The HTTP service on SQL queues: ``autopilot serve`` and ``autopilot worker`` (workers not started yet);
    ``store`` is an already open event store to build on (the web front's), ``warm`` what :func:`warm_up` loaded."""
    clock = clock or SystemClock()
    if core is None:
        core = await build_core(
            settings, clock=clock, store=store, config=warm.config if warm else None,
            embedder=warm.embedder if warm else None, chroma=warm.chroma if warm else None,
        )  # fmt: skip
    if not isinstance(core.store, SqlEventStore):
        raise TypeError("build_web needs a core on the SQL event store; use bot.service.build_service for others")
    queues = await sql_queues(settings, core.store)
    return await build_service(settings, core=core, queues=queues, clock=clock, parts=parts, **kwargs)  # type: ignore[arg-type]


from bot.composition.jobs import Scheduled, build_scheduler, open_reporting, open_reports  # noqa: E402 (use the above)


def build_qa_scorer(settings: Settings, *, learned: bool = True, judge: QaJudge | None = None) -> QaScorer:
    """The QA scorer: the scorecard's rules, plus the critical-fail head on the packaged MiniLM (``learned``)."""
    from automations.qa.head import load_head

    head = load_head() if learned else None
    embedder = make_embedder(settings) if head is not None else None
    return QaScorer(load_scorecard(settings.qa_scorecard_path), head=head, embedder=embedder, judge=judge)
