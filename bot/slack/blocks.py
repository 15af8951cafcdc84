"""Block Kit messages of the Slack adapter, built with slack_sdk's models and checked against Slack's limits.

Every builder returns a :class:`Message` (fallback ``text`` plus block dicts). Customer- and agent-written text is
escaped (``&``, ``<``, ``>``) so it can never become a mention, a broadcast (``<!channel>``) or a link.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from automations.alerts import Alert
from automations.handoff import with_clocks
from automations.models import Action, Decision
from bot.slack.mrkdwn import SECTION_TEXT, escape, plain_text, sections

__all__ = [
    "CLAIM_ACTION",
    "FEEDBACK_BLOCK",
    "HELPFUL_ACTION",
    "MAX_BLOCKS",
    "NOT_HELPFUL_ACTION",
    "SECTION_TEXT",
    "Message",
    "alert_message",
    "answer_message",
    "check_blocks",
    "claimed_message",
    "escape",
    "fields",
    "handoff_message",
    "intercom_url",
    "slack_date",
    "truncate",
]

MAX_BLOCKS = 50
FIELD_TEXT = 2000
HEADER_TEXT = 150
CONTEXT_TEXT = 2000
FALLBACK_TEXT = 4000
HELPFUL_ACTION = "feedback_helpful"
NOT_HELPFUL_ACTION = "feedback_not_helpful"
CLAIM_ACTION = "handoff_claim"
OPEN_ACTION = "handoff_open"
FEEDBACK_BLOCK = "feedback"
CLAIM_BLOCK = "claim"


@dataclass(frozen=True, slots=True)
class Message:
    """A Slack message: fallback text (notifications, screen readers) and validated Block Kit dicts."""

    text: str
    blocks: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        """Arguments for ``chat.postMessage`` / ``chat.update`` / ``respond``."""
        return {"text": self.text, "blocks": list(self.blocks)}


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_date(moment: datetime) -> str:
    """A date Slack renders in the reader's time zone, with a UTC fallback."""
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{moment:%Y-%m-%d %H:%M} UTC>"


def intercom_url(app_id: str | None, conversation_id: str | None) -> str | None:
    """The Intercom inbox link of a conversation, when both ids are known."""
    if not app_id or not conversation_id:
        return None
    return f"https://app.intercom.com/a/inbox/{app_id}/inbox/conversation/{conversation_id}"


def fields(pairs: Iterable[tuple[str, str]]) -> list[MarkdownTextObject]:
    """``*label*\\nvalue`` section fields, each within Slack's 2,000-character limit."""
    return [MarkdownTextObject(text=truncate(f"*{label}*\n{value}", FIELD_TEXT)) for label, value in pairs]


def check_blocks(blocks: Sequence[Block]) -> tuple[dict[str, Any], ...]:
    """Serialise ``blocks`` (running slack_sdk's validators) and enforce the limits the models leave out."""
    if len(blocks) > MAX_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks; Slack accepts at most {MAX_BLOCKS}")
    out = tuple(block.to_dict() for block in blocks)
    for block in out:
        for field in block.get("fields", ()):
            if len(field["text"]) > FIELD_TEXT:
                raise ValueError(f"a section field exceeds {FIELD_TEXT} characters")
        if block["type"] == "header" and len(block["text"]["text"]) > HEADER_TEXT:
            raise ValueError(f"a header exceeds {HEADER_TEXT} characters")
        if block["type"] == "context" and len(block["elements"]) > 10:
            raise ValueError("a context block holds at most 10 elements")
    return out


def message(text: str, blocks: Sequence[Block]) -> Message:
    """A validated :class:`Message`."""
    return Message(truncate(text, FALLBACK_TEXT), check_blocks(blocks))


def section(text: str) -> SectionBlock:
    """A Markdown section, cut to Slack's 3,000-character limit."""
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, SECTION_TEXT)))


def header(text: str) -> HeaderBlock:
    """A plain-text header within 150 characters."""
    return HeaderBlock(text=PlainTextObject(text=truncate(text, HEADER_TEXT)))


def context(*lines: str) -> ContextBlock:
    """A small-print context line (one element per line, at most 10)."""
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(line, CONTEXT_TEXT)) for line in lines[:10]])


def _citations(decision: Decision) -> list[str]:
    seen: dict[str, str] = {}
    if decision.article_url:
        cited = next((p for p in decision.passages if p.article_id == decision.article_id), None)
        seen[decision.article_url] = cited.title if cited else (decision.article_id or decision.article_url)
    for passage in decision.passages:
        if passage.url and passage.url not in seen:
            seen[passage.url] = passage.title
    return [f"<{url}|{escape(title)}>" for url, title in list(seen.items())[:3]]


def answer_message(decision: Decision) -> Message:
    """The bot's threaded answer to an agent: the reply in mrkdwn (:func:`~bot.slack.mrkdwn.sections`), sources,
    confidence and Helpful / Not helpful buttons."""
    confidence = f"Confidence {decision.confidence:.0%} · `{decision.category}`"
    if decision.retrieval_score is not None:
        confidence += f" · match {decision.retrieval_score:.2f}"
    if decision.action is Action.ANSWER and decision.reply:
        sources = _citations(decision)
        blocks: list[Block] = [section(text) for text in sections(decision.reply, most=MAX_BLOCKS - 3)]
        if sources:
            blocks.append(context("*Sources:* " + " · ".join(sources)))
        blocks += [
            context(confidence),
            ActionsBlock(
                block_id=FEEDBACK_BLOCK,
                elements=[
                    ButtonElement(text="Helpful", action_id=HELPFUL_ACTION, value=decision.contact_id, style="primary"),
                    ButtonElement(text="Not helpful", action_id=NOT_HELPFUL_ACTION, value=decision.contact_id),
                ],
            ),
        ]
        return message(plain_text(decision.reply), blocks)
    text = (
        "I couldn't find a confident answer in the knowledge base for this "
        f"(`{decision.reason}`). This topic belongs to tier *{decision.tier}*: try rephrasing, or ask there."
    )
    return message(text, [section(text), context(confidence)])


def _handoff_blocks(decision: Decision, link: str | None) -> list[Block]:
    assert decision.handoff is not None
    handoff = decision.handoff
    facts = [
        ("First response due", slack_date(handoff.first_response_due)),
        ("Resolve by", slack_date(handoff.resolution_due)),
        ("Category", f"`{decision.category}` ({escape(decision.group)})"),
        ("Conversation", f"<{link}|Open in Intercom>" if link else escape(decision.conversation_id or "n/a")),
    ]
    if decision.deadlines:  # agents only: the internal SAR clock too
        clocks = sorted(decision.deadlines, key=lambda d: d.due)
        lines = [f"`{d.id}`{' (internal)' if d.internal else ''} due {slack_date(d.due)}" for d in clocks]
        facts.insert(2, ("Regulatory clocks", "\n".join(lines)))
    return [
        header(f"Hand-off → {decision.tier}: {decision.category}"),
        section(escape(with_clocks(handoff.summary, decision.deadlines))),
        SectionBlock(fields=fields(facts)),
    ]


def handoff_message(decision: Decision, *, app_id: str | None) -> Message:
    """A hand-off posted to its tier's channel: summary, SLA deadlines, Intercom link and a Claim button."""
    link = intercom_url(app_id, decision.conversation_id)
    buttons = [ButtonElement(text="Claim", action_id=CLAIM_ACTION, value=decision.contact_id, style="primary")]
    if link:
        buttons.append(ButtonElement(text="Open in Intercom", action_id=OPEN_ACTION, url=link))
    blocks = [*_handoff_blocks(decision, link), ActionsBlock(block_id=CLAIM_BLOCK, elements=buttons)]
    return message(f"Hand-off to {decision.tier}: {decision.category} ({decision.contact_id})", blocks)


def claimed_message(decision: Decision, *, app_id: str | None, user_id: str, at: datetime) -> Message:
    """The hand-off message once claimed: the Claim button replaced by who claimed it and when."""
    link = intercom_url(app_id, decision.conversation_id)
    blocks = [*_handoff_blocks(decision, link), context(f":raising_hand: Claimed by <@{user_id}> {slack_date(at)}")]
    return message(f"Hand-off to {decision.tier} claimed by <@{user_id}>", blocks)


def alert_message(alert: Alert) -> Message:
    """An alert (SLA warning or breach, spike, digest) as a message."""
    icon = {"sla_warning": ":warning:", "sla_breach": ":rotating_light:", "spike": ":chart_with_upwards_trend:"}
    blocks: list[Block] = [section(f"{icon.get(alert.kind, ':bell:')} *{escape(alert.title)}*")]
    chunks = [alert.text[i : i + SECTION_TEXT] for i in range(0, len(alert.text), SECTION_TEXT)][:20]
    blocks += [section(chunk) for chunk in chunks]
    if alert.examples:
        blocks += [DividerBlock(), context(*(f"“{escape(truncate(e, 300))}”" for e in alert.examples[:5]))]
    return message(f"{alert.title}\n{alert.text}", blocks)
