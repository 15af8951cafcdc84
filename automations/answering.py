"""The default, extractive answerer: the best-matching section of a public article, as reply text."""

from __future__ import annotations

from collections.abc import Sequence

from automations.models import Answer, Channel, Passage, Visibility
from automations.replytext import fit, parse, source

__all__ = ["ExtractiveAnswerer", "format_passage", "format_passages"]


def format_passage(passage: Passage, *, limit: int = 900) -> str:
    """A passage as a reply (:mod:`automations.replytext`): its heading in bold, its body, and the article's link.

    A body longer than ``limit`` characters keeps its opening and its steps (the lists), and the link says the rest
    is in the article."""
    body = passage.text.strip()
    kept, trimmed = fit(parse(body), limit)
    link = "The rest is in" if trimmed else "More in"
    text = source(kept) if trimmed else body
    return f"**{passage.section}**\n\n{text}\n\n{link} “{passage.title}”: {passage.url}"


def format_passages(passages: Sequence[Passage], *, limit: int = 900) -> str:
    """Sections of one article as one reply: each heading in bold with its body (each trimmed like
    :func:`format_passage`), then the article's link once."""
    if len(passages) == 1:
        return format_passage(passages[0], limit=limit)
    parts, trimmed = [], False
    for passage in passages:
        kept, cut = fit(parse(passage.text.strip()), limit)
        trimmed |= cut
        parts.append(f"**{passage.section}**\n\n{source(kept) if cut else passage.text.strip()}")
    first = passages[0]
    link = "The rest is in" if trimmed else "More in"
    return "\n\n".join([*parts, f"{link} “{first.title}”: {first.url}"])


class ExtractiveAnswerer:
    """:class:`~automations.ports.Answerer` that quotes the best passage the channel may see, and never invents text.

    With a ``margin``, up to ``extra`` more sections of the same article join the reply when they score within
    ``margin`` of the best (a question often spans two sections: how long it takes and what it costs)."""

    def __init__(self, *, limit: int = 900, margin: float = 0.0, extra: int = 2) -> None:
        self._limit = limit
        self._margin = margin
        self._extra = extra

    async def answer(self, question: str, passages: Sequence[Passage], channel: Channel) -> Answer | None:
        """Quote the highest-scoring passage allowed on ``channel`` (and its close runners-up of the same article);
        abstain when there is none."""
        allowed = sorted(
            (p for p in passages if channel is Channel.AGENT or p.visibility is Visibility.PUBLIC),
            key=lambda p: -p.score,
        )
        if not allowed:
            return None
        best = allowed[0]
        more = [
            p
            for p in allowed[1:]
            if self._margin > 0
            and p.article_id == best.article_id
            and p.section != best.section
            and p.score >= best.score - self._margin
        ]
        return Answer(text=format_passages([best, *more[: self._extra]], limit=self._limit), passage=best)
