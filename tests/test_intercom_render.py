"""Reply text as Intercom HTML (bot.intercom.render): paragraphs, lists, bold and links, every text escaped; and the
reply body planned for the outbox (bot.intercom.actions.reply_body)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from automations.answering import format_passage
from automations.models import Action, Channel, Decision, Passage, Visibility
from bot.intercom.actions import FEEDBACK_PROMPT, reply_body
from bot.intercom.render import reply_html

ALLOWED = {"p", "br", "b", "ul", "ol", "li", "a"}
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Tags(HTMLParser):
    """Every start tag and attribute of a body, and its text."""

    def __init__(self, body: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []
        self.feed(body)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_paragraphs_lists_bold_and_links() -> None:
    text = "**Heading**\n\nTap **Card > Freeze**:\nthen wait.\n\n1. Open the app\n2. Tap Card\n\n- one\n- two\n\n" \
        "More in “Cards”: https://help.example.test/cards?a=1&b=2"  # fmt: skip
    assert reply_html(text) == (
        "<p><b>Heading</b></p><p>Tap <b>Card &gt; Freeze</b>:<br>then wait.</p>"
        "<ol><li>Open the app</li><li>Tap Card</li></ol><ul><li>one</li><li>two</li></ul>"
        '<p>More in “Cards”: <a href="https://help.example.test/cards?a=1&amp;b=2">'
        "https://help.example.test/cards?a=1&amp;b=2</a></p>"
    )


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '[x](https://ok.example/"onmouseover="alert(1))',
        "[click](javascript:alert(1))",
        "**<a href='https://evil.example'>x</a>**",
    ],
)
def test_hostile_text_is_escaped_and_only_the_subset_is_written(hostile: str) -> None:
    body = reply_html(f"Hello {hostile}\n\n- item {hostile}")
    parsed = Tags(body)
    assert {tag for tag, _ in parsed.tags} <= ALLOWED
    for tag, attrs in parsed.tags:
        assert tag == "a" or attrs == []
        if tag == "a":
            assert [name for name, _ in attrs] == ["href"] and str(attrs[0][1]).startswith("https://")
    assert "<script" not in body and "<img" not in body and "javascript:" not in "".join(v or "" for t in parsed.tags
                                                                                         for _, v in t[1])  # fmt: skip


def answered(reply: str, **changes: object) -> Decision:
    base = Decision(
        contact_id="intercom:c-1", channel=Channel.CUSTOMER, text="q", category="cancel_transfer", group="transfers",
        confidence=0.9, action=Action.ANSWER, tier="bot", reason="answered", decided_at=T0,
        conversation_id="intercom:1", source="intercom", reply=reply, article_id="cancel-transfer",
        article_url="https://help.example.test/cancel",
    )  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def test_an_extractive_reply_body_is_formatted_and_links_the_article_once() -> None:
    passage = Passage("cancel-transfer", "Cancelling a transfer", "How do I cancel?",
                      "Only while it shows **Pending**.\n\n1. Open the app.\n2. Tap **Cancel**.",
                      "https://help.example.test/cancel", Visibility.PUBLIC, ("cancel_transfer",), 0.8)  # fmt: skip
    body = reply_body(answered(format_passage(passage)))
    assert body == (
        "<p><b>How do I cancel?</b></p><p>Only while it shows <b>Pending</b>.</p>"
        "<ol><li>Open the app.</li><li>Tap <b>Cancel</b>.</li></ol>"
        '<p>More in “Cancelling a transfer”: <a href="https://help.example.test/cancel">'
        f"https://help.example.test/cancel</a></p><p>{FEEDBACK_PROMPT}</p>"
    )
    canned = reply_body(answered("I can only help with Lumen accounts."))  # no link in the text: one is added
    assert canned.count('href="https://help.example.test/cancel"') == 1 and "More detail:" in canned
