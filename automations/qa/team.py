"""Per-agent human-action figures: the :class:`AgentActivity` port and its in-memory fake.

A hand-off belongs to one agent, its *owner*: the teammate who sent its first response, else the one who closed it,
else the one it was assigned to (or who claimed it). All of the contact's figures go to its owner:

- first response time: receipt to the first ``first_response`` event;
- handle time: first response to the first ``closed`` event (the time the agent had it open; we see no work time);
- resolution time: receipt to the first ``closed`` event;
- reopened: a closed contact whose customer came back on the same driver within ``reopen_within`` after the close
  (the outcomes' own definition of a reopen);
- CSAT: the ratings on the contact; first-response SLA: the first response against its deadline.

The SQL implementation over the event store is ``store.team.SqlAgentActivity``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from automations.conversations import AgentEvent, AgentEventKind
from automations.fakes import InMemoryEventStore
from automations.fakes_queues import InMemoryConversations
from automations.models import Action

__all__ = ["OWNER_KINDS", "AgentActivity", "AgentFigures", "MemoryAgentActivity"]

OWNER_KINDS = (
    (AgentEventKind.FIRST_RESPONSE,), (AgentEventKind.CLOSED,), (AgentEventKind.ASSIGNED, AgentEventKind.CLAIMED),
)  # fmt: skip
"""Which events name a hand-off's owner, in order of preference."""


@dataclass(frozen=True, slots=True)
class AgentFigures:
    """The hand-offs one agent owned on one driver (``category``), with the sums the agent figures are built from.

    ``*_s`` are sums of seconds over the contacts that have both ends: ``first_response_s`` over ``responded``,
    ``resolution_s`` over ``closed``, ``handle_s`` over ``handled`` (responded and closed).
    """

    agent_id: str
    category: str
    contacts: int
    responded: int = 0
    first_response_s: float = 0.0
    closed: int = 0
    resolution_s: float = 0.0
    handled: int = 0
    handle_s: float = 0.0
    reopened: int = 0
    csat_responses: int = 0
    csat_total: int = 0
    csat_satisfied: int = 0
    fr_met: int = 0
    fr_missed: int = 0


class AgentActivity(Protocol):
    """What the human agents did with the hand-offs, summed by owner and driver (a few hundred rows at most)."""

    async def agent_figures(
        self, start: datetime, end: datetime, *, reopen_within: timedelta = timedelta(days=7)
    ) -> list[AgentFigures]:
        """Customer hand-offs decided in ``[start, end)`` that have an owner, by owner and driver (see the module
        docstring); one row per pair, in no particular order."""
        ...


def _owner(events: list[AgentEvent]) -> str | None:
    for kinds in OWNER_KINDS:
        found = next((e.actor for e in events if e.kind in kinds and e.actor), None)
        if found:
            return found
    return None


def _first(events: list[AgentEvent], kind: AgentEventKind) -> datetime | None:
    return min((e.at for e in events if e.kind is kind), default=None)


class MemoryAgentActivity:
    """In-memory :class:`AgentActivity` over the in-memory event store and conversation state (the fake)."""

    def __init__(self, store: InMemoryEventStore, conversations: InMemoryConversations) -> None:
        """Read ``store``'s decisions, outcomes and feedback and ``conversations``' agent events."""
        self.store, self.conversations = store, conversations

    async def agent_figures(
        self, start: datetime, end: datetime, *, reopen_within: timedelta = timedelta(days=7)
    ) -> list[AgentFigures]:
        """Sum each owned hand-off into its (owner, driver) row."""
        sums: dict[tuple[str, str], list[float]] = {}
        for d in self.store.decisions.values():
            if d.action is not Action.HANDOFF or not start <= d.decided_at < end:
                continue
            events = sorted((e for e in self.conversations.events if e.contact_id == d.contact_id), key=lambda e: e.at)
            owner = _owner(events)
            if owner is None:
                continue
            row = sums.setdefault((owner, d.category), [0.0] * 13)
            responded, closed = _first(events, AgentEventKind.FIRST_RESPONSE), _first(events, AgentEventKind.CLOSED)
            row[0] += 1
            if responded is not None:
                row[1] += 1
                row[2] += (responded - d.decided_at).total_seconds()
                due = d.handoff.first_response_due if d.handoff is not None else None
                if due is not None:
                    row[11 if responded <= due else 12] += 1
            if closed is not None:
                row[3] += 1
                row[4] += (closed - d.decided_at).total_seconds()
                row[7] += self._returned(d.customer_id, d.category, closed, closed + reopen_within)
            if responded is not None and closed is not None:
                row[5] += 1
                row[6] += (closed - responded).total_seconds()
            for f in self.store.feedback:
                if f.contact_id == d.contact_id and f.csat is not None:
                    row[8] += 1
                    row[9] += f.csat
                    row[10] += f.csat >= 4
        return [
            AgentFigures(agent, category, int(r[0]), int(r[1]), r[2], int(r[3]), r[4], int(r[5]), r[6], int(r[7]),
                         int(r[8]), int(r[9]), int(r[10]), int(r[11]), int(r[12]))
            for (agent, category), r in sums.items()
        ]  # fmt: skip

    def _returned(self, customer: str | None, category: str, after: datetime, until: datetime) -> int:
        if customer is None:
            return 0
        return int(
            any(
                o.customer_id == customer and o.category == category and after < o.decided_at <= until
                for o in self.store.outcomes.values()
            )
        )
