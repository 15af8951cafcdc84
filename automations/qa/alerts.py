"""Critical-fail alerts to the agent's manager, as :class:`~automations.alerts.Alert` values."""

from __future__ import annotations

from automations.alerts import Alert, AlertSink
from automations.qa.records import ScoredConversation

__all__ = ["QaAlertSink", "critical_fail_alert"]

_NAMES = {
    "asked_for_card_number": "asked for the full card number",
    "asked_for_secret": "asked for a PIN, CVV, passcode, password or one-time code",
    "tipping_off": "tipped off a customer about suspicion or an investigation",
    "shared_third_party_data": "shared another person's data",
    "guaranteed_outcome": "promised an outcome or timeline we cannot guarantee",
}


def critical_fail_alert(scored: ScoredConversation, *, manager: str | None) -> Alert:
    """The alert for a conversation with critical fails: who, what, and the sentence that triggered each."""
    result = scored.result
    who = scored.agent_name or result.agent_id or "an agent"
    lines = [f"*{who}* in conversation `{scored.conversation_id}`"
             + (f" ({scored.category})" if scored.category else "") + ":"]  # fmt: skip
    for fail in result.critical_fails:
        evidence = result.evidence.get(fail, "").replace("\n", " ")
        lines.append(f"• *{fail}*: {_NAMES.get(fail, fail)}\n> {evidence}")
    lines.append("Review it with the agent; the conversation's QA score is 0.")
    return Alert(
        key=f"qa_critical:{scored.conversation_id}", kind="qa_critical_fail",
        title=f"QA critical fail: {who}", text="\n".join(lines), user=manager,
    )  # fmt: skip


class QaAlertSink:
    """:class:`~automations.qa.job.QaAlerts` over an :class:`~automations.alerts.AlertSink` (Slack or the log)."""

    def __init__(self, sink: AlertSink) -> None:
        """Send through ``sink``."""
        self.sink = sink

    async def critical_fail(self, scored: ScoredConversation, *, manager: str | None) -> None:
        """Send the alert (idempotent on the conversation: the sink keys it)."""
        await self.sink.send(critical_fail_alert(scored, manager=manager))
