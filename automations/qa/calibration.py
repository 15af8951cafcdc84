"""Manager calibration of the QA scorer: a weekly sample of scored conversations, and how often managers agree.

Each week a sample of scored conversations is posted to the managers, who grade each criterion (and whether a
critical fail is right) with buttons. :func:`agreement` compares their grades with the scorer's verdicts, per
criterion and per week, so the report can show whether the scorer is drifting away from the people it stands for.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from automations.qa.records import ManagerGrade, ScoredConversation

__all__ = ["CRITICAL_CRITERION", "Agreement", "agreement", "cohen_kappa", "pick_sample"]

CRITICAL_CRITERION = "critical_fail"
"""The pseudo-criterion of a grade on the critical-fail verdict: 1 when the conversation has a critical fail."""


def pick_sample(scores: Sequence[ScoredConversation], *, size: int, seed: int) -> list[ScoredConversation]:
    """A calibration sample: up to a third with critical fails, a third of the lowest scores, the rest at random.

    Deterministic for a ``seed`` (the week), so a re-run of the job posts the same conversations.
    """
    rng = random.Random(seed)
    pool = sorted(scores, key=lambda s: s.conversation_id)
    chosen: list[ScoredConversation] = []

    def take(candidates: list[ScoredConversation], n: int) -> None:
        for s in candidates:
            if len(chosen) >= size or n <= 0:
                return
            if s not in chosen:
                chosen.append(s)
                n -= 1

    fails = [s for s in pool if s.result.critical_fails]
    rng.shuffle(fails)
    take(fails, size // 3)
    take(sorted((s for s in pool if not s.result.critical_fails), key=lambda s: s.result.score), size // 3)
    rest = [s for s in pool if s not in chosen]
    rng.shuffle(rest)
    take(rest, size)
    return chosen


@dataclass(frozen=True, slots=True)
class Agreement:
    """Managers against the scorer on one criterion in one week."""

    week: datetime
    criterion: str
    graded: int
    agreed: int

    @property
    def rate(self) -> float:
        """Agreed / graded."""
        return self.agreed / self.graded if self.graded else 0.0


def agreement(grades: Sequence[ManagerGrade], *, week_start: int = 0) -> list[Agreement]:
    """Per ISO week (starting on ``week_start``, 0 = Monday) and criterion: how many grades matched the scorer.

    A grade with no scorer value (the scorer found the criterion not applicable) counts as a disagreement when the
    manager graded it, and a manager's "not applicable" (``None``) is left out.
    """
    counts: dict[tuple[datetime, str], list[int]] = defaultdict(lambda: [0, 0])
    for g in grades:
        if g.value is None:
            continue
        day = g.at.replace(hour=0, minute=0, second=0, microsecond=0)
        week = day - timedelta(days=(day.weekday() - week_start) % 7)
        row = counts[(week, g.criterion)]
        row[0] += 1
        row[1] += g.scorer_value is not None and round(g.scorer_value) == round(g.value)
    return [Agreement(w, c, n, a) for (w, c), (n, a) in sorted(counts.items())]


def cohen_kappa(pairs: Sequence[tuple[int, int]] | Sequence[tuple[bool, bool]]) -> float | None:
    """Cohen's kappa of two raters' binary labels (``None`` when undefined: no pairs, or no variation at all)."""
    n = len(pairs)
    if not n:
        return None
    observed = sum(a == b for a, b in pairs) / n
    pa, pb = sum(int(a) for a, _ in pairs) / n, sum(int(b) for _, b in pairs) / n
    expected = pa * pb + (1 - pa) * (1 - pb)
    return None if expected >= 1 else (observed - expected) / (1 - expected)
