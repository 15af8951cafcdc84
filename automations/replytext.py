"""The text of a reply: plain, readable text in a minimal Markdown subset, which each channel's adapter renders.

``Decision.reply`` is stored as a person would read it in a plain-text message. The core writes it and trims it; it
renders nothing. Adapters :func:`parse` it into renderer-neutral blocks and render those for their channel: Intercom
HTML (``bot.intercom.render``), Slack mrkdwn (``bot.slack.mrkdwn``), DOM nodes in the playground. The subset is the
one the knowledge base's sections are written in:

- blocks are separated by blank lines; the lines of a paragraph are kept as line breaks;
- ``- ``, ``* `` or ``• `` starts a bullet item and ``1. `` or ``1) `` a numbered one; an indented line, or one right
  under an item, continues it;
- ``**text**`` is strong; ``[text](https://…)`` is a link, and so is a bare ``http(s)://`` URL;
- a ``#`` heading line is a strong paragraph.

Everything else is literal text: markup outside the subset (HTML included) stays text, for the renderer to escape.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Block", "Item", "Paragraph", "Span", "Steps", "fit", "parse", "plain", "source"]

_BULLET = re.compile(r"^ {0,3}[-*•]\s+(?P<text>\S.*)$")
_ORDERED = re.compile(r"^ {0,3}(?P<n>\d{1,3})[.)]\s+(?P<text>\S.*)$")
_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(?P<text>.+?)[\s#]*$")
_INLINE = re.compile(
    r"\*\*(?P<strong>[^*\n]*[^*\s\n])\*\*"
    r"|\[(?P<label>[^\]\n]+)\]\((?P<target>https?://[^\s()<>]+)\)"
    r"|(?P<url>https?://[^\s<>|\"'“”‘’]+)"
)
_TRAILING = ".,;:!?)]}'\"”’"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text: plain, strong, or a link to ``href`` (always ``http://`` or ``https://``)."""

    text: str
    strong: bool = False
    href: str | None = None


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph: its lines (each a tuple of spans) and the reply text it came from."""

    lines: tuple[tuple[Span, ...], ...]
    source: str


@dataclass(frozen=True, slots=True)
class Item:
    """One list item: its spans and the reply text it came from."""

    spans: tuple[Span, ...]
    source: str


@dataclass(frozen=True, slots=True)
class Steps:
    """A bulleted or numbered list (numbered from ``start``)."""

    ordered: bool
    items: tuple[Item, ...]
    start: int = 1

    @property
    def source(self) -> str:
        """The reply text of the list."""
        return "\n".join(item.source for item in self.items)


Block = Paragraph | Steps


def _spans(text: str) -> tuple[Span, ...]:
    """The inline spans of one line of text."""
    out: list[Span] = []

    def add(span: Span) -> None:
        if not span.text:
            return
        if out and span.href is None and out[-1].href is None and out[-1].strong == span.strong:
            out[-1] = Span(out[-1].text + span.text, span.strong)
        else:
            out.append(span)

    at = 0
    for match in _INLINE.finditer(text):
        add(Span(text[at : match.start()]))
        at = match.end()
        if match["strong"] is not None:
            add(Span(match["strong"], strong=True))
        elif match["label"] is not None:
            add(Span(match["label"], href=match["target"]))
        else:
            url = match["url"]
            kept = url.rstrip(_TRAILING)
            if not re.match(r"https?://[^/\s]+\.[^/\s]", kept):  # not a host name: leave it as text
                add(Span(url))
                continue
            add(Span(kept, href=kept))
            add(Span(url[len(kept) :]))
    add(Span(text[at:]))
    return tuple(out)


class _Parser:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.lines: list[str] = []  # the open paragraph
        self.items: list[tuple[list[str], list[str]]] = []  # the open list's items: (source lines, text lines)
        self.ordered, self.start, self.blank = False, 1, False

    def close_paragraph(self) -> None:
        if self.lines:
            lines = tuple(_spans(line.strip()) for line in self.lines)
            self.blocks.append(Paragraph(lines, "\n".join(self.lines)))
            self.lines = []

    def close_list(self) -> None:
        if self.items:
            items = tuple(Item(_spans(" ".join(t.strip() for t in text)), "\n".join(src)) for src, text in self.items)
            self.blocks.append(Steps(self.ordered, items, self.start))
            self.items = []

    def feed(self, line: str) -> None:
        if not line.strip():
            self.close_paragraph()
            self.blank = True
            return
        bullet, ordered = _BULLET.match(line), _ORDERED.match(line)
        if bullet or ordered:
            self.close_paragraph()
            if self.items and self.ordered != bool(ordered):
                self.close_list()
            if not self.items:
                self.ordered, self.start = bool(ordered), int(ordered["n"]) if ordered else 1
            found = ordered or bullet
            assert found is not None
            self.items.append(([line], [found["text"]]))
        elif (heading := _HEADING.match(line)) is not None:
            self.close_paragraph()
            self.close_list()
            self.blocks.append(Paragraph(((Span(heading["text"], strong=True),),), line))
        elif self.items and (line[:1].isspace() or not self.blank):  # an item's continuation line
            self.items[-1][0].append(line)
            self.items[-1][1].append(line)
        else:
            self.close_list()
            self.lines.append(line)
        self.blank = False

    def done(self) -> tuple[Block, ...]:
        self.close_paragraph()
        self.close_list()
        return tuple(self.blocks)


def parse(text: str) -> tuple[Block, ...]:
    """The blocks of a reply text (see the module's description of the subset)."""
    parser = _Parser()
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        parser.feed(line.rstrip())
    return parser.done()


def source(blocks: Sequence[Block]) -> str:
    """The reply text of ``blocks`` (blank lines between them)."""
    return "\n\n".join(block.source for block in blocks)


def _plain(spans: Sequence[Span]) -> str:
    return "".join(s.text if s.href is None or s.text == s.href else f"{s.text} ({s.href})" for s in spans)


def plain(blocks: Sequence[Block]) -> str:
    """``blocks`` as plain text without markup (a notification's fallback text, a screen reader)."""
    out = []
    for block in blocks:
        if isinstance(block, Paragraph):
            out.append("\n".join(_plain(line) for line in block.lines))
        else:
            marks = [f"{block.start + i}." if block.ordered else "-" for i in range(len(block.items))]
            out.append("\n".join(f"{mark} {_plain(item.spans)}" for mark, item in zip(marks, block.items, strict=True)))
    return "\n\n".join(out)


def _shorten(text: str, limit: int) -> str:
    """``text`` cut at the last sentence end within ``limit`` characters (else the last word), with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 2, 1)]
    ends = [m.start() for m in _SENTENCE_END.finditer(cut)]
    return (cut[: ends[-1]] if ends else cut.rsplit(" ", 1)[0]).rstrip() + " …"


def fit(blocks: Sequence[Block], limit: int) -> tuple[tuple[Block, ...], bool]:
    """``blocks`` trimmed to about ``limit`` characters of reply text, keeping the steps that matter; and whether
    anything was left out.

    The opening block and every list (the steps) are kept first, then the other paragraphs in order while they fit.
    When the opening block and the lists alone are too long, the opening is shortened at a sentence end and the lists
    keep their first items that fit (at least the first one)."""
    size = [len(block.source) + 2 for block in blocks]
    if sum(size) - 2 <= limit or not blocks:
        return tuple(blocks), False
    first = blocks[0]
    steps = [i for i, block in enumerate(blocks) if isinstance(block, Steps) and i > 0]
    keep = {0, *steps}
    if sum(size[i] for i in keep) <= limit + 2:
        room = limit + 2 - sum(size[i] for i in keep)
        for i in range(len(blocks)):
            if i not in keep and size[i] <= room:
                keep.add(i)
                room -= size[i]
        return tuple(b for i, b in enumerate(blocks) if i in keep), True
    lists: list[Steps] = [first] if isinstance(first, Steps) else []
    lists += [block for block in blocks[1:] if isinstance(block, Steps)]
    budget = limit
    if isinstance(first, Paragraph):
        reserved = min(len(lists[0].items[0].source) + 2, limit // 2) if lists else 0
        first = parse(_shorten(first.source, max(limit - reserved, limit // 2)))[0]
        budget -= len(first.source) + 2
    out: list[Block] = [] if isinstance(first, Steps) else [first]
    for n, steps_block in enumerate(lists):
        items: list[Item] = []
        for item in steps_block.items:
            if len(item.source) + 1 > budget and (items or n):  # the first step is always kept
                break
            items.append(item)
            budget -= len(item.source) + 1
        if not items:
            break
        out.append(Steps(steps_block.ordered, tuple(items), steps_block.start))
        budget -= 1
    return tuple(out), True
