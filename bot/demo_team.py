"""The demo's support team (``autopilot demo --days``): named agents who take the hand-offs, with their habits.

``bot/data/demo_team.yaml`` describes ten agents: the tiers they take, how fast they answer, their customers' usual
rating, their bad habits (curt or rude replies, no next step, dismissive answers, the wrong hand-off team, late
first responses) and their critical fails, better or worse by driver group. For each hand-off, :class:`DemoTeam`
picks the agent, times the first response and the close, writes the conversation (customer, bot, assignment, agent
replies, close, rating: what the capture stores) and, for a share of the closed ones, scores it with the QA scorer as
the scheduler's job would, five minutes after the close. Customers of a dismissive answer come back more often (a
reopen). Everything draws from its own seeded generator.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from automations.configfile import load_yaml_model
from automations.models import Action, Channel, Decision, Handoff
from automations.qa import QaScorer
from automations.qa.job import transcript_of
from automations.qa.records import CapturedTurn, TurnKind
from automations.resources import packaged
from automations.taxonomy import PROTECTED_TIERS, Category

__all__ = ["DEFAULT_TEAM", "DemoAgent", "DemoTeam", "TeamFile", "load_team"]

DEFAULT_TEAM = packaged("bot", "data", "demo_team.yaml")
GRACE = timedelta(minutes=5)  # the QA job scores a conversation this long after its close
RETURN_CHANCE = 0.5  # a customer with a pending return comes back at their driver's next contact this often


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Habits(_Strict):
    """Chances per conversation of each bad habit (``late``: a first response past the SLA; ``slow``: a factor on
    the time to close)."""

    curt: float = 0.0
    rude: float = 0.0
    no_next_step: float = 0.0
    dismissive: float = 0.0
    wrong_team: float = 0.0
    late: float = 0.05
    slow: float = 1.0


class DemoAgent(_Strict):
    """One agent of the demo team."""

    id: str
    name: str
    tiers: tuple[str, ...]
    share: float = Field(default=1.0, gt=0)
    speed: float = Field(default=0.5, gt=0)
    csat: float = Field(default=4.0, ge=1, le=5)
    habits: Habits = Habits()
    strong: tuple[str, ...] = ()
    weak: tuple[str, ...] = ()
    critical: dict[str, float] = Field(default_factory=dict)


class Texts(_Strict):
    """What the team writes (see the YAML file)."""

    bot: str
    greeting: tuple[str, ...]
    curt: tuple[str, ...]
    answers: dict[str, tuple[str, ...]]
    handover: str
    teams: dict[str, str]
    dismissive: tuple[str, ...]
    rude: tuple[str, ...]
    closing: tuple[str, ...]
    shrug: tuple[str, ...]
    customer_followup: tuple[str, ...]
    critical: dict[str, str]


class TeamFile(_Strict):
    """``bot/data/demo_team.yaml``."""

    agents: tuple[DemoAgent, ...]
    texts: Texts


def load_team(path: Any = DEFAULT_TEAM) -> TeamFile:
    """Load and validate the team file (``file:line`` errors)."""
    return load_yaml_model(path, TeamFile)


@dataclass
class _Pending:
    conversation_id: str
    turns: list[CapturedTurn]
    decision: Decision
    closed: datetime


@dataclass
class DemoTeam:
    """Per-run state of the team: its generator, the scorer, the customers due to come back, what awaits scoring."""

    team: TeamFile
    scorer: QaScorer
    now: datetime
    seed: int = 7
    qa_share: float = 0.12
    rng: np.random.Generator = field(init=False)
    returns: dict[str, deque[tuple[str, datetime]]] = field(default_factory=dict)
    pending: list[_Pending] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed + 1000)

    def _pick(self, options: tuple[str, ...] | list[str]) -> str:
        return options[int(self.rng.integers(len(options)))]

    def assign(self, tier: str) -> DemoAgent:
        """The agent who takes a hand-off of ``tier`` (among those who take it, by share)."""
        agents = [a for a in self.team.agents if tier in a.tiers] or list(self.team.agents)
        weights = np.array([a.share for a in agents])
        return agents[int(self.rng.choice(len(agents), p=weights / weights.sum()))]

    def returning(self, category: str, at: datetime, within: timedelta = timedelta(days=7)) -> str | None:
        """A customer whose ``category`` conversation closed before ``at`` (within ``within``) comes back, maybe."""
        queue = self.returns.get(category)
        while queue and queue[0][1] + within < at:
            queue.popleft()
        if queue and queue[0][1] < at and self.rng.random() < RETURN_CHANCE:
            return queue.popleft()[0]
        return None

    def _flaws(self, agent: DemoAgent, group: str) -> tuple[set[str], list[str]]:
        h = agent.habits
        factor = 0.3 if group in agent.strong else 1.0
        chances = {"curt": h.curt, "rude": h.rude, "no_next_step": h.no_next_step, "dismissive": h.dismissive,
                   "wrong_team": h.wrong_team}  # fmt: skip
        chances = {k: v * factor for k, v in chances.items()}
        if group in agent.weak:
            chances["dismissive"] += 0.35
            chances["no_next_step"] += 0.15
        flaws = {k for k, p in chances.items() if self.rng.random() < p}
        return flaws, [c for c, p in agent.critical.items() if self.rng.random() < p]

    def handle(
        self, cid: str, cat: Category, customer: str, text: str, at: datetime, first: timedelta, resolution: timedelta
    ) -> tuple[DemoAgent, list[dict[str, Any]], int | None, datetime]:
        """One hand-off: its agent, agent events, the customer's rating (``None``: not rated) and close time; the
        conversation is written (and queued for scoring) when a share of the closed ones is drawn."""
        rng, agent = self.rng, self.assign(cat.tier)
        late = rng.random() < agent.habits.late
        factor = rng.uniform(1.05, 2.5) if late else min(0.98, agent.speed * float(rng.lognormal(0, 0.35)))
        responded = at + first * factor
        closed = responded + resolution * float(rng.uniform(0.05, 0.6)) * agent.habits.slow
        flaws, critical = self._flaws(agent, str(cat.group))
        events = [{"contact_id": cid, "kind": kind, "at": when, "actor": agent.id, "detail": ""}
                  for kind, when in (("assigned", at + timedelta(seconds=5)), ("first_response", responded),
                                     ("closed", closed)) if when <= self.now]  # fmt: skip
        mean = agent.csat - 1.3 * ("dismissive" in flaws) - 0.8 * ("rude" in flaws) - 0.4 * ("no_next_step" in flaws)
        mean -= 1.0 * bool(critical)
        rating = int(np.clip(round(rng.normal(mean, 0.8)), 1, 5)) if closed <= self.now and rng.random() < 0.3 else None
        if flaws & {"dismissive", "no_next_step"} and rng.random() < 0.5:
            self.returns.setdefault(cat.id, deque()).append((customer, closed))
        if closed + GRACE <= self.now and rng.random() < self.qa_share:
            turns = self._turns(cid, cat, agent, customer, text, at, responded, closed, flaws, critical)
            if rating is not None:
                turns.append(CapturedTurn(f"demo:{cid}:rating", f"conv-{cid}", "customer", closed, str(rating),
                                          TurnKind.RATING, contact_id=cid, customer_id=customer))  # fmt: skip
            decision = Decision(
                cid, Channel.CUSTOMER, text, cat.id, str(cat.group), 0.8, Action.HANDOFF, cat.tier, "low_confidence",
                at, customer_id=customer, conversation_id=f"conv-{cid}",
                handoff=Handoff(cat.tier, "low_confidence", "", at + first, at + resolution),
            )  # fmt: skip
            self.pending.append(_Pending(f"conv-{cid}", turns, decision, closed))
        return agent, events, rating, closed

    def _turns(
        self, cid: str, cat: Category, agent: DemoAgent, customer: str, text: str, at: datetime, responded: datetime,
        closed: datetime, flaws: set[str], critical: list[str],
    ) -> list[CapturedTurn]:  # fmt: skip
        t, conv = self.team.texts, f"conv-{cid}"
        topic = cat.id.replace("_", " ").replace("?", "").lower()
        ref = f"CS-{int(self.rng.integers(10000, 99999))}"
        first: list[str] = []
        if "curt" in flaws:
            first.append(self._pick(t.curt))
        answer = [] if "curt" in flaws else [self._pick(t.greeting).format(topic=topic)]
        if "dismissive" in flaws:
            answer.append(self._pick(t.dismissive))
        else:
            answer.append(self._pick(t.answers.get(str(cat.group)) or t.answers["Other"]))
            if cat.tier in PROTECTED_TIERS or (cat.tier in ("t2", "payments") and self.rng.random() < 0.3):
                team = cat.tier
                if "wrong_team" in flaws:
                    team = self._pick([x for x in t.teams if x not in (cat.tier, "t1")])
                answer.append(t.handover.format(team=t.teams[team], days=int(self.rng.integers(2, 6))))
        answer += [t.critical[c] for c in critical]
        if "rude" in flaws:
            answer.append(self._pick(t.rude))
        first.append(" ".join(answer))
        closing = self._pick(t.shrug) if "no_next_step" in flaws else self._pick(t.closing).format(ref=ref)
        follow = responded + timedelta(minutes=float(self.rng.uniform(2, 20)))
        reply = follow + timedelta(minutes=float(self.rng.uniform(1, 10)))
        rows = [("customer", at, text, TurnKind.MESSAGE), ("bot", at + timedelta(seconds=2), t.bot, TurnKind.MESSAGE),
                ("agent", at + timedelta(seconds=5), "", TurnKind.ASSIGNMENT)]  # fmt: skip
        rows += [("agent", responded + timedelta(seconds=20 * i), m, TurnKind.MESSAGE) for i, m in enumerate(first)]
        rows += [("customer", follow, self._pick(t.customer_followup), TurnKind.MESSAGE),
                 ("agent", min(reply, closed), closing, TurnKind.MESSAGE),
                 ("agent", closed, "", TurnKind.CLOSE)]  # fmt: skip
        return [
            CapturedTurn(f"demo:{cid}:{i}", conv, author, when, body, kind,
                         agent.id if author == "agent" else None, agent.name if author == "agent" else None,
                         cid, customer)
            for i, (author, when, body, kind) in enumerate(rows)
        ]  # fmt: skip

    async def flush(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Score the written conversations; returns their ``transcript_turns`` and ``qa_scores`` rows."""
        pending, self.pending = self.pending, []
        if not pending:
            return [], []
        results = await self.scorer.score_many([transcript_of(p.conversation_id, p.turns, p.decision) for p in pending])
        turns = [
            {"key": t.key, "conversation_id": t.conversation_id, "author": t.author, "kind": t.kind, "at": t.at,
             "text": t.text, "actor_id": t.actor_id, "actor_name": t.actor_name, "contact_id": t.contact_id,
             "customer_id": t.customer_id}
            for p in pending for t in p.turns
        ]  # fmt: skip
        scores = []
        for p, r in zip(pending, results, strict=True):
            names = {t.actor_id: t.actor_name for t in p.turns if t.actor_id}
            scores.append({
                "conversation_id": p.conversation_id, "agent_id": r.agent_id, "agent_name": names.get(r.agent_id),
                "score": r.score, "critical_fails": json.dumps(list(r.critical_fails)),
                "criteria": json.dumps(r.criteria), "evidence": json.dumps(r.evidence), "scored_at": p.closed + GRACE,
                "closed_at": p.closed, "category": p.decision.category, "tier": p.decision.tier,
                "customer_id": p.decision.customer_id, "contact_id": p.decision.contact_id, "alerted": False,
            })  # fmt: skip
        return turns, scores
