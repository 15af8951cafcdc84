"""In-memory fakes of every port, for unit tests and for wiring examples. They behave, they do not mock."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from automations.models import (
    Classification,
    Decision,
    Feedback,
    OutcomeRecord,
    OutcomeState,
    Passage,
    Visibility,
)
from automations.ports import Vectors

__all__ = [
    "FixedClassifier",
    "HashEmbedder",
    "InMemoryEventStore",
    "InMemoryIndex",
    "RecordingNotifier",
    "SettableClock",
]


class SettableClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        """Current fake time."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move time forward."""
        self._now += delta


class HashEmbedder:
    """Deterministic bag-of-words embedder: texts sharing words get similar vectors."""

    def __init__(self, dimension: int = 64) -> None:
        self._dimension = dimension

    @property
    def dimension(self) -> int:
        """Vector length."""
        return self._dimension

    async def embed(self, texts: Sequence[str]) -> Vectors:
        """Hash each lower-cased word into a bucket; L2-normalise."""
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                digest = hashlib.blake2b(word.strip(".,!?").encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "big") % self._dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.where(norms == 0, 1.0, norms)).astype(np.float32)


class FixedClassifier:
    """Returns a preset classification per text (keyword rules), else a default; ``risk`` rules (keyword: (kind,
    probability)) stand for the learned risk layer's findings, and ``lean`` rules for its leaning."""

    def __init__(
        self,
        rules: Mapping[str, tuple[str, float]] | None = None,
        default: tuple[str, float] = ("out_of_scope", 0.4),
        *,
        threshold: float = 0.5,
        fail: bool = False,
        risk: Mapping[str, tuple[str, float]] | None = None,
        lean: Mapping[str, tuple[str, float]] | None = None,
    ) -> None:
        self.rules = dict(rules or {})
        self.lean = dict(lean or {})
        self.default = default
        self._threshold = threshold
        self.fail = fail
        self.risk = dict(risk or {})

    @property
    def labels(self) -> Sequence[str]:
        """Labels this fake can return."""
        return sorted({c for c, _ in self.rules.values()} | {self.default[0]})

    @property
    def threshold(self) -> float:
        """Operating threshold."""
        return self._threshold

    async def classify(self, texts: Sequence[str]) -> list[Classification]:
        """First rule whose keyword occurs in the text wins."""
        if self.fail:
            raise RuntimeError("classifier unavailable")
        out = []
        for text in texts:
            label, conf = next((v for k, v in self.rules.items() if k in text.lower()), self.default)
            risk = tuple(v for k, v in self.risk.items() if k in text.lower())
            leaning = next((v for k, v in self.lean.items() if k in text.lower()), None)
            out.append(Classification(label, conf, ((label, conf),), risk, leaning))
        return out


class InMemoryIndex:
    """A list of passages searched by word overlap (Jaccard)."""

    def __init__(self, passages: Sequence[Passage] = (), *, fail: bool = False) -> None:
        self.passages = list(passages)
        self.fail = fail
        self.queries: list[str] = []

    async def search(
        self,
        query: str,
        *,
        k: int = 5,
        visibility: Collection[Visibility] = (Visibility.PUBLIC,),
        article_ids: Collection[str] | None = None,
    ) -> list[Passage]:
        """Rank the allowed passages by word overlap with the query."""
        if self.fail:
            raise ConnectionError("index unavailable")
        self.queries.append(query)
        words = set(query.lower().split())
        scored = []
        for p in self.passages:
            if p.visibility not in visibility or (article_ids is not None and p.article_id not in article_ids):
                continue
            other = set(f"{p.section} {p.text}".lower().split())
            scored.append(replace(p, score=len(words & other) / max(1, len(words | other))))
        return sorted(scored, key=lambda p: -p.score)[:k]

    async def search_many(
        self, queries: Sequence[str], *, k: int = 10, visibility: Collection[Visibility] = (Visibility.PUBLIC,)
    ) -> list[list[Passage]]:
        """One :meth:`search` per query."""
        return [await self.search(q, k=k, visibility=visibility) for q in queries]

    async def count(self) -> int:
        """Number of passages."""
        return len(self.passages)


class RecordingNotifier:
    """Keeps every hand-off it is told about."""

    def __init__(self) -> None:
        self.handoffs: list[Decision] = []

    async def handoff(self, decision: Decision) -> None:
        """Record the hand-off."""
        self.handoffs.append(decision)


class InMemoryEventStore:
    """The event store in dicts, with the same idempotency and state-machine bookkeeping as the SQL store."""

    def __init__(self) -> None:
        self.decisions: dict[str, Decision] = {}
        self.outcomes: dict[str, OutcomeRecord] = {}
        self.history: list[tuple[str, OutcomeState | None, OutcomeState, datetime, str]] = []
        self.feedback: list[Feedback] = []

    async def record_decision(self, decision: Decision) -> bool:
        """Store once per contact id."""
        if decision.contact_id in self.decisions:
            return False
        self.decisions[decision.contact_id] = replace(decision, passages=())
        state = OutcomeState.ANSWERED if decision.action == "answer" else OutcomeState.HANDED_OFF
        self.outcomes[decision.contact_id] = OutcomeRecord(
            decision.contact_id, decision.customer_id, decision.category, decision.group, state,
            decision.decided_at, decision.decided_at, decision.reason,
        )  # fmt: skip
        self.history.append((decision.contact_id, None, state, decision.decided_at, decision.reason))
        return True

    async def record_decisions(self, decisions: Sequence[Decision]) -> list[bool]:
        """Store each once per contact id."""
        return [await self.record_decision(d) for d in decisions]

    async def get_decision(self, contact_id: str) -> Decision | None:
        """Recorded decision, if any."""
        return self.decisions.get(contact_id)

    async def get_decisions(self, contact_ids: Sequence[str]) -> dict[str, Decision]:
        """Recorded decisions among ``contact_ids``."""
        return {c: self.decisions[c] for c in contact_ids if c in self.decisions}

    async def outcomes_for_customer(
        self, customer_id: str, *, since: datetime, states: Collection[OutcomeState]
    ) -> list[OutcomeRecord]:
        """Matching outcomes, oldest first."""
        rows = [
            o
            for o in self.outcomes.values()
            if o.customer_id == customer_id and o.decided_at >= since and o.state in states
        ]
        return sorted(rows, key=lambda o: o.decided_at)

    async def outcomes_for_customers(
        self, customer_ids: Collection[str], *, since: datetime, states: Collection[OutcomeState]
    ) -> dict[str, list[OutcomeRecord]]:
        """Matching outcomes per customer, oldest first."""
        return {c: await self.outcomes_for_customer(c, since=since, states=states) for c in customer_ids}

    async def outcomes_due(self, *, decided_before: datetime, state: OutcomeState) -> list[OutcomeRecord]:
        """Outcomes in ``state`` decided before the cut-off."""
        return [o for o in self.outcomes.values() if o.state == state and o.decided_at < decided_before]

    async def set_outcome(self, contact_id: str, state: OutcomeState, *, at: datetime, reason: str) -> None:
        """Move an outcome and log the transition."""
        old = self.outcomes[contact_id]
        self.outcomes[contact_id] = replace(old, state=state, updated_at=at, reason=reason)
        self.history.append((contact_id, old.state, state, at, reason))

    async def get_outcome(self, contact_id: str) -> OutcomeRecord | None:
        """Current outcome."""
        return self.outcomes.get(contact_id)

    async def record_feedback(self, feedback: Feedback) -> None:
        """Append feedback (only on a recorded decision, CSAT 1..5, like the SQL store)."""
        if feedback.csat is not None and not 1 <= feedback.csat <= 5:
            raise ValueError(f"CSAT must be between 1 and 5, got {feedback.csat}")
        if feedback.contact_id not in self.decisions:
            raise KeyError(f"no decision for contact {feedback.contact_id!r}")
        self.feedback.append(feedback)

    async def feedback_for(self, contact_id: str) -> list[Feedback]:
        """Feedback on one contact, in the order it was recorded."""
        return [f for f in self.feedback if f.contact_id == contact_id]

    async def ping(self) -> None:
        """Always reachable."""

    async def close(self) -> None:
        """Nothing to release."""
