"""Quality assurance of conversations: the scorecard, transcripts and the rule-based scorer (:class:`QaScorer`, which
needs numpy, loads on first use: the SQL records adapter imports this package in every process)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from automations.qa.model import QaReference, QaResult, Reference, Transcript, Turn
from automations.qa.scorecard import CRITICAL_FAIL_IDS, DEFAULT_SCORECARD, Scorecard, load_scorecard

if TYPE_CHECKING:
    from automations.qa.scorer import QaScorer

__all__ = [
    "CRITICAL_FAIL_IDS",
    "DEFAULT_SCORECARD",
    "QaReference",
    "QaResult",
    "QaScorer",
    "Reference",
    "Scorecard",
    "Transcript",
    "Turn",
    "load_scorecard",
]


def __getattr__(name: str) -> Any:
    """``QaScorer``, imported on first use."""
    if name == "QaScorer":
        from automations.qa.scorer import QaScorer

        return QaScorer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
