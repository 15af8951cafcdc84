"""No tipping off: find text that would tell a customer about suspicion, an investigation or a SAR.

The rule is the QA scorecard's ``tipping_off`` critical fail, so the check on every outgoing customer text and the
QA score of a human reply agree. :class:`TippingOffCheck` is built by the composition root from the loaded
scorecard; :func:`tipping_off` uses the shipped scorecard (loaded once) for callers that have none.
"""

from __future__ import annotations

from functools import lru_cache

from automations.qa.scorecard import Scorecard, load_scorecard
from automations.qa.sentences import CompiledRule, Patterns

__all__ = ["TippingOffCheck", "tipping_off"]


class TippingOffCheck:
    """Checks customer-facing text against the scorecard's ``tipping_off`` rule."""

    def __init__(self, scorecard: Scorecard) -> None:
        """Compile the rule from ``scorecard`` (which must have a ``tipping_off`` critical fail)."""
        rule = next(r for r in scorecard.critical_fails if r.id == "tipping_off")
        self.rule = CompiledRule.of(rule)
        self.requests = Patterns(scorecard.requests)

    def __call__(self, text: str) -> str | None:
        """The first sentence of ``text`` that would tip a customer off, or ``None`` when it is clean."""
        return self.rule.first([text], self.requests)


@lru_cache(maxsize=1)
def _default() -> TippingOffCheck:
    return TippingOffCheck(load_scorecard())


def tipping_off(text: str) -> str | None:
    """The first sentence of ``text`` that would tip a customer off (shipped scorecard), or ``None``."""
    return _default()(text)
