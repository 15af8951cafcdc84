"""Agent performance, per agent and per driver, and the team's QA, from the agent figures and the QA records.

Pure arithmetic over :class:`~automations.qa.team.AgentFigures` (what the agents did with the hand-offs) and
:class:`~automations.qa.records.ScoredConversation` values (how their conversations scored). Times are means over
the contacts that have both ends; rates are ``None`` without a base. Rows come in name order: this is coaching
material, not a leaderboard.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from automations.qa.calibration import cohen_kappa
from automations.qa.job import BOT_AGENT
from automations.qa.records import ManagerGrade, ScoredConversation
from automations.qa.scorecard import CRITICAL_FAIL_IDS
from automations.qa.team import AgentFigures

__all__ = ["AgentRow", "Agreement", "Figures", "TeamQa", "agent_rows", "agreement", "team_qa"]


def _mean(total: float, n: int, digits: int = 1) -> float | None:
    return round(total / n, digits) if n else None


@dataclass(frozen=True, slots=True)
class Figures:
    """One agent's figures over their hand-offs (all of them, or one driver's)."""

    contacts: int = 0
    first_response_s: float | None = None
    handle_s: float | None = None
    resolution_s: float | None = None
    reopen_rate: float | None = None
    csat: float | None = None
    csat_responses: int = 0
    first_response_sla: float | None = None
    scored: int = 0
    qa_score: float | None = None
    critical_fails: int = 0
    critical_fail_ids: Mapping[str, int] = field(default_factory=dict)
    criteria: Mapping[str, float] = field(default_factory=dict)
    """Criterion id → pass rate (mean 0..1 over the conversations where it applied)."""

    def to_json(self) -> dict[str, Any]:
        """The figures as JSON (seconds, shares 0..1, CSAT 1..5, QA 0-100)."""
        return {
            "contacts": self.contacts, "first_response_s": self.first_response_s, "handle_s": self.handle_s,
            "resolution_s": self.resolution_s, "reopen_rate": self.reopen_rate, "csat": self.csat,
            "csat_responses": self.csat_responses, "first_response_sla": self.first_response_sla,
            "qa_scored": self.scored, "qa_score": self.qa_score, "critical_fails": self.critical_fails,
            "critical_fail_ids": dict(self.critical_fail_ids), "criteria": dict(self.criteria),
        }  # fmt: skip


@dataclass
class _Sums:
    contacts: int = 0
    responded: int = 0
    fr_s: float = 0.0
    closed: int = 0
    res_s: float = 0.0
    handled: int = 0
    handle_s: float = 0.0
    reopened: int = 0
    csat_n: int = 0
    csat_sum: int = 0
    fr_met: int = 0
    fr_missed: int = 0
    scored: int = 0
    score_sum: int = 0
    fails: Counter[str] = field(default_factory=Counter)
    failed_conversations: int = 0
    criteria: dict[str, list[float]] = field(default_factory=dict)

    def add_figures(self, f: AgentFigures) -> None:
        self.contacts += f.contacts
        self.responded += f.responded
        self.fr_s += f.first_response_s
        self.closed += f.closed
        self.res_s += f.resolution_s
        self.handled += f.handled
        self.handle_s += f.handle_s
        self.reopened += f.reopened
        self.csat_n += f.csat_responses
        self.csat_sum += f.csat_total
        self.fr_met += f.fr_met
        self.fr_missed += f.fr_missed

    def add_score(self, s: ScoredConversation) -> None:
        r = s.result
        self.scored += 1
        self.score_sum += r.score
        self.fails.update(r.critical_fails)
        self.failed_conversations += bool(r.critical_fails)
        for criterion, value in r.criteria.items():
            if value is not None:
                self.criteria.setdefault(criterion, []).append(value)

    def figures(self) -> Figures:
        slas = self.fr_met + self.fr_missed
        return Figures(
            self.contacts, _mean(self.fr_s, self.responded), _mean(self.handle_s, self.handled),
            _mean(self.res_s, self.closed), _mean(self.reopened, self.closed, 3), _mean(self.csat_sum, self.csat_n, 2),
            self.csat_n, _mean(self.fr_met, slas, 3), self.scored, _mean(self.score_sum, self.scored),
            self.failed_conversations, dict(sorted(self.fails.items())),
            {c: round(sum(v) / len(v), 3) for c, v in sorted(self.criteria.items())},
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class AgentRow:
    """One agent's figures in a period, overall and by driver (most contacts first)."""

    agent_id: str
    name: str
    overall: Figures
    drivers: tuple[tuple[str, Figures], ...] = ()

    def driver(self, category: str) -> Figures | None:
        """The agent's figures on one driver, if they had any."""
        return next((f for c, f in self.drivers if c == category), None)

    def to_json(self) -> dict[str, Any]:
        """A row of the report's ``agents`` list."""
        return {
            "agent_id": self.agent_id, "name": self.name, **self.overall.to_json(),
            "by_driver": [{"driver": c, **f.to_json()} for c, f in self.drivers],
        }  # fmt: skip


def agent_rows(
    figures: Iterable[AgentFigures], scores: Iterable[ScoredConversation], names: Mapping[str, str] | None = None
) -> list[AgentRow]:
    """Every human agent with hand-offs or scored conversations, in name order. ``names`` (admin id → name, from
    the directory) wins over the name captured with the transcripts; an agent with neither shows their id."""
    names = dict(names or {})
    overall: dict[str, _Sums] = {}
    by_driver: dict[str, dict[str, _Sums]] = {}
    for f in figures:
        overall.setdefault(f.agent_id, _Sums()).add_figures(f)
        by_driver.setdefault(f.agent_id, {}).setdefault(f.category, _Sums()).add_figures(f)
    for s in scores:
        agent = s.result.agent_id
        if not agent or agent == BOT_AGENT:
            continue
        if s.agent_name:
            names.setdefault(agent, s.agent_name)
        overall.setdefault(agent, _Sums()).add_score(s)
        by_driver.setdefault(agent, {}).setdefault(s.category or "unknown", _Sums()).add_score(s)
    rows = []
    for agent, sums in overall.items():
        drivers = sorted(by_driver.get(agent, {}).items(), key=lambda kv: (-max(kv[1].contacts, kv[1].scored), kv[0]))
        split = tuple((c, s.figures()) for c, s in drivers)
        rows.append(AgentRow(agent, names.get(agent, agent), sums.figures(), split))
    return sorted(rows, key=lambda r: (r.name.casefold(), r.agent_id))


@dataclass(frozen=True, slots=True)
class Agreement:
    """How often managers' calibration grades agreed with the scorer, overall and by criterion, with Cohen's kappa
    where both gave a verdict (``None`` when it cannot be computed)."""

    graded: int
    agreement: float | None
    kappa: float | None
    by_criterion: Mapping[str, tuple[int, float]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON: counts and shares."""
        return {
            "graded": self.graded, "agreement": self.agreement, "kappa": self.kappa,
            "by_criterion": {c: {"graded": n, "agreement": a} for c, (n, a) in self.by_criterion.items()},
        }  # fmt: skip


def _agree(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and abs(a - b) < 0.5)


def agreement(grades: Sequence[ManagerGrade]) -> Agreement:
    """Managers against the scorer, over the grades that carry the scorer's value."""
    graded = [g for g in grades if g.scorer_value is not None or g.value is not None]
    per: dict[str, list[bool]] = {}
    for g in graded:
        per.setdefault(g.criterion, []).append(_agree(g.value, g.scorer_value))
    both = [
        (g.value >= 0.5, g.scorer_value >= 0.5) for g in graded if g.value is not None and g.scorer_value is not None
    ]
    agreed = sum(sum(v) for v in per.values())
    return Agreement(
        len(graded), _mean(agreed, len(graded), 3), _rounded(cohen_kappa(both)),
        {c: (len(v), round(sum(v) / len(v), 3)) for c, v in sorted(per.items())},
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class TeamQa:
    """The team's QA in a period: human agents' conversations, with the bot's beside them."""

    team: Figures
    bot: Figures
    agreement: Agreement

    def to_json(self) -> dict[str, Any]:
        """The report's ``qa`` object."""
        t = self.team
        fails = {fail: t.critical_fail_ids.get(fail, 0) for fail in CRITICAL_FAIL_IDS}
        fails.update(t.critical_fail_ids)
        return {
            "scored": t.scored, "mean_score": t.qa_score, "conversations_with_critical_fails": t.critical_fails,
            "critical_fails": fails, "criterion_pass_rates": dict(t.criteria),
            "bot": {"scored": self.bot.scored, "mean_score": self.bot.qa_score,
                    "critical_fails": dict(self.bot.critical_fail_ids)},
            "manager_agreement": self.agreement.to_json(),
        }  # fmt: skip


def team_qa(scores: Iterable[ScoredConversation], grades: Sequence[ManagerGrade] = ()) -> TeamQa:
    """Mean score, critical fails by id and criterion pass rates of the human agents' conversations (the bot's
    apart), and the managers' agreement with the scorer."""
    team, bot = _Sums(), _Sums()
    for s in scores:
        (bot if s.result.agent_id in (None, BOT_AGENT) else team).add_score(s)
    return TeamQa(team.figures(), bot.figures(), agreement(grades))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
