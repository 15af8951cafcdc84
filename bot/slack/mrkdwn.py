"""Reply text (:mod:`automations.replytext`) as Slack mrkdwn, cut into section texts within Block Kit's limits.

Slack reads ``&``, ``<`` and ``>`` as control characters (``<!channel>``, ``<@U123>``, ``<url|label>``), so every text
is escaped; links are written as ``<url|label>`` by the renderer alone. Strong text is ``*bold*``, bullets are ``•``
and numbered steps keep their numbers (mrkdwn has no list markup).
"""

from __future__ import annotations

from collections.abc import Sequence

from automations.replytext import Block, Paragraph, Span, parse, plain

__all__ = ["SECTION_TEXT", "escape", "mrkdwn", "plain_text", "sections"]

SECTION_TEXT = 3000
"""Slack's limit on a section block's text."""


def escape(text: str) -> str:
    """Escape Slack control characters so user text renders literally."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _span(span: Span) -> str:
    text = escape(span.text)
    if span.href is not None and span.href.startswith(("https://", "http://")):
        url = escape(span.href).replace("|", "%7C")
        text = f"<{url}>" if span.text == span.href else f"<{url}|{text.replace('|', '¦')}>"
    if span.strong:
        core = text.replace("*", "").strip()  # a star inside would end the bold early
        return f"*{core}*" if core else text
    return text


def _line(spans: Sequence[Span]) -> str:
    return "".join(_span(span) for span in spans).strip()


def _block(block: Block) -> str:
    if isinstance(block, Paragraph):
        return "\n".join(_line(line) for line in block.lines)
    marks = [f"{block.start + i}." if block.ordered else "•" for i in range(len(block.items))]
    return "\n".join(f"{mark} {_line(item.spans)}" for mark, item in zip(marks, block.items, strict=True))


def mrkdwn(blocks: Sequence[Block]) -> str:
    """``blocks`` as one mrkdwn text (blank lines between blocks)."""
    return "\n\n".join(_block(block) for block in blocks)


def _pieces(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at line ends where it can be."""
    out: list[str] = []
    for line in text.split("\n"):
        while len(line) > limit:
            space = line.rfind(" ", 0, limit)
            cut = space if space > limit // 2 else limit
            out.append(line[:cut])
            line = line[cut:].lstrip()
        if out and len(out[-1]) + 1 + len(line) <= limit:
            out[-1] = f"{out[-1]}\n{line}"
        else:
            out.append(line)
    return out


def sections(text: str, *, limit: int = SECTION_TEXT, most: int = 45) -> list[str]:
    """A reply text as mrkdwn section texts: each within ``limit`` characters, at most ``most`` of them (the last
    ends with ``…`` when the reply did not fit), cut between blocks, else between lines."""
    out: list[str] = []
    for block in parse(text):
        rendered = _block(block)
        if out and len(out[-1]) + 2 + len(rendered) <= limit:
            out[-1] = f"{out[-1]}\n\n{rendered}"
        else:
            out += _pieces(rendered, limit)
    if len(out) > most:
        out = out[:most]
        out[-1] = out[-1][: limit - 2].rstrip() + " …"
    return out


def plain_text(text: str) -> str:
    """A reply text without markup, escaped: a message's fallback ``text`` (notifications, screen readers)."""
    return escape(plain(parse(text)))
