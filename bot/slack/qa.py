"""QA in Slack: the weekly calibration sample with grade buttons, and the managers' grades.

Each sampled conversation is one message: the transcript (redacted), the scorer's verdict on each criterion and on
critical fails, and a pass / fail button pair per criterion. A click records a
:class:`~automations.qa.records.ManagerGrade` beside the scorer's value (managers only); a later click by the same
manager on the same criterion supersedes the earlier one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock

from automations.ports import Clock
from automations.qa.calibration import CRITICAL_CRITERION
from automations.qa.records import CapturedTurn, ManagerGrade, QaRecords, ScoredConversation, TurnKind
from automations.queues import OutboxAction
from bot.slack.blocks import context, escape, header, message, section, truncate

__all__ = ["GRADE_ACTION", "calibration_action", "calibration_message", "register_qa_grades"]

log = logging.getLogger("autopilot.slack")

GRADE_ACTION = "qa_grade"
_VERDICT = {1.0: ":white_check_mark: pass", 0.0: ":x: fail", None: "n/a"}


def _button(text: str, value: dict[str, Any], action: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=text, action_id=action, value=json.dumps(value, separators=(",", ":")), style=style)


def calibration_message(scored: ScoredConversation, turns: Sequence[CapturedTurn]) -> dict[str, Any]:
    """The Block Kit message asking a manager to grade one scored conversation."""
    r = scored.result
    who = scored.agent_name or r.agent_id or "bot"
    lines = [f"*{t.author}*: {escape(truncate(t.text, 400))}" for t in turns if t.kind == TurnKind.MESSAGE and t.text][
        :12
    ]
    blocks: list[Block] = [
        header(f"QA calibration: {truncate(who, 60)}, score {r.score}"),
        section("\n".join(lines) or "_no messages captured_"),
        DividerBlock(),
    ]
    fails = ", ".join(r.critical_fails) or "none"
    blocks.append(section(f"*Critical fails (scorer)*: {fails}"))
    key = {"c": scored.conversation_id, "k": CRITICAL_CRITERION, "s": 1.0 if r.critical_fails else 0.0}
    blocks.append(ActionsBlock(block_id=f"qa:{CRITICAL_CRITERION}", elements=[
        _button("Has a critical fail", {**key, "v": 1}, f"{GRADE_ACTION}:{CRITICAL_CRITERION}:1", "danger"),
        _button("No critical fail", {**key, "v": 0}, f"{GRADE_ACTION}:{CRITICAL_CRITERION}:0"),
    ]))  # fmt: skip
    for criterion, value in r.criteria.items():
        evidence = r.evidence.get(criterion, "")
        text = f"*{criterion}* (scorer: {_VERDICT.get(value, value)})"
        blocks.append(section(text + (f"\n> {escape(truncate(evidence, 300))}" if evidence else "")))
        key = {"c": scored.conversation_id, "k": criterion, "s": value}
        blocks.append(ActionsBlock(block_id=f"qa:{criterion}", elements=[
            _button("Pass", {**key, "v": 1}, f"{GRADE_ACTION}:{criterion}:1", "primary"),
            _button("Fail", {**key, "v": 0}, f"{GRADE_ACTION}:{criterion}:0"),
        ]))  # fmt: skip
    blocks.append(context("Your grades calibrate the scorer; agreement is tracked in the weekly report."))
    return message(f"QA calibration: {who}, score {r.score}", blocks).to_json()


def calibration_action(
    scored: ScoredConversation, turns: Sequence[CapturedTurn], *, week: str, clock: Clock
) -> OutboxAction:
    """The outbox action posting one calibration message to the digest channel, keyed per week and conversation."""
    payload = {"tier": None, "thread_of": None, "user": None, "title": "QA calibration", "kind": "qa_calibration",
               **calibration_message(scored, turns)}  # fmt: skip
    return OutboxAction(
        key=f"slack:qa_calibration:{week}:{scored.conversation_id}", target="slack", kind="post_alert",
        payload=json.dumps(payload), created_at=clock.now(),
    )  # fmt: skip


def register_qa_grades(app: AsyncApp, *, records: QaRecords, clock: Clock, allowed: Any) -> None:
    """The grade buttons: ``allowed(user_id)`` (the managers' check) decides who may grade."""
    import re

    @app.action(re.compile(rf"^{GRADE_ACTION}:"))
    async def grade(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        user = body["user"]["id"]
        if not await allowed(user):
            await respond(text="Only managers grade QA calibration.", response_type="ephemeral",
                          replace_original=False)  # fmt: skip
            return
        try:
            value = json.loads(body["actions"][0]["value"])
            conversation, criterion = str(value["c"]), str(value["k"])
            given, scorer = float(value["v"]), value.get("s")
        except (KeyError, ValueError, TypeError, json.JSONDecodeError):
            log.warning("malformed QA grade from %s", user)
            return
        grade = ManagerGrade(conversation, user, criterion, given, clock.now(),
                             None if scorer is None else float(scorer))  # fmt: skip
        await records.add_grade(grade)
        verdict = "agrees with" if grade.scorer_value is not None and grade.scorer_value == given else "differs from"
        await respond(text=f"Recorded: {criterion} {'pass' if given else 'fail'} ({verdict} the scorer).",
                      response_type="ephemeral", replace_original=False)  # fmt: skip
