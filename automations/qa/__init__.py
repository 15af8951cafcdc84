"""Quality assurance of conversations: the scorecard, transcripts and the rule-based scorer."""

from __future__ import annotations

from automations.qa.model import QaReference, QaResult, Reference, Transcript, Turn
from automations.qa.scorecard import CRITICAL_FAIL_IDS, DEFAULT_SCORECARD, Scorecard, load_scorecard
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
