"""The 1:1 preparation pack: an agent's trends, strengths, gaps and three conversations to review together.

Everything is relative to the agent's own previous period and to the team's median, never to other agents by name.
The conversations to review: the critical fails first (one per kind), then the lowest scores that fail for a
different reason, and one conversation that shows what good looks like, each with the scorer's evidence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from automations.qa.coaching import SkillCell, SkillMatrix, TeamOverview
from automations.qa.performance import AgentRow, Figures
from automations.qa.records import ScoredConversation

__all__ = ["TREND_METRICS", "OneOnOne", "Review", "Trend", "choose_reviews", "one_on_one"]

TREND_METRICS = (  # metric, label, whether higher is better
    ("qa_score", "QA score", True), ("critical_fails", "Critical fails", False), ("csat", "CSAT", True),
    ("first_response_s", "First response", False), ("resolution_s", "Resolution", False),
    ("handle_s", "Handle time", False), ("reopen_rate", "Reopen rate", False), ("contacts", "Hand-offs", True),
)  # fmt: skip
GOOD_SCORE = 90
STRONG = 0.1  # a criterion this far above the team's pass rate (or at 95 % and up) is a strength


@dataclass(frozen=True, slots=True)
class Trend:
    """One figure now, in the previous period and the team's median now; ``better`` is ``None`` when unchanged
    or not comparable."""

    metric: str
    label: str
    current: float | None
    previous: float | None
    team_median: float | None
    better: bool | None

    def to_json(self) -> dict[str, Any]:
        """JSON of the trend."""
        return {"metric": self.metric, "current": self.current, "previous": self.previous,
                "team_median": self.team_median, "better": self.better}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Review:
    """A conversation to go through with the agent, and why (``kind``: critical, improve or exemplary)."""

    conversation_id: str
    kind: str
    driver: str | None
    score: int
    critical_fails: tuple[str, ...]
    failed: tuple[str, ...]
    evidence: tuple[tuple[str, str], ...]
    closed_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        """JSON of the review."""
        return {
            "conversation_id": self.conversation_id, "kind": self.kind, "driver": self.driver, "score": self.score,
            "critical_fails": list(self.critical_fails), "failed_criteria": list(self.failed),
            "evidence": dict(self.evidence), "closed_at": self.closed_at.isoformat() if self.closed_at else None,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class OneOnOne:
    """``/cx agent @user``: what to talk about in the agent's next 1:1."""

    agent_id: str
    name: str
    figures: Figures
    trends: tuple[Trend, ...]
    strengths: tuple[str, ...]
    gaps: tuple[str, ...]
    driver_gaps: tuple[SkillCell, ...]
    training: tuple[str, ...]
    reviews: tuple[Review, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON of the pack."""
        return {
            "agent_id": self.agent_id, "name": self.name, "figures": self.figures.to_json(),
            "trends": [t.to_json() for t in self.trends], "strengths": list(self.strengths), "gaps": list(self.gaps),
            "driver_gaps": [c.to_json() for c in self.driver_gaps], "training": list(self.training),
            "reviews": [r.to_json() for r in self.reviews],
        }  # fmt: skip


def _review(s: ScoredConversation, kind: str) -> Review:
    r = s.result
    failed = tuple(c for c, v in r.criteria.items() if v is not None and v < 0.5)
    keys = (*r.critical_fails, *failed) if kind != "exemplary" else tuple(r.evidence)[:2]
    evidence = tuple((k, r.evidence[k]) for k in keys if r.evidence.get(k))
    return Review(s.conversation_id, kind, s.category, r.score, r.critical_fails, failed, evidence, s.closed_at)


def choose_reviews(scores: Sequence[ScoredConversation], *, count: int = 3) -> list[Review]:
    """Up to ``count`` conversations: one per kind of critical fail (latest first), then the lowest scores failing
    for a reason not yet covered, and the last place for the latest conversation at :data:`GOOD_SCORE` or more."""
    latest = sorted(scores, key=lambda s: (s.closed_at or s.scored_at, s.conversation_id), reverse=True)
    chosen: list[Review] = []
    covered: set[str] = set()
    for s in latest:
        fails = set(s.result.critical_fails)
        if fails and not fails <= covered and len(chosen) < count - 1:
            chosen.append(_review(s, "critical"))
            covered |= fails
    for s in sorted(latest, key=lambda s: s.result.score):
        if len(chosen) >= count - 1 or s.result.score >= GOOD_SCORE:
            break
        review = _review(s, "improve")
        if s.result.critical_fails or not review.failed or set(review.failed) <= covered:
            continue
        chosen.append(review)
        covered |= set(review.failed)
    good = next((s for s in latest if s.result.score >= GOOD_SCORE and not s.result.critical_fails), None)
    if good is not None:
        chosen.append(_review(good, "exemplary"))
    seen = {r.conversation_id for r in chosen}
    for s in sorted(latest, key=lambda s: s.result.score):  # fewer kinds than places: the lowest scores
        if len(chosen) >= count:
            break
        if s.conversation_id not in seen and s.result.score < GOOD_SCORE:
            chosen.append(_review(s, "critical" if s.result.critical_fails else "improve"))
            seen.add(s.conversation_id)
    return chosen[:count]


def _better(higher: bool, now: float | None, before: float | None) -> bool | None:
    if now is None or before is None or now == before:
        return None
    return (now > before) == higher


def one_on_one(
    row: AgentRow,
    previous: AgentRow | None,
    scores: Sequence[ScoredConversation],
    matrix: SkillMatrix,
    team: TeamOverview,
) -> OneOnOne:
    """The pack of ``row``'s agent: ``previous`` is the agent's row in the period before, ``scores`` their scored
    conversations in this period, ``matrix`` and ``team`` this period's skill-gap matrix and team overview."""
    f, rules = row.overall, matrix.rules
    trends = []
    for metric, label, higher in TREND_METRICS:
        now = getattr(f, metric)
        before = getattr(previous.overall, metric) if previous is not None else None
        spread = team.spreads.get(metric)
        median = spread.median if spread else None
        trends.append(Trend(metric, label, now, before, median, _better(higher, now, before)))
    team_rates: Mapping[str, float] = team.qa.team.criteria
    strengths = [f"{c.driver}: QA {c.score:.0f} against the team's {c.team_median:.0f}" for c in matrix.of(row.agent_id)
                 if c.status == "strength"]  # fmt: skip
    gaps: list[str] = []
    training: list[str] = []
    for criterion, rate in sorted(f.criteria.items(), key=lambda kv: kv[1]):
        base = team_rates.get(criterion)
        if base is None:
            continue
        if rate >= base + STRONG or (rate >= 0.95 and base < 0.95):
            strengths.append(f"{criterion}: passes {rate:.0%} (team {base:.0%})")
        elif rate <= base - STRONG:
            gaps.append(f"{criterion}: passes {rate:.0%} (team {base:.0%})")
            if criterion in rules.training:
                training.append(rules.training[criterion])
    for fail, n in f.critical_fail_ids.items():
        gaps.insert(0, f"critical fail {fail}: {n} conversation{'s' if n != 1 else ''}")
        if fail in rules.critical_fails:
            training.insert(0, rules.critical_fails[fail])
    driver_gaps = tuple(c for c in matrix.gaps if c.agent_id == row.agent_id)
    for cell in driver_gaps:
        training.extend(cell.training)
    return OneOnOne(
        row.agent_id, row.name, f, tuple(trends), tuple(strengths), tuple(gaps), driver_gaps,
        tuple(dict.fromkeys(training)), tuple(choose_reviews(scores)),
    )  # fmt: skip
