"""The team's performance and QA for a period, read once through the ports: what the report's ``agents`` and ``qa``,
``/cx team`` and ``/cx agent`` show.

:class:`TeamView` reads the agent figures (:class:`~automations.qa.team.AgentActivity`) and the scored conversations
and manager grades (:class:`~automations.qa.records.QaRecords`, by scoring time: a conversation is scored minutes
after its close), and derives the rows, the team QA, the skill-gap matrix and the overview.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from automations.qa.coaching import CoachingRules, SkillMatrix, TeamOverview, skill_matrix, team_overview
from automations.qa.directory import AgentDirectory
from automations.qa.oneonone import OneOnOne, one_on_one
from automations.qa.performance import AgentRow, TeamQa, agent_rows, team_qa
from automations.qa.records import QaRecords, ScoredConversation
from automations.qa.team import AgentActivity
from automations.taxonomy import Taxonomy

__all__ = ["TeamSnapshot", "TeamView"]


@dataclass(frozen=True, slots=True)
class TeamSnapshot:
    """Everything about the team in one period."""

    start: datetime
    end: datetime
    rows: tuple[AgentRow, ...]
    scores: tuple[ScoredConversation, ...]
    qa: TeamQa
    matrix: SkillMatrix
    overview: TeamOverview

    def row(self, agent_id: str) -> AgentRow | None:
        """One agent's row."""
        return next((r for r in self.rows if r.agent_id == agent_id), None)

    def to_json(self) -> dict[str, Any]:
        """The report's ``agents`` and ``qa`` keys (the skill-gap matrix inside ``qa``)."""
        qa = self.qa.to_json()
        qa["skill_gaps"] = self.matrix.to_json()
        qa["spreads"] = {k: s.to_json() for k, s in self.overview.spreads.items()}
        return {"agents": [r.to_json() for r in self.rows], "qa": qa}

    def lines(self) -> list[str]:
        """The report's "Team quality" section, as Markdown lines (medians and themes, no ranking)."""
        t, o = self.qa.team, self.overview
        if not self.rows and not t.scored:
            return ["No agent activity or scored conversations in this period."]
        out = [f"{len(self.rows)} agents handled {o.contacts:,} hand-offs; {t.scored:,} of their conversations were "
               f"scored, mean QA score {t.qa_score if t.qa_score is not None else 'n/a'}, "
               f"{t.critical_fails} with a critical fail."]  # fmt: skip
        spread = o.spreads.get("qa_score")
        if spread is not None and spread.median is not None:
            out.append(f"Agents' QA scores: median {spread.median:.0f}, middle half {spread.low:.0f}-{spread.high:.0f}")
        out += [f"Critical fail {fail}: {n}. Training: {training}" for fail, n, training in o.critical_fails]
        out += [f"Weakest criterion {c}: passes {rate:.0%}. Training: {t}" for c, rate, t in o.weak_criteria]
        out += [f"Skill gap shared by {n} agents on {driver}; articles: {', '.join(articles) or 'none'}"
                for driver, n, articles in o.shared_gaps]  # fmt: skip
        if self.qa.agreement.graded:
            a = self.qa.agreement
            out.append(f"Managers agreed with the scorer on {a.agreement:.0%} of {a.graded} calibration grades"
                       f"{f' (kappa {a.kappa:.2f})' if a.kappa is not None else ''}.")  # fmt: skip
        return out


class TeamView:
    """Reads the team's figures through the ports (see the module docstring)."""

    def __init__(
        self,
        *,
        activity: AgentActivity,
        records: QaRecords,
        taxonomy: Taxonomy,
        rules: CoachingRules,
        directory: AgentDirectory | None = None,
        reopen_within: timedelta = timedelta(days=7),
    ) -> None:
        """Wire the ports; ``directory`` names the agents (else the names captured with their turns)."""
        self.activity, self.records, self.taxonomy, self.rules = activity, records, taxonomy, rules
        self.directory = directory or AgentDirectory()
        self.reopen_within = reopen_within

    async def snapshot(self, start: datetime, end: datetime) -> TeamSnapshot:
        """The team in ``[start, end)``."""
        figures = await self.activity.agent_figures(start, end, reopen_within=self.reopen_within)
        scores = await self.records.scores(since=start, until=end)
        grades = await self.records.grades(since=start)
        rows = agent_rows(figures, scores, self.directory.names())
        qa = team_qa(scores, [g for g in grades if g.at < end])
        matrix = skill_matrix(rows, scores, self.taxonomy, self.rules)
        return TeamSnapshot(start, end, tuple(rows), tuple(scores), qa, matrix, team_overview(rows, qa, matrix))

    async def one_on_one(self, agent_id: str, start: datetime, end: datetime) -> OneOnOne | None:
        """The 1:1 pack of ``agent_id`` for ``[start, end)`` (trends against the period of the same length before);
        ``None`` when the agent did nothing in the period."""
        now = await self.snapshot(start, end)
        row = now.row(agent_id)
        if row is None:
            return None
        before = await self.snapshot(start - (end - start), start)
        mine = [s for s in now.scores if s.result.agent_id == agent_id]
        return one_on_one(row, before.row(agent_id), mine, now.matrix, now.overview)
