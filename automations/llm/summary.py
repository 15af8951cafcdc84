"""Hand-off summaries: the deterministic summary always, plus a one-line model-written gist when it can be trusted.

The gist is checked against the customer's own (redacted) message like a reply against its passages: every figure in
it must come from the message and every sentence must be supported by it. Contacts on protected topics (legal,
regulatory, fraud, AML, privacy) never go to the model. Wire :class:`SummarizingNotifier` around the notifier.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import replace
from typing import Protocol

from automations.llm.breaker import GuardedModel, ModelUnavailable
from automations.llm.grounding import GroundingChecker
from automations.llm.prompts import PromptTemplate
from automations.models import Channel, Decision, Passage, Visibility
from automations.ports import Notifier
from automations.redaction import Redactor
from automations.safety import SafetyGate

__all__ = ["GIST_PREFIX", "HandoffSummarizer", "LLMSummarizer", "SummarizingNotifier", "TemplateSummarizer"]

log = logging.getLogger("autopilot.llm")
GIST_PREFIX = "Gist (AI-written, checked against the message): "


class HandoffSummarizer(Protocol):
    """Writes the summary an agent sees for a hand-off."""

    async def summarize(self, decision: Decision) -> str:
        """The summary for ``decision`` (which has a hand-off)."""
        ...


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
        safety: SafetyGate | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.model = model
        self.checker = checker
        self.prompt = prompt
        self.protected = frozenset(protected)
        self.safety = safety or SafetyGate()
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
        if decision.category in self.protected or decision.tier in ("fraud", "compliance", "legal"):
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


class SummarizingNotifier:
    """A :class:`~automations.ports.Notifier` that rewrites each hand-off's summary with a summarizer first."""

    def __init__(self, inner: Notifier, summarizer: HandoffSummarizer) -> None:
        self.inner = inner
        self.summarizer = summarizer

    async def handoff(self, decision: Decision) -> None:
        """Summarize (never failing the hand-off over it), then notify."""
        if decision.handoff is not None:
            try:
                summary = await self.summarizer.summarize(decision)
                decision = replace(decision, handoff=replace(decision.handoff, summary=summary))
            except Exception:
                log.exception("hand-off summary failed for %s; sending the template", decision.contact_id)
        await self.inner.handoff(decision)
