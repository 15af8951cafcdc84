"""Coaching material: the skill-gap matrix (driver × agent against the team median) and the team at a glance.

The rules (thresholds, training by criterion and critical fail) are ``automations/data/coaching.yaml``, validated
with ``file:line`` errors. Nothing here ranks agents: the matrix compares each agent with the team's median on the
same driver, and the team view shows medians, spreads and themes.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from automations.configfile import Issue, load_yaml_model
from automations.qa.performance import AgentRow, Figures, TeamQa
from automations.qa.records import ScoredConversation
from automations.qa.scorecard import CRITICAL_FAIL_IDS
from automations.resources import data_path
from automations.taxonomy import Taxonomy

__all__ = [
    "DEFAULT_COACHING", "CoachingRules", "SkillCell", "SkillMatrix", "Spread", "TeamOverview", "load_coaching",
    "skill_matrix", "team_overview",
]  # fmt: skip

DEFAULT_COACHING = data_path("coaching.yaml")
WEAKER = 0.15  # a criterion this far below the team's pass rate on the driver is one the agent should work on


class CoachingRules(BaseModel):
    """Thresholds of the matrix and the training to suggest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    gap_points: float = Field(default=10, gt=0, le=100)
    min_conversations: int = Field(default=4, ge=1)
    training: dict[str, str] = Field(default_factory=dict)
    critical_fails: dict[str, str] = Field(default_factory=dict)


def _check(rules: CoachingRules) -> Iterator[Issue]:
    missing = [c for c in CRITICAL_FAIL_IDS if c not in rules.critical_fails]
    if missing:
        yield ("critical_fails",), f"no training for the critical fails: {', '.join(missing)}"


def load_coaching(path: Path | str = DEFAULT_COACHING) -> CoachingRules:
    """Load and validate the coaching rules (raises :class:`~automations.configfile.ConfigError`)."""
    return load_yaml_model(path, CoachingRules, check=_check)


@dataclass(frozen=True, slots=True)
class SkillCell:
    """One agent on one driver: mean QA score over ``scored`` conversations against the team's median there."""

    driver: str
    agent_id: str
    name: str
    score: float
    scored: int
    team_median: float
    status: str  # gap | strength | even
    weak_criteria: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()
    training: tuple[str, ...] = ()

    @property
    def delta(self) -> float:
        """Points above (+) or below (-) the team median."""
        return round(self.score - self.team_median, 1)

    def to_json(self) -> dict[str, Any]:
        """JSON of a cell (gaps carry their suggestions)."""
        return {
            "driver": self.driver, "agent_id": self.agent_id, "name": self.name, "score": self.score,
            "scored": self.scored, "team_median": self.team_median, "delta": self.delta, "status": self.status,
            "weak_criteria": list(self.weak_criteria), "articles": list(self.articles), "training": list(self.training),
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class SkillMatrix:
    """Driver × agent: the cells with enough conversations, on drivers where at least two agents have such a cell."""

    drivers: tuple[str, ...]
    medians: Mapping[str, float]
    cells: tuple[SkillCell, ...]
    rules: CoachingRules

    @property
    def gaps(self) -> tuple[SkillCell, ...]:
        """The cells ``gap_points`` or more below the median, largest gap first."""
        return tuple(sorted((c for c in self.cells if c.status == "gap"), key=lambda c: (c.delta, c.driver, c.name)))

    def of(self, agent_id: str) -> list[SkillCell]:
        """One agent's cells."""
        return [c for c in self.cells if c.agent_id == agent_id]

    def to_json(self) -> dict[str, Any]:
        """The matrix, by driver, with the gaps and what to suggest for each."""
        rows = []
        for driver in self.drivers:
            cells = [c for c in self.cells if c.driver == driver]
            rows.append({"driver": driver, "team_median": self.medians[driver],
                         "agents": {c.agent_id: {"score": c.score, "scored": c.scored, "delta": c.delta,
                                                 "status": c.status} for c in cells}})  # fmt: skip
        return {
            "gap_points": self.rules.gap_points, "min_conversations": self.rules.min_conversations,
            "drivers": rows, "gaps": [c.to_json() for c in self.gaps],
        }  # fmt: skip


def _pooled(scores: Sequence[ScoredConversation]) -> dict[str, float]:
    values: dict[str, list[float]] = {}
    for s in scores:
        for criterion, value in s.result.criteria.items():
            if value is not None:
                values.setdefault(criterion, []).append(value)
    return {c: sum(v) / len(v) for c, v in values.items()}


def _suggest(
    figures: Figures, team: Mapping[str, float], rules: CoachingRules
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The criteria the agent fails more than the team does on a driver, and the training for them (and for any
    critical fail there)."""
    weak = sorted(
        (c for c, rate in figures.criteria.items() if c in team and rate <= team[c] - WEAKER),
        key=lambda c: figures.criteria[c] - team[c],
    )
    if not weak and figures.criteria:
        weak = [min(figures.criteria, key=lambda c: (figures.criteria[c], c))]
    training = [rules.training[c] for c in weak if c in rules.training]
    training += [rules.critical_fails[f] for f in figures.critical_fail_ids if f in rules.critical_fails]
    return tuple(weak), tuple(dict.fromkeys(training))


def skill_matrix(
    rows: Sequence[AgentRow], scores: Sequence[ScoredConversation], taxonomy: Taxonomy, rules: CoachingRules
) -> SkillMatrix:
    """Each agent's QA score by driver against the team median; gaps come with the driver's KB articles (from the
    taxonomy) and the training for the criteria the agent fails there more often than the team."""
    by_driver: dict[str, list[tuple[AgentRow, Figures]]] = {}
    for row in rows:
        for driver, figures in row.drivers:
            if figures.scored >= rules.min_conversations and figures.qa_score is not None:
                by_driver.setdefault(driver, []).append((row, figures))
    drivers = sorted((d for d, cells in by_driver.items() if len(cells) >= 2), key=lambda d: (-len(by_driver[d]), d))
    medians: dict[str, float] = {}
    cells: list[SkillCell] = []
    for driver in drivers:
        median = round(statistics.median(f.qa_score or 0.0 for _, f in by_driver[driver]), 1)
        medians[driver] = median
        team = _pooled([s for s in scores if s.category == driver])
        articles = tuple(taxonomy.category(driver).articles) if driver in taxonomy else ()
        for row, f in by_driver[driver]:
            score = f.qa_score or 0.0
            status = (
                "gap" if score <= median - rules.gap_points else "strength" if score >= median + rules.gap_points
                else "even"
            )  # fmt: skip
            if status == "gap":
                weak, training = _suggest(f, team, rules)
                cells.append(SkillCell(driver, row.agent_id, row.name, score, f.scored, median, status, weak,
                                       articles, training))  # fmt: skip
            else:
                cells.append(SkillCell(driver, row.agent_id, row.name, score, f.scored, median, status))
    return SkillMatrix(tuple(drivers), medians, tuple(cells), rules)


@dataclass(frozen=True, slots=True)
class Spread:
    """A metric across the team's agents: median and interquartile range (``n`` agents with a value)."""

    median: float | None
    low: float | None
    high: float | None
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        """The spread of ``values``."""
        if not values:
            return cls(None, None, None, 0)
        ordered = sorted(values)
        if len(ordered) == 1:
            return cls(ordered[0], ordered[0], ordered[0], 1)
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
        return cls(round(statistics.median(ordered), 3), round(q1, 3), round(q3, 3), len(ordered))

    def to_json(self) -> dict[str, Any]:
        """JSON: median, p25, p75, n."""
        return {"median": self.median, "p25": self.low, "p75": self.high, "agents": self.n}


SPREAD_METRICS = ("qa_score", "first_response_s", "handle_s", "resolution_s", "reopen_rate", "csat")


@dataclass(frozen=True, slots=True)
class TeamOverview:
    """``/cx team``: the team's QA and productivity at a glance, as medians, spreads and themes (no ranking)."""

    agents: int
    contacts: int
    qa: TeamQa
    spreads: Mapping[str, Spread]
    weak_criteria: tuple[tuple[str, float, str], ...]  # (criterion, team pass rate, training), weakest first
    critical_fails: tuple[tuple[str, int, str], ...]  # (id, count, training), most first
    shared_gaps: tuple[tuple[str, int, tuple[str, ...]], ...]  # (driver, agents with a gap there, KB articles)

    def to_json(self) -> dict[str, Any]:
        """JSON of the overview."""
        return {
            "agents": self.agents, "contacts": self.contacts, "qa": self.qa.to_json(),
            "spreads": {k: s.to_json() for k, s in self.spreads.items()},
            "weak_criteria": [{"criterion": c, "pass_rate": r, "training": t} for c, r, t in self.weak_criteria],
            "critical_fails": [{"id": c, "count": n, "training": t} for c, n, t in self.critical_fails],
            "shared_gaps": [{"driver": d, "agents": n, "articles": list(a)} for d, n, a in self.shared_gaps],
        }  # fmt: skip


def team_overview(rows: Sequence[AgentRow], qa: TeamQa, matrix: SkillMatrix, *, themes: int = 3) -> TeamOverview:
    """Medians and spreads across agents, the weakest criteria, the critical fails and the drivers where more than
    one agent has a gap: what to coach the whole team on."""
    rules = matrix.rules
    spreads = {m: Spread.of([v for r in rows if (v := getattr(r.overall, m)) is not None]) for m in SPREAD_METRICS}
    weak = sorted(qa.team.criteria.items(), key=lambda kv: (kv[1], kv[0]))[:themes]
    fails = Counter(dict(qa.team.critical_fail_ids)).most_common()
    shared = Counter(c.driver for c in matrix.gaps)
    articles = {c.driver: c.articles for c in matrix.gaps}
    return TeamOverview(
        len(rows), sum(r.overall.contacts for r in rows), qa, spreads,
        tuple((c, rate, rules.training.get(c, "")) for c, rate in weak if rate < 1),
        tuple((f, n, rules.critical_fails.get(f, "")) for f, n in fails if n),
        tuple((d, n, articles[d]) for d, n in shared.most_common() if n >= 2)[:themes],
    )  # fmt: skip
