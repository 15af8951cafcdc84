"""The optional LLM judge: a model grades the quality criteria the rules judge least well.

Critical fails stay with the rules (a model must not be the only guard of a safety check). The judge's verdict on
``empathy``, ``resolution``, ``next_step`` and ``tone`` replaces the rules' when the model answers with valid JSON;
otherwise the rules' verdict stands. ``autopilot eval qa`` scores the calibration set with and without it.
"""

from __future__ import annotations

import json
import logging
import re

from automations.llm.breaker import GuardedModel, ModelUnavailable
from automations.llm.prompts import PromptTemplate
from automations.qa.model import Transcript

__all__ = ["JUDGED", "LLMJudge"]

log = logging.getLogger("autopilot.qa")
JUDGED = ("empathy", "resolution", "next_step", "tone")
_OBJECT = re.compile(r"\{[^{}]*\}")


class LLMJudge:
    """Grades a transcript's quality criteria with a chat model (``qa_judge`` prompt)."""

    def __init__(self, *, model: GuardedModel, prompt: PromptTemplate, max_chars: int = 6000) -> None:
        """Use ``model`` (guarded: timeouts, retries, circuit breaker) with ``prompt``."""
        self.model, self.prompt, self.max_chars = model, prompt, max_chars

    async def judge(self, transcript: Transcript) -> dict[str, float]:
        """The model's 0/1 verdicts by criterion (empty when it is unavailable or answers badly)."""
        text = "\n".join(f"{t.author}: {t.text}" for t in transcript.turns)[-self.max_chars :]
        try:
            raw = await self.model.complete(self.prompt.render({"transcript": text}))
        except ModelUnavailable as exc:
            log.info("QA judge unavailable for %s: %s", transcript.id, exc.reason)
            return {}
        return parse_verdicts(raw)


def parse_verdicts(raw: str) -> dict[str, float]:
    """The ``{criterion: 0|1}`` object in a model's answer (the first JSON object; unknown keys and values ignored)."""
    match = _OBJECT.search(raw)
    if match is None:
        return {}
    try:
        data = json.loads(match.group())
    except json.JSONDecodeError:
        return {}
    if not isinstance(data, dict):
        return {}
    out: dict[str, float] = {}
    for key in JUDGED:
        value = data.get(key)
        if value in (0, 1, True, False) or value in ("0", "1"):
            out[key] = float(int(value))
    return out
