"""Reply text as Slack mrkdwn (bot.slack.mrkdwn): bold, bullets, numbered steps and <url|label> links, with &, < and
> escaped, cut into sections within Block Kit's limits; and the agent's answer message built from it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from slack_sdk.models.blocks import Block

from automations.models import Action, Channel, Decision
from automations.replytext import parse
from bot.slack.blocks import MAX_BLOCKS, answer_message
from bot.slack.mrkdwn import SECTION_TEXT, mrkdwn, plain_text, sections


def test_bold_lists_and_links() -> None:
    text = "**Heading**\n\nTap **Card > Freeze** & wait.\n\n1. Open the app\n2. Tap Card\n\n- one\n- two\n\n" \
        "See [the *fees* | page](https://kb.example/fees?a=1&b=2) or https://kb.example/limits."  # fmt: skip
    assert mrkdwn(parse(text)) == (
        "*Heading*\n\nTap *Card &gt; Freeze* &amp; wait.\n\n1. Open the app\n2. Tap Card\n\n• one\n• two\n\n"
        "See <https://kb.example/fees?a=1&amp;b=2|the *fees* ¦ page> or <https://kb.example/limits>."
    )


def test_control_sequences_never_reach_slack() -> None:
    rendered = mrkdwn(parse("Hi <!channel> <@U123> <https://evil.example|click> & **<!here>**"))
    assert "<!" not in rendered and "<@" not in rendered and "|click>" not in rendered
    # a bare URL in the text is a link (only the renderer writes <...>), never one with a label the text chose
    assert rendered == "Hi &lt;!channel&gt; &lt;@U123&gt; &lt;<https://evil.example>|click&gt; &amp; *&lt;!here&gt;*"


def test_long_replies_are_cut_between_blocks_within_the_section_limit() -> None:
    paragraphs = [f"Paragraph {i}: " + "words " * 150 for i in range(12)]  # about 900 characters each
    out = sections("\n\n".join(paragraphs))
    assert len(out) == 4 and all(len(s) <= SECTION_TEXT for s in out)
    assert out[0].startswith("Paragraph 0:") and out[1].startswith("Paragraph 3:")  # whole paragraphs per section
    huge = sections("x " * 20_000)  # one 40,000-character paragraph: cut between words
    assert all(len(s) <= SECTION_TEXT for s in huge) and len(huge) == 14
    capped = sections("\n\n".join(["y" * 2900] * 60), most=5)
    assert len(capped) == 5 and capped[-1].endswith(" …") and len(capped[-1]) <= SECTION_TEXT


def test_fallback_text_is_plain_and_escaped() -> None:
    assert plain_text("**Freeze** it <!channel>\n\n1. [App](https://kb.example)") == \
        "Freeze it &lt;!channel&gt;\n\n1. App (https://kb.example)"  # fmt: skip


def test_a_huge_answer_fits_block_kit() -> None:
    reply = "\n\n".join(f"- step {i} " + "z" * 2990 for i in range(80))
    decision = Decision(
        contact_id="slack:Ev9", channel=Channel.AGENT, text="q", category="card_lost", group="Cards",
        confidence=0.9, action=Action.ANSWER, tier="bot", reason="answered",
        decided_at=datetime(2026, 1, 5, tzinfo=UTC), reply=reply,
    )  # fmt: skip
    message = answer_message(decision)
    assert len(message.blocks) <= MAX_BLOCKS
    for raw in message.blocks:
        assert Block.parse(raw) is not None
        assert len(raw.get("text", {}).get("text", "")) <= SECTION_TEXT
    assert "• step 0 " in json.dumps(message.blocks, ensure_ascii=False) and len(message.text) <= 4000
