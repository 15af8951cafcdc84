"""The deflection outcome state machine.

``answered`` → ``resolved``   no further customer message within the resolve window (24 h), or the customer says so;
``answered`` → ``escalated``  the customer still needs help or asks for a human;
``answered``/``resolved`` → ``reopened``  the same customer returns on the same driver within 7 days.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from automations.followups import FollowUp
from automations.models import Decision, OutcomeRecord, OutcomeState
from automations.ports import EventStore

__all__ = ["OutcomeTracker"]

HUMAN = "human_request"


class OutcomeTracker:
    """Moves earlier outcomes of a customer when a new contact arrives, and finalizes quiet ones."""

    def __init__(
        self,
        store: EventStore,
        *,
        resolve_after: timedelta = timedelta(hours=24),
        reopen_within: timedelta = timedelta(days=7),
    ) -> None:
        self._store = store
        self.resolve_after = resolve_after
        self.reopen_within = reopen_within

    async def history(self, customer_id: str | None, now: datetime) -> list[OutcomeRecord]:
        """The customer's answered or resolved outcomes that a new contact at ``now`` may move, oldest first: one
        read that serves both :meth:`open_answer_in` and :meth:`on_contact`, so it can run beside classification."""
        if not customer_id:
            return []
        return await self._store.outcomes_for_customer(
            customer_id,
            since=now - max(self.reopen_within, self.resolve_after),
            states=(OutcomeState.ANSWERED, OutcomeState.RESOLVED),
        )

    async def histories(self, customer_ids: Iterable[str | None], now: datetime) -> dict[str, list[OutcomeRecord]]:
        """:meth:`history` of several customers in one read, by customer id (contacts without one have none)."""
        wanted = {customer for customer in customer_ids if customer}
        if not wanted:
            return {}
        return await self._store.outcomes_for_customers(
            wanted,
            since=now - max(self.reopen_within, self.resolve_after),
            states=(OutcomeState.ANSWERED, OutcomeState.RESOLVED),
        )

    def open_answer_in(self, history: Sequence[OutcomeRecord], now: datetime) -> OutcomeRecord | None:
        """The latest bot answer of ``history`` still inside the resolve window, if any."""
        open_ = [r for r in history if r.state is OutcomeState.ANSWERED and r.decided_at >= now - self.resolve_after]
        return open_[-1] if open_ else None

    async def on_contact(
        self, decision: Decision, follow_up: FollowUp, history: Sequence[OutcomeRecord] | None = None
    ) -> list[tuple[str, OutcomeState]]:
        """Apply the transitions that a new contact from the same customer implies; returns what moved.

        ``history`` is :meth:`history` read before the decision, if the caller already has it."""
        if not decision.customer_id:
            return []
        now = decision.decided_at
        if history is None:
            history = await self.history(decision.customer_id, now)
        earlier = [r for r in history if r.decided_at >= now - self.reopen_within]
        moved: list[tuple[str, OutcomeState]] = []
        for record in earlier:
            if record.contact_id == decision.contact_id:
                continue
            target, reason = self._transition(record, decision, follow_up, now)
            if target is not None:
                await self._store.set_outcome(record.contact_id, target, at=now, reason=reason)
                moved.append((record.contact_id, target))
        return moved

    def _transition(
        self, record: OutcomeRecord, decision: Decision, follow_up: FollowUp, now: datetime
    ) -> tuple[OutcomeState | None, str]:
        fresh = record.state is OutcomeState.ANSWERED and now - record.decided_at <= self.resolve_after
        if fresh and follow_up is FollowUp.RESOLVED:
            return OutcomeState.RESOLVED, f"customer confirmed in {decision.contact_id}"
        if fresh and (follow_up is FollowUp.UNRESOLVED or decision.category == HUMAN):
            return OutcomeState.ESCALATED, f"customer still needed help in {decision.contact_id}"
        if follow_up is FollowUp.NEW and record.category == decision.category:
            return OutcomeState.REOPENED, f"customer returned on {decision.category} in {decision.contact_id}"
        return None, ""

    async def finalize(self, now: datetime) -> int:
        """Resolve every answer that saw no further customer message within the resolve window."""
        due = await self._store.outcomes_due(decided_before=now - self.resolve_after, state=OutcomeState.ANSWERED)
        for record in due:
            await self._store.set_outcome(
                record.contact_id, OutcomeState.RESOLVED, at=now, reason="no further message within the window"
            )
        return len(due)
