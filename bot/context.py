"""What the composition root hands every channel adapter: the wired core, the queues, and the shared services.

Only value types live here, so adapters import this module and never :mod:`bot.service` or each other: adapters
translate, the service dispatches, and :mod:`bot.composition` builds both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from starlette.routing import BaseRoute

from automations.audit import AuditTrail
from automations.conversations import ConversationFlow, Conversations
from automations.deadlines import RegulatoryClocks
from automations.delivery import ItemHandler, Sender
from automations.effects import EffectPlanner, HandoffEffect
from automations.outcomes import OutcomeTracker
from automations.pipeline import Pipeline
from automations.ports import Classifier, Clock, Embedder, EventStore, KnowledgeIndex
from automations.qa.records import QaRecords
from automations.qa.teamview import TeamView
from automations.queues import Inbox, Outbox
from automations.reports.ports import ReportSource
from automations.taxonomy import Taxonomy
from bot.settings import Settings

__all__ = ["Context", "Core", "HandoffEffect", "Parts", "PartsFactory", "Queues"]


@dataclass
class Core:
    """The decision core of one process, built once by :func:`bot.composition.build_core`."""

    settings: Settings
    taxonomy: Taxonomy
    embedder: Embedder
    classifier: Classifier
    index: KnowledgeIndex
    store: EventStore
    pipeline: Pipeline
    outcomes: OutcomeTracker
    reports: ReportSource | None = None
    clocks: RegulatoryClocks | None = None
    audit: AuditTrail | None = None
    team: TeamView | None = None

    async def close(self) -> None:
        """Release the store's connections."""
        await self.store.close()


@dataclass
class Queues:
    """The durable queues and conversation state (SQL in production, in memory in the test bot)."""

    inbox: Inbox
    outbox: Outbox
    conversations: Conversations
    close: Callable[[], Awaitable[None]] | None = None
    transcripts: QaRecords | None = None  # conversation capture for QA (issue 18)


@dataclass
class Context:
    """What every adapter gets: settings, the core, the queues, the clock, the metrics registry and the core's
    conversation flow and effect planner."""

    settings: Settings
    core: Core
    inbox: Inbox
    outbox: Outbox
    conversations: Conversations
    clock: Clock
    registry: CollectorRegistry
    effects: EffectPlanner
    flow: ConversationFlow
    wakers: list[Callable[[], None]] = field(default_factory=list)
    transcripts: QaRecords | None = None

    def wake(self) -> None:
        """New inbox or outbox rows were written: let the workers pick them up without waiting for their poll."""
        for waker in self.wakers:
            waker()


@dataclass
class Parts:
    """What one channel adapter plugs into the service."""

    routes: list[BaseRoute] = field(default_factory=list)
    handlers: dict[str, ItemHandler] = field(default_factory=dict)
    senders: dict[str, Sender] = field(default_factory=dict)
    handoff_effects: list[HandoffEffect] = field(default_factory=list)
    background: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


PartsFactory = Callable[[Context], Awaitable[Parts]]
