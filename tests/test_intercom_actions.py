"""Planning Intercom outbox actions from decisions (pure), and mapping Intercom failures onto the delivery contract."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from intercom.core.api_error import ApiError

from automations.delivery import PermanentFailure, RetryLater
from automations.models import Action, Channel, Decision, Handoff
from bot.intercom.actions import FEEDBACK_PROMPT, IntercomPayload, conversation_ref, plan_actions
from bot.intercom.sender import delivery_error, retry_after
from bot.settings import Settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TEAMS = {"INTERCOM_TEAM_T1": "9001", "INTERCOM_TEAM_FRAUD": "9004"}


def settings(**extra: str) -> Settings:
    return Settings(**{**TEAMS, **extra})  # type: ignore[arg-type]


BASE = Decision(
    contact_id="intercom:c-1", channel=Channel.CUSTOMER, text="where is my card", category="card_arrival",
    group="cards", confidence=0.93, action=Action.ANSWER, tier="bot", reason="answered", decided_at=T0,
    conversation_id="intercom:215", source="intercom",
    reply="Cards arrive within 5 working days.\n\nTrack it in the app.",
    article_id="card-delivery", article_url="https://help.example.test/card-delivery?a=1&b=2",
)  # fmt: skip


def answered(**kw: object) -> Decision:
    return replace(BASE, **kw)  # type: ignore[arg-type]


def handed_off(tier: str = "fraud", **kw: object) -> Decision:
    handoff = Handoff(
        tier=tier, reason="safety:suspected_fraud", summary="Customer reports an unknown payment.\nTried: nothing",
        first_response_due=T0 + timedelta(minutes=15), resolution_due=T0 + timedelta(hours=4),
    )  # fmt: skip
    return answered(
        contact_id="intercom:c-2", action=Action.HANDOFF, tier=tier, reason="safety:suspected_fraud",
        category="suspected_fraud", reply=None, article_id=None, article_url=None, handoff=handoff, **kw,
    )  # fmt: skip


def payloads(actions: list) -> list[IntercomPayload]:  # type: ignore[type-arg]
    return [IntercomPayload.from_json(a.payload) for a in actions]


def test_an_answer_is_a_reply_with_citation_and_feedback_prompt_then_tags() -> None:
    actions = plan_actions(answered(), settings(), silenced=False)
    assert [a.key for a in actions] == [
        "intercom:intercom:c-1:reply",
        "intercom:intercom:c-1:tag:autopilot:card_arrival",
        "intercom:intercom:c-1:tag:autopilot:answered",
    ]
    assert {a.target for a in actions} == {"intercom"}
    reply, *tags = payloads(actions)
    assert reply.kind == "reply" and reply.conversation_id == "215"
    assert reply.body is not None
    assert "Cards arrive within 5 working days." in reply.body and "Track it in the app." in reply.body
    assert 'href="https://help.example.test/card-delivery?a=1&amp;b=2"' in reply.body
    assert reply.body.endswith(f"<p>{FEEDBACK_PROMPT}</p>")
    assert [t.tag for t in tags] == ["autopilot:card_arrival", "autopilot:answered"]
    # planned order survives the outbox's "oldest first, then key" claim order
    assert [a.created_at for a in actions] == sorted(a.created_at for a in actions)
    assert len({a.created_at for a in actions}) == len(actions)


def test_no_feedback_prompt_after_the_customer_confirmed() -> None:
    decision = answered(reason="customer_confirmed", reply="Glad that helped!", article_url=None)
    body = payloads(plan_actions(decision, settings(), silenced=False))[0].body or ""
    assert body == "<p>Glad that helped!</p>"


def test_reply_text_is_html_escaped() -> None:
    decision = answered(reply="Use <script>alert(1)</script> & enjoy", article_url=None)
    body = payloads(plan_actions(decision, settings(), silenced=False))[0].body or ""
    assert "<script>" not in body and "&lt;script&gt;" in body and "&amp; enjoy" in body
    assert "href" not in body  # no citation without a URL


def test_a_handoff_is_a_note_an_assignment_to_the_tier_team_and_tags() -> None:
    actions = plan_actions(handed_off("fraud"), settings(), silenced=False)
    kinds = [(a.kind, a.key.rsplit(":c-2:", 1)[1]) for a in actions]
    assert kinds == [
        ("note", "note"),
        ("assign", "assign"),
        ("tag", "tag:autopilot:suspected_fraud"),
        ("tag", "tag:autopilot:handed_off"),
    ]
    note, assign, *_ = payloads(actions)
    assert note.body is not None
    assert "Customer reports an unknown payment.<br>Tried: nothing" in note.body
    assert "fraud" in note.body and "2026-03-02T09:15" in note.body
    assert assign.team_id == "9004" and assign.conversation_id == "215"
    assert not any(p.kind == "reply" for p in payloads(actions))  # nothing is said to the customer by the bot


def test_a_tier_without_a_team_falls_back_to_t1_and_no_team_means_no_assignment() -> None:
    assert payloads(plan_actions(handed_off("legal"), settings(), silenced=False))[1].team_id == "9001"
    kinds = [a.kind for a in plan_actions(handed_off("legal"), Settings(), silenced=False)]
    assert kinds == ["note", "tag", "tag"]


def test_silenced_conversations_only_get_the_category_tag() -> None:
    for decision in (answered(), handed_off()):
        actions = plan_actions(decision, settings(), silenced=True)
        assert [p.kind for p in payloads(actions)] == ["tag"]
        assert payloads(actions)[0].tag == f"autopilot:{decision.category}"


def test_planning_is_deterministic_and_ignores_other_channels() -> None:
    first = plan_actions(handed_off(), settings(), silenced=False)
    assert first == plan_actions(handed_off(), settings(), silenced=False)
    assert plan_actions(answered(conversation_id="slack:C1/123"), settings(), silenced=False) == []
    assert plan_actions(answered(conversation_id=None), settings(), silenced=False) == []
    assert conversation_ref("intercom:") is None and conversation_ref("intercom:42") == "42"


def test_payload_round_trip_and_rejection() -> None:
    payload = IntercomPayload("1", "tag", tag="autopilot:x")
    assert IntercomPayload.from_json(payload.to_json()) == payload
    assert json.loads(payload.to_json()) == {"conversation_id": "1", "kind": "tag", "tag": "autopilot:x"}
    with pytest.raises(ValueError, match="conversation_id"):
        IntercomPayload.from_json('{"kind": "reply"}')


def test_retry_after_header_forms() -> None:
    now = 1_800_000_000.0
    assert retry_after({"Retry-After": "7"}, now=now) == 7.0
    date = format_datetime(datetime.fromtimestamp(now + 30, tz=UTC), usegmt=True)
    assert retry_after({"retry-after": date}, now=now) == pytest.approx(30.0)
    assert retry_after({"X-RateLimit-Reset": str(int(now + 12))}, now=now) == 12.0
    assert retry_after({}, now=now) is None


@pytest.mark.parametrize(
    ("status", "expected"),
    [(429, RetryLater), (500, RetryLater), (502, RetryLater), (503, RetryLater), (401, RetryLater),
     (400, PermanentFailure), (403, PermanentFailure), (404, PermanentFailure), (422, PermanentFailure)],
)  # fmt: skip
def test_http_statuses_map_to_retry_or_permanent(status: int, expected: type[Exception]) -> None:
    mapped = delivery_error(ApiError(status_code=status, headers={"Retry-After": "3"}, body={"type": "error.list"}))
    assert isinstance(mapped, expected)
    if isinstance(mapped, RetryLater):
        assert mapped.retry_after == 3.0


def test_transport_failures_are_retried_and_a_2xx_the_sdk_could_not_parse_counts_as_done() -> None:
    assert isinstance(delivery_error(httpx.ReadTimeout("slow")), RetryLater)
    assert isinstance(delivery_error(httpx.ConnectError("refused")), RetryLater)
    assert delivery_error(ApiError(status_code=200, headers={}, body="not json")) is None
    assert delivery_error(KeyError("x")) is None
