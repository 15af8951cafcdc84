"""Reply text (:mod:`automations.replytext`) as Intercom message HTML.

Intercom renders a comment's ``body`` as HTML. Only ``<p>``, ``<br>``, ``<b>``, ``<ul>``/``<ol>``/``<li>`` and
``<a href>`` (``http``/``https`` targets, the only ones the parser makes) are written; every text is escaped, so an
article's or a customer's ``<script>`` or ``onerror=`` reaches Intercom as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from automations.replytext import Block, Paragraph, Span, parse

__all__ = ["html", "reply_html"]


def _span(span: Span) -> str:
    text = escape(span.text, quote=False)
    if span.href is not None and span.href.startswith(("https://", "http://")):
        text = f'<a href="{escape(span.href, quote=True)}">{text}</a>'
    return f"<b>{text}</b>" if span.strong else text


def _line(spans: Sequence[Span]) -> str:
    return "".join(_span(span) for span in spans)


def html(blocks: Sequence[Block]) -> str:
    """``blocks`` as Intercom HTML: a ``<p>`` per paragraph (its lines joined by ``<br>``), ``<ul>``/``<ol>`` lists."""
    out = []
    for block in blocks:
        if isinstance(block, Paragraph):
            out.append("<p>" + "<br>".join(_line(line) for line in block.lines) + "</p>")
        else:
            tag = "ol" if block.ordered else "ul"
            out.append(f"<{tag}>" + "".join(f"<li>{_line(item.spans)}</li>" for item in block.items) + f"</{tag}>")
    return "".join(out)


def reply_html(text: str) -> str:
    """A reply text as Intercom HTML."""
    return html(parse(text))
