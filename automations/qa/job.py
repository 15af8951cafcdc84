"""The scheduler's QA job: score every closed conversation once, and alert the agent's manager on a critical fail.

A conversation is scored a grace period after its close (late parts of the close still arrive), from its captured
turns. The agent is the teammate who wrote most of its agent turns (``bot`` when only the bot answered). The bot's
decision on the conversation's last contact gives the driver, the team it needed and the first-response deadline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Protocol

from automations.models import Action, Decision
from automations.ports import Clock, EventStore
from automations.qa.model import Transcript, Turn
from automations.qa.records import CapturedTurn, QaRecords, ScoredConversation, TurnKind
from automations.qa.scorer import QaScorer

__all__ = ["QaAlerts", "QaJob", "transcript_of"]

BOT_AGENT = "bot"


class QaAlerts(Protocol):
    """Tells an agent's manager at once about a critical fail, with the evidence."""

    async def critical_fail(self, scored: ScoredConversation, *, manager: str | None) -> None:
        """Alert ``manager`` (a Slack user id; ``None``: the default QA channel) about ``scored``."""
        ...


def transcript_of(conversation_id: str, turns: Sequence[CapturedTurn], decision: Decision | None) -> Transcript:
    """The scorer's view of a captured conversation."""
    messages = [t for t in turns if t.kind == TurnKind.MESSAGE and t.text]
    agents = Counter(t.actor_id for t in messages if t.author == "agent" and t.actor_id)
    agent = agents.most_common(1)[0][0] if agents else BOT_AGENT
    handoff = decision.handoff if decision is not None and decision.action is Action.HANDOFF else None
    return Transcript(
        conversation_id,
        agent,
        tuple(Turn(t.author, t.text, t.at, t.actor_id) for t in messages),
        expected_tier=decision.tier if handoff is not None and decision is not None else None,
        first_response_due=handoff.first_response_due if handoff is not None else None,
    )


class QaJob:
    """Scores closed conversations; run it every few minutes from the scheduler."""

    def __init__(
        self,
        *,
        records: QaRecords,
        scorer: QaScorer,
        store: EventStore,
        clock: Clock,
        alerts: QaAlerts | None = None,
        managers: Mapping[str, str] | None = None,
        grace: timedelta = timedelta(minutes=5),
        batch: int = 100,
    ) -> None:
        """``managers`` maps an agent id to their manager's Slack user id."""
        self.records, self.scorer, self.store, self.clock = records, scorer, store, clock
        self.alerts, self.managers = alerts, dict(managers or {})
        self.grace, self.batch = grace, batch

    async def run_once(self) -> int:
        """Score one batch of closed, unscored conversations; returns how many were scored."""
        now = self.clock.now()
        ids = await self.records.to_score(closed_before=now - self.grace, limit=self.batch)
        if not ids:
            return 0
        found: list[tuple[str, list[CapturedTurn], Decision | None]] = []
        for conversation_id in ids:
            turns = await self.records.turns(conversation_id)
            contact = next((t.contact_id for t in reversed(turns) if t.contact_id), None)
            decision = await self.store.get_decision(contact) if contact else None
            found.append((conversation_id, turns, decision))
        transcripts = [transcript_of(c, turns, d) for c, turns, d in found]
        results = await self.scorer.score_many(transcripts)
        for (conversation_id, turns, decision), result in zip(found, results, strict=True):
            names = {t.actor_id: t.actor_name for t in turns if t.actor_id and t.actor_name}
            closed = next((t.at for t in turns if t.kind == TurnKind.CLOSE), None)
            customer = next((t.customer_id for t in turns if t.customer_id), None)
            scored = ScoredConversation(
                conversation_id, result, now, closed, names.get(result.agent_id or ""),
                decision.category if decision else None, decision.tier if decision else None, customer,
                decision.contact_id if decision else None,
            )  # fmt: skip
            if not await self.records.save_score(scored):
                continue
            if result.critical_fails and self.alerts is not None:
                await self.alerts.critical_fail(scored, manager=self.managers.get(result.agent_id or ""))
                await self.records.mark_alerted(conversation_id)
        return len(results)
