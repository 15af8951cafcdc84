"""Hand-off summaries: the deterministic summary always, plus a one-line model-written gist when it can be trusted.

The gist is checked against the customer's own (redacted) message like a reply against its passages: every figure in
it must come from the message and every sentence must be supported by it. Contacts on protected topics (legal,
regulatory, fraud, AML, privacy) never go to the model. The pipeline takes the summarizer and records its text as
the hand-off summary, so the Intercom note and the Slack post carry the gist.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from automations.llm.breaker import GuardedModel, ModelUnavailable
from automations.llm.grounding import GroundingChecker
from automations.llm.prompts import PromptTemplate
from automations.models import Channel, Decision, Passage, Visibility
from automations.redaction import Redactor
from automations.safety import SafetyGate
from automations.taxonomy import PROTECTED_TIERS

__all__ = ["GIST_PREFIX", "LLMSummarizer", "TemplateSummarizer"]

log = logging.getLogger("autopilot.llm")
GIST_PREFIX = "Gist (AI-written, checked against the message): "


class TemplateSummarizer:
    """The deterministic summary built by :func:`automations.handoff.build_handoff`; used when no model is set."""

    async def summarize(self, decision: Decision) -> str:
        """The hand-off's own summary."""
        return decision.handoff.summary if decision.handoff is not None else ""


class LLMSummarizer:
    """Prepends a checked model-written gist to the deterministic summary; falls back to the summary alone."""

    def __init__(
        self,
        *,
        model: GuardedModel,
        checker: GroundingChecker,
        prompt: PromptTemplate,
        protected: Collection[str],
        safety: SafetyGate,
        redactor: Redactor | None = None,
    ) -> None:
        self.model = model
        self.checker = checker
        self.prompt = prompt
        self.protected = frozenset(protected)
        self.safety = safety
        self.redactor = redactor or Redactor()
        self.last_reason = ""

    async def summarize(self, decision: Decision) -> str:
        """Gist plus the deterministic summary, or the deterministic summary with the reason logged."""
        base = decision.handoff.summary if decision.handoff is not None else ""
        gist, self.last_reason = await self._gist(decision)
        if gist is None:
            log.info("hand-off gist skipped for %s: %s", decision.contact_id, self.last_reason)
            return base
        return f"{GIST_PREFIX}{gist}\n{base}"

    async def _gist(self, decision: Decision) -> tuple[str | None, str]:
        text = self.redactor.redact(decision.text).text
        if decision.category in self.protected or decision.tier in PROTECTED_TIERS:
            return None, "protected_topic"
        if self.safety.check(text, None).category is not None or self.safety.neutralize(text)[1]:
            return None, "protected_topic"
        messages = self.prompt.render({"message": text})
        try:
            gist = " ".join((await self.model.complete(messages)).split())
        except ModelUnavailable as exc:
            return None, exc.reason
        source = Passage("message", "Customer message", "", text, "", Visibility.INTERNAL, ())
        verdict = await self.checker.check(gist, [source], channel=Channel.AGENT, system_prompt=messages[0].content)
        if not verdict.grounded or len(gist) > 400:
            return None, verdict.reason if not verdict.grounded else "too_long"
        return gist, "grounded"
