"""Capability ports of the automation core.

The pipeline takes one implementation of each as a constructor argument. Production implementations live in
``knowledge/`` (embedder, index), ``automations/classifier`` and ``store``; in-memory fakes for tests
live in :mod:`automations.fakes`. All I/O is async.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeAlias, runtime_checkable

from automations.models import (
    Answer,
    Channel,
    Classification,
    Decision,
    Feedback,
    OutcomeRecord,
    OutcomeState,
    Passage,
    Visibility,
)

__all__ = [
    "Answerer",
    "Classifier",
    "Clock",
    "Embedder",
    "EventStore",
    "HandoffSummarizer",
    "KnowledgeIndex",
    "Notifier",
    "Vectors",
]

if TYPE_CHECKING:  # numpy is not imported at run time here: an acknowledge-only web process never loads it
    import numpy as np
    import numpy.typing as npt

Vectors: TypeAlias = "npt.NDArray[np.float32]"


@runtime_checkable
class Clock(Protocol):
    """Source of the current time (timezone-aware UTC)."""

    def now(self) -> datetime:
        """Return the current time."""
        ...


class Embedder(Protocol):
    """Turns texts into L2-normalised sentence embeddings."""

    @property
    def dimension(self) -> int:
        """Length of each embedding vector."""
        ...

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts`` into a ``(len(texts), dimension)`` float32 array of unit vectors."""
        ...


class Classifier(Protocol):
    """Maps a (redacted) text to a category with a calibrated confidence."""

    @property
    def labels(self) -> Sequence[str]:
        """Every category the classifier can return."""
        ...

    @property
    def threshold(self) -> float:
        """Confidence below which the pipeline hands off, chosen on a validation split."""
        ...

    async def classify(self, texts: Sequence[str]) -> list[Classification]:
        """Classify a batch of texts; one result per text, in order."""
        ...


class KnowledgeIndex(Protocol):
    """Vector index of knowledge-base sections."""

    async def search(
        self,
        query: str,
        *,
        k: int = 5,
        visibility: Collection[Visibility] = (Visibility.PUBLIC,),
        article_ids: Collection[str] | None = None,
    ) -> list[Passage]:
        """Return up to ``k`` sections most similar to ``query``, best first, restricted to ``visibility`` and,
        when given, to ``article_ids``."""
        ...

    async def search_many(
        self, queries: Sequence[str], *, k: int = 10, visibility: Collection[Visibility] = (Visibility.PUBLIC,)
    ) -> list[list[Passage]]:
        """Unfiltered-by-article :meth:`search` for a batch of queries in one round trip; one list per query."""
        ...

    async def count(self) -> int:
        """Number of indexed sections."""
        ...


class Answerer(Protocol):
    """Writes the reply for a contact from retrieved passages."""

    async def answer(self, question: str, passages: Sequence[Passage], channel: Channel) -> Answer | None:
        """Draft a reply citing one of ``passages``, or ``None`` to abstain."""
        ...


class Notifier(Protocol):
    """Tells humans about hand-offs (Slack tier channels in production)."""

    async def handoff(self, decision: Decision) -> None:
        """Announce a hand-off decision to its tier."""
        ...


class HandoffSummarizer(Protocol):
    """Writes the summary an agent sees for a hand-off (a model-written gist on top of the template)."""

    async def summarize(self, decision: Decision) -> str:
        """The summary for ``decision`` (which has a hand-off)."""
        ...


class EventStore(Protocol):
    """Durable log of contacts, decisions, outcomes and feedback. Stores redacted text only."""

    async def record_decision(self, decision: Decision) -> bool:
        """Persist a decision (and its contact) atomically, with its initial outcome.

        Idempotent on ``decision.contact_id``: returns ``False`` and changes nothing when it was already recorded.
        """
        ...

    async def record_decisions(self, decisions: Sequence[Decision]) -> list[bool]:
        """Persist a batch atomically, like :meth:`record_decision` for each; ``False`` for duplicates."""
        ...

    async def get_decision(self, contact_id: str) -> Decision | None:
        """Return the recorded decision for a contact, if any."""
        ...

    async def get_decisions(self, contact_ids: Sequence[str]) -> dict[str, Decision]:
        """The recorded decisions among ``contact_ids``, by contact id (one read; unknown ids are left out)."""
        ...

    async def outcomes_for_customer(
        self, customer_id: str, *, since: datetime, states: Collection[OutcomeState]
    ) -> list[OutcomeRecord]:
        """Outcomes of one customer's contacts decided at or after ``since`` and in one of ``states``, oldest first."""
        ...

    async def outcomes_for_customers(
        self, customer_ids: Collection[str], *, since: datetime, states: Collection[OutcomeState]
    ) -> dict[str, list[OutcomeRecord]]:
        """:meth:`outcomes_for_customer` for several customers in one read: every id of ``customer_ids`` is a key
        (an empty list when nothing matches)."""
        ...

    async def outcomes_due(self, *, decided_before: datetime, state: OutcomeState) -> list[OutcomeRecord]:
        """Outcomes still in ``state`` whose decision was made before ``decided_before``."""
        ...

    async def set_outcome(self, contact_id: str, state: OutcomeState, *, at: datetime, reason: str) -> None:
        """Move a contact's outcome to ``state`` and append the transition to its history."""
        ...

    async def get_outcome(self, contact_id: str) -> OutcomeRecord | None:
        """Return the current outcome of a contact."""
        ...

    async def record_feedback(self, feedback: Feedback) -> None:
        """Append feedback (helpful yes/no, CSAT) on a contact's decision."""
        ...

    async def feedback_for(self, contact_id: str) -> list[Feedback]:
        """Every feedback on a contact's decision, oldest first."""
        ...

    async def ping(self) -> None:
        """Raise if the store cannot be reached (readiness checks)."""
        ...

    async def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...
