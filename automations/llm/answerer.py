"""The LLM answerer: a model drafts the reply from the retrieved passages, and only a grounded draft is sent.

Everything else gets the extractive answer, with the reason in ``Answer.method``
(``extractive_fallback:<reason>``): a protected topic or injected instructions (never given to the model), the model
slow, failing or switched off by the circuit breaker, or a draft that fails the grounding check.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import replace

from automations.llm.breaker import GuardedModel, ModelUnavailable
from automations.llm.grounding import GroundingChecker
from automations.llm.prompts import PromptTemplate
from automations.models import Answer, Channel, Passage, Visibility
from automations.ports import Answerer
from automations.redaction import Redactor
from automations.safety import SafetyGate

__all__ = ["LLMAnswerer", "format_passages"]

log = logging.getLogger("autopilot.llm")
_MAX_DRAFT = 1500


def format_passages(passages: Sequence[Passage], redactor: Redactor) -> str:
    """Number the passages for the prompt (redacted, like everything sent to a model)."""
    blocks = [
        f"[{i}] {p.title} — {p.section}\n{redactor.redact(p.text.strip()).text}" for i, p in enumerate(passages, 1)
    ]
    return "\n\n".join(blocks)


class LLMAnswerer:
    """:class:`~automations.ports.Answerer` that lets a chat model write the reply, behind the grounding check.

    ``protected`` lists the categories (legal, regulatory, fraud, AML, privacy) whose contacts and articles never go to
    the model; the pipeline already hands those contacts off, and this is the second line of defence.
    """

    def __init__(
        self,
        *,
        model: GuardedModel,
        fallback: Answerer,
        checker: GroundingChecker,
        prompts: dict[Channel, PromptTemplate],
        protected: Collection[str],
        safety: SafetyGate,
        redactor: Redactor | None = None,
        max_passages: int = 3,
    ) -> None:
        self.model = model
        self.fallback = fallback
        self.checker = checker
        self.prompts = prompts
        self.protected = frozenset(protected)
        self.safety = safety
        self.redactor = redactor or Redactor()
        self.max_passages = max_passages

    async def answer(self, question: str, passages: Sequence[Passage], channel: Channel) -> Answer | None:
        """A grounded model-written reply, else the extractive one with the reason; ``None`` when nothing fits."""
        base = await self.fallback.answer(question, passages, channel)
        if base is None:
            return None
        allowed = sorted(
            (p for p in passages if channel is Channel.AGENT or p.visibility is Visibility.PUBLIC),
            key=lambda p: -p.score,
        )[: self.max_passages]
        text = self.redactor.redact(question).text
        refused = self._refusal(text, allowed)
        if refused is not None:
            return self._fallback(base, refused)
        prompt = self.prompts[channel]
        messages = prompt.render({"passages": format_passages(allowed, self.redactor), "question": text})
        try:
            draft = (await self.model.complete(messages)).strip()
        except ModelUnavailable as exc:
            return self._fallback(base, exc.reason)
        if len(draft) > _MAX_DRAFT:
            return self._fallback(base, "draft_too_long")
        verdict = await self.checker.check(draft, allowed, channel=channel, system_prompt=messages[0].content)
        if not verdict.grounded:
            log.info("draft rejected: %s (%s) support=%.2f", verdict.reason, verdict.detail, verdict.support)
            return self._fallback(base, verdict.reason)
        cited = next((p for p in allowed if p.article_id == verdict.cited), allowed[0])
        if channel is Channel.CUSTOMER and cited.visibility is not Visibility.PUBLIC:  # cannot happen: defence in depth
            return self._fallback(base, "internal_article")
        reply = f"{draft}\n\nMore in “{cited.title}”: {cited.url}"
        return Answer(text=reply, passage=cited, method=f"llm:{prompt.label}")

    def _refusal(self, question: str, passages: Sequence[Passage]) -> str | None:
        if not passages:
            return "no_passage"
        _, injected = self.safety.neutralize(question)
        if injected:
            return "prompt_injection"
        verdict = self.safety.check(question, None)
        if verdict.category is not None:
            return "protected_topic"
        if any(self.protected.intersection(p.categories) for p in passages):
            return "protected_topic"
        return None

    @staticmethod
    def _fallback(base: Answer, reason: str) -> Answer:
        return replace(base, method=f"extractive_fallback:{reason}")


def _check_port(answerer: LLMAnswerer) -> Answerer:  # static proof that LLMAnswerer implements the port
    return answerer
