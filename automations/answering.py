"""The default, extractive answerer: the best-matching section of a public article, formatted for chat."""

from __future__ import annotations

import re
from collections.abc import Sequence

from automations.models import Answer, Channel, Passage, Visibility

__all__ = ["ExtractiveAnswerer", "format_passage"]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def _trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    ends = [m.start() for m in _SENTENCE_END.finditer(cut)]
    return (cut[: ends[-1]] if ends else cut.rsplit(" ", 1)[0]).rstrip() + " …"


def format_passage(passage: Passage, *, limit: int = 900) -> str:
    """Render a passage as a chat reply: heading, body and the article link."""
    body = _trim(passage.text.strip(), limit)
    return f"*{passage.section}*\n{body}\n\nMore in “{passage.title}”: {passage.url}"


class ExtractiveAnswerer:
    """:class:`~automations.ports.Answerer` that quotes the best passage the channel may see, and never invents text."""

    def __init__(self, *, limit: int = 900) -> None:
        self._limit = limit

    async def answer(self, question: str, passages: Sequence[Passage], channel: Channel) -> Answer | None:
        """Quote the highest-scoring passage allowed on ``channel``; abstain when there is none."""
        allowed = [p for p in passages if channel is Channel.AGENT or p.visibility is Visibility.PUBLIC]
        if not allowed:
            return None
        best = max(allowed, key=lambda p: p.score)
        return Answer(text=format_passage(best, limit=self._limit), passage=best)
