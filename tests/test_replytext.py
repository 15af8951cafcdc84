"""Reply text (automations.replytext): the minimal Markdown subset the core writes, parsed into renderer-neutral
blocks, and trimmed to the steps that matter; the extractive answerer's replies over the shipped knowledge base."""

from __future__ import annotations

from pathlib import Path

import pytest

from automations.answering import format_passage
from automations.models import Passage, Visibility
from automations.replytext import Paragraph, Span, Steps, fit, parse, plain, source
from bot.settings import DEFAULT_KB
from knowledge.articles import load_article

STEPS = """You can cancel a transfer only while it still shows **Pending**.

1. Open the app and tap the transfer.
2. Tap **Transfer > Cancel** and confirm.
3. The money goes back to your balance.

If there's no Cancel option, it has already left.
See [the fees page](https://help.example.test/fees?a=1&b=2) or https://help.example.test/limits."""


def passage(text: str, *, section: str = "How do I cancel a transfer?") -> Passage:
    return Passage("cancel-transfer", "Cancelling a transfer", section, text, "https://help.example.test/cancel",
                   Visibility.PUBLIC, ("cancel_transfer",), 0.8)  # fmt: skip


def test_paragraphs_lists_strong_and_links_are_parsed() -> None:
    blocks = parse(STEPS)
    assert [type(b) for b in blocks] == [Paragraph, Steps, Paragraph]
    first, steps, last = blocks
    assert isinstance(first, Paragraph) and first.lines == (
        (Span("You can cancel a transfer only while it still shows "), Span("Pending", strong=True), Span(".")),
    )
    assert isinstance(steps, Steps) and steps.ordered and steps.start == 1 and len(steps.items) == 3
    assert steps.items[1].spans == (Span("Tap "), Span("Transfer > Cancel", strong=True), Span(" and confirm."))
    assert isinstance(last, Paragraph) and len(last.lines) == 2  # a single newline is a line break
    links = [s for s in last.lines[1] if s.href]
    assert links == [
        Span("the fees page", href="https://help.example.test/fees?a=1&b=2"),
        Span("https://help.example.test/limits", href="https://help.example.test/limits"),  # the "." stays text
    ]
    assert source(blocks) == STEPS


def test_bullets_continuations_headings_and_numbering() -> None:
    blocks = parse("## Before you start\n- one\n  still one\n* two\n• three\n\n4) four\n5) five\nafter")
    heading, bullets, numbered = blocks
    assert heading == Paragraph(((Span("Before you start", strong=True),),), "## Before you start")
    assert isinstance(bullets, Steps) and not bullets.ordered
    assert [i.spans for i in bullets.items] == [(Span("one still one"),), (Span("two"),), (Span("three"),)]
    assert isinstance(numbered, Steps) and numbered.ordered and numbered.start == 4
    assert [i.spans for i in numbered.items] == [(Span("four"),), (Span("five after"),)]  # a lazy continuation
    assert plain(blocks) == "Before you start\n\n- one still one\n- two\n- three\n\n4. four\n5. five after"


@pytest.mark.parametrize(
    "text",
    [
        '<script>alert(1)</script> <img src=x onerror="alert(2)">',
        "[click](javascript:alert(1)) and javascript:alert(2)",
        "**<b>bold</b>** [x](data:text/html,hi) http://",
    ],
)
def test_html_and_unsafe_links_stay_text(text: str) -> None:
    spans = [s for b in parse(text) if isinstance(b, Paragraph) for line in b.lines for s in line]
    assert "".join(s.text for s in spans).replace("**", "") in text.replace("**", "")
    assert all(s.href is None for s in spans)


def test_a_short_reply_is_not_trimmed() -> None:
    blocks = parse(STEPS)
    assert fit(blocks, len(STEPS)) == (blocks, False)


def test_trimming_keeps_the_opening_and_the_steps_before_other_paragraphs() -> None:
    intro = "You can cancel a transfer only while it still shows Pending."
    steps = "\n".join(f"{i}. Step number {i} of the way to cancel it." for i in range(1, 5))
    aside = "Background: " + "Faster Payments usually leave within minutes. " * 8
    blocks = parse(f"{intro}\n\n{aside.strip()}\n\n{steps}\n\nShort tip.")
    kept, trimmed = fit(blocks, 300)
    assert trimmed and source(kept) == f"{intro}\n\n{steps}\n\nShort tip."  # the long aside goes, the tip fits


def test_when_even_the_steps_are_too_long_the_first_steps_are_kept() -> None:
    intro = "Why a transfer can be late. " * 20
    steps = "\n".join(f"- Check number {i}: " + "look at the status in the app. " * 3 for i in range(1, 9))
    kept, trimmed = fit(parse(f"{intro.strip()}\n\n{steps}"), 400)
    assert trimmed and len(source(kept)) <= 400
    opening, listed = kept
    assert isinstance(opening, Paragraph) and opening.source.endswith(" …")
    assert isinstance(listed, Steps) and 1 <= len(listed.items) < 8 and "Check number 1:" in listed.source


def test_format_passage_links_the_rest_when_trimmed() -> None:
    full = format_passage(passage(STEPS))
    assert full == f"**How do I cancel a transfer?**\n\n{STEPS}\n\nMore in “Cancelling a transfer”: " \
        "https://help.example.test/cancel"  # fmt: skip
    long = STEPS.replace("If there's no", "Note. " * 200 + "If there's no")
    short = format_passage(passage(long), limit=400)
    assert "3. The money goes back to your balance." in short and "Note. Note." not in short
    assert short.endswith("The rest is in “Cancelling a transfer”: https://help.example.test/cancel")


def test_every_shipped_section_parses_back_to_its_text_and_fits_the_default_limit() -> None:
    articles = [load_article(path) for path in sorted(Path(DEFAULT_KB).rglob("*.md"))]
    lines = lambda text: [line for line in text.splitlines() if line.strip()]  # noqa: E731
    for article in articles:
        for section in article.sections:
            blocks = parse(section.body)
            assert lines(source(blocks)) == lines(section.body), section.id
            kept, _ = fit(blocks, 900)
            assert len(source(kept)) <= 900 + 2, section.id
            assert any(isinstance(b, Steps) for b in kept) == any(isinstance(b, Steps) for b in blocks), section.id
