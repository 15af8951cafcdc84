"""Regulatory clocks through the production wiring (real core, SQL clocks and audit trail on SQLite and PostgreSQL,
Slack on its fake Web API): the hand-off post shows each clock and ``/cx clocks`` lists them, at-risk first."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from automations.deadlines import ClockState
from automations.models import Action, Contact
from bot.settings import Settings
from store import SqlAuditTrail
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_stack import MANAGER, slack_settings, slack_stack

pytestmark = pytest.mark.slow

REG_E = "Someone made payments from my account that I did not authorise, please investigate the missing money"
PRIVACY = "Under GDPR I want a copy of all the personal data you hold about me, please."


@pytest.fixture
def fake():  # type: ignore[no-untyped-def]
    with FakeSlackApi() as server:
        yield server


def blocks_of(call) -> list[dict]:  # type: ignore[no-untyped-def]
    raw = call.params["blocks"]
    return json.loads(raw) if isinstance(raw, str) else raw


async def test_the_handoff_post_shows_the_clock_and_cx_clocks_lists_it(  # type: ignore[no-untyped-def]
    settings: Settings, make_core, fake, store_url: str
) -> None:
    async with slack_stack(slack_settings(settings, fake, database_url=store_url), make_core, fake) as stack:
        context = stack.service.context
        now = context.clock.now()
        fraud = Contact(id="ic:1", text=REG_E, customer_id="cust-1", conversation_id="intercom:215",
                        source="intercom", received_at=now - timedelta(days=20), jurisdiction="US")  # fmt: skip
        privacy = Contact(id="ic:2", text=PRIVACY, customer_id="cust-2", conversation_id="intercom:216",
                          source="intercom", received_at=now - timedelta(days=1), jurisdiction="DE")  # fmt: skip
        decisions = [await context.core.pipeline.handle(c) for c in (fraud, privacy)]
        assert all(d.action is Action.HANDOFF for d in decisions)
        assert [d.deadlines[0].id for d in decisions] == ["reg_e_error_resolution", "privacy_request"]
        await context.outbox.enqueue(context.effects.handoff_actions(decisions[0]))
        [post] = await fake.wait_for("chat.postMessage", within=30)
        rendered = json.dumps(blocks_of(post))
        assert "Regulatory clocks" in rendered and "reg_e_error_resolution" in rendered
        assert "12 CFR 1005.11(c)(1)" in rendered
        # the clocks are in the database, and their starts in the audit trail
        clocks = context.core.clocks
        assert clocks is not None
        assert [c.state for c in await clocks.find(customer_id="cust-1")] == [ClockState.OPEN]
        audit = SqlAuditTrail(context.core.store.engine)  # type: ignore[attr-defined]
        assert [e.subject for e in await audit.events(kind_prefix="clock.")] == [
            "ic:1:reg_e_error_resolution", "ic:2:privacy_request",
        ]  # fmt: skip
        await stack.slack.command("clocks", user=MANAGER)
        [reply] = await fake.wait_for("respond", within=30)
        listed = json.dumps(blocks_of(reply))
        # twenty days after the notice, ten business days are gone: overdue, at risk, so listed first
        assert listed.index("`reg_e_error_resolution`") < listed.index("`privacy_request`")
        assert "2 open, 1 at risk" in listed and "overdue by" in listed
