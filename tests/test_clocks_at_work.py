"""Regulatory clocks at work (issue 17, item 3): shown on every hand-off surface, kept running and audited, chased
by the breach job and the SLA alerts under a controllable clock, listed by ``/cx clocks`` and reported by rule."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from automations.alerts import RecordingAlertSink
from automations.audit import MemoryAuditTrail
from automations.deadlines import ClockState, MemoryRegulatoryClocks
from automations.fakes import SettableClock
from automations.models import Action, Channel, Contact, Deadline, Decision, Handoff
from automations.outcomes import OutcomeTracker
from automations.reports.clocks import RegulatoryDeadlines, at_risk_first, tighten
from automations.reports.extras import ReportExtras
from automations.reports.sla import sla_nearest_breach
from automations.reports.values import SlaDeadline
from bot.intercom.actions import note_body
from bot.scheduler import Ticker, job_specs
from bot.settings import Settings
from bot.slack.blocks import handoff_message
from bot.slack.dashboards import clock_blocks
from evals.intercom_payloads import admin_closed, user_created
from store import SqlAuditTrail, SqlEventStore, SqlRegulatoryClocks, SqlReportSource
from store.conversations import SqlConversations
from tests.testbot import TestBot, make_testbot

ET = timezone(timedelta(hours=-5))
H = timedelta(hours=1)
PRIVACY = "Under GDPR, please send me a copy of all the personal data you hold about me."
SUBPOENA = "We served a subpoena on Lumen; the return date is December 18, 2026. Produce the account records."
UNDATED = "We served a subpoena on Lumen. Produce the account records of this customer."


def handoff(cid: str, category: str, tier: str, at: datetime, *, first: timedelta, resolve: timedelta) -> Decision:
    return Decision(
        contact_id=cid, channel=Channel.CUSTOMER, text=f"question {cid}", category=category, group="any",
        confidence=0.7, action=Action.HANDOFF, tier=tier, reason="sensitive_category", decided_at=at,
        customer_id=f"cus-{cid}", source="email",
        handoff=Handoff(tier, "sensitive_category", "s", first_response_due=at + first, resolution_due=at + resolve),
    )  # fmt: skip


def contact(text: str, n: int, *, jurisdiction: str = "GB", customer: str = "cust-1", at: datetime) -> Contact:
    return Contact(id=f"pg:{n}", text=text, customer_id=customer, source="playground", received_at=at,
                   jurisdiction=jurisdiction, conversation_id=f"intercom:conv-{n}")  # fmt: skip


async def test_every_handoff_surface_shows_each_clock(testbot: TestBot) -> None:
    at = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
    decision = await testbot.service.context.core.pipeline.handle(contact(PRIVACY, 1, at=at))
    assert decision.action is Action.HANDOFF and decision.handoff is not None
    [clock] = decision.deadlines
    assert (clock.id, clock.due) == (
        "privacy_request",
        datetime(2026, 2, 28, 23, 59, 59, tzinfo=UTC),
    )  # Jan 31 + 1 month
    summary = decision.handoff.summary
    assert "Regulatory clocks:" in summary and "privacy_request, owned by compliance: due Sat 28 Feb 2026" in summary
    assert "UK GDPR Art. 12(3)" in summary
    note = note_body(decision, decision.handoff)
    assert "Regulatory deadline: privacy_request due Sat 28 Feb 2026 23:59 UTC+00:00" in note
    post = json.dumps(handoff_message(decision, app_id="abc").to_json())
    assert "*Regulatory clocks*" in post and "`privacy_request` due <!date^" in post
    # the clock is running and its start is audited, once however often the contact comes back
    await testbot.service.context.core.pipeline.handle(contact(PRIVACY, 1, at=at))
    [running] = await testbot.clocks.find(contact_id="pg:1")
    assert running.state is ClockState.OPEN and running.started_at == at and running.customer_id == "cust-1"
    assert [(e.kind, e.subject) for e in testbot.audit.rows] == [("clock.started", "pg:1:privacy_request")]


async def test_the_slack_handoff_post_and_intercom_note_show_the_clock_end_to_end(testbot: TestBot) -> None:
    now = int(testbot.clock.now().timestamp())
    await testbot.intercom(user_created("conv-s", SUBPOENA, created_at=now))
    [post] = [a for a in testbot.effects("slack") if a.kind == "post_handoff"]
    rendered = json.dumps(json.loads(post.payload)["blocks"])
    assert "legal_process_return_date" in rendered and "Regulatory clocks" in rendered
    [note] = [p for p in testbot.payloads("intercom") if p["kind"] == "note"]
    assert "legal_process_return_date" in note["body"] and "Fri 18 Dec 2026" in note["body"]
    # closing the conversation meets its clocks, and the audit trail says so
    await testbot.intercom(admin_closed("conv-s", created_at=now + 3600))
    [clock] = await testbot.clocks.find(conversation_id="intercom:conv-s")
    assert clock.state is ClockState.MET
    assert [e.kind for e in testbot.audit.rows] == ["clock.started", "clock.met"]


async def test_a_close_leaves_the_internal_sar_clock_running(tmp_path: Path) -> None:
    async with make_testbot(tmp_path, keywords={"launder": ("aml_compliance", 0.95)}) as bot:
        now = int(bot.clock.now().timestamp())
        await bot.intercom(user_created("conv-a", "you think I launder money via my account, explain", created_at=now))
        await bot.intercom(admin_closed("conv-a", created_at=now + 60))
        [sar] = await bot.clocks.find(conversation_id="intercom:conv-a")
        assert sar.rule == "sar_decision" and sar.state is ClockState.OPEN


async def test_the_breach_job_warns_at_each_threshold_and_breaches_once(store: SqlEventStore) -> None:
    clock = SettableClock(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))  # Monday
    t0 = clock.now()
    audit = SqlAuditTrail(store.engine)
    clocks = SqlRegulatoryClocks(store.engine, audit)
    due = datetime(2026, 3, 16, 23, 59, 59, tzinfo=ET)  # Reg E: 10 business days
    reg_e = Deadline("reg_e_error_resolution", due, "12 CFR 1005.11(c)(1)", tier="fraud")
    fraud = replace(handoff("h1", "card_payment_not_recognised", "fraud", t0, first=H, resolve=30 * 24 * H),
                    deadlines=(reg_e,))  # fmt: skip
    await store.record_decisions([fraud])
    await clocks.start(fraud)
    sink = RecordingAlertSink()
    specs = job_specs(reports=SqlReportSource(store.engine), tracker=OutcomeTracker(store), sink=sink, start=t0,
                      clocks=clocks, warn_at={"reg_e_error_resolution": (0.5, 0.8)})  # fmt: skip
    assert "regulatory_clocks" in [s.id for s in specs]
    jobs = {s.id: s for s in specs}
    every_minute = Ticker([jobs["regulatory_clocks"]], since=t0)
    assert await every_minute.advance_to(t0 + timedelta(minutes=2)) == ["regulatory_clocks"] * 3
    window = due - t0

    async def at(moment: datetime) -> set[str]:
        """The minute's runs of the breach job and the SLA alerts at ``moment`` (of the settable clock)."""
        clock.advance(moment - clock.now())
        await jobs["regulatory_clocks"].run(clock.now())
        await jobs["sla_alerts"].run(clock.now())
        return {a.key for a in sink.alerts if a.key.startswith("clock:")}

    assert await at(t0 + window * 0.49) == set()
    assert await at(t0 + window * 0.5 + timedelta(minutes=1)) == {"clock:h1:reg_e_error_resolution:50"}
    assert await at(t0 + window * 0.8 + timedelta(minutes=1)) == {
        "clock:h1:reg_e_error_resolution:50", "clock:h1:reg_e_error_resolution:80",
    }  # fmt: skip
    # the hand-off's 30-day resolution SLA never alerts on its own: the tighter Reg E deadline stands in for it
    assert not [a for a in sink.alerts if a.key.startswith("sla:h1:resolution")]
    keys = await at(due + timedelta(minutes=2))
    assert "clock:h1:reg_e_error_resolution:breach" in keys
    breach = next(a for a in sink.alerts if a.key == "clock:h1:reg_e_error_resolution:breach")
    assert breach.tier == "fraud" and breach.thread_of == "h1" and "Mon 16 Mar 2026 23:59 UTC-05:00" in breach.text
    await at(due + 3 * H)
    assert [e.kind for e in await audit.events(subject="h1:reg_e_error_resolution")] == [
        "clock.started", "clock.breached",
    ]  # fmt: skip
    [late] = await clocks.find(contact_id="h1")
    assert late.state is ClockState.BREACHED
    # an agent closes it two days late: missed, and audited
    await SqlConversations(store.engine).closed("intercom:x", at=due + 48 * H)
    done = await clocks.met("h1", "reg_e_error_resolution", at=due + 48 * H, actor="U42")
    assert done is not None and done.state is ClockState.MISSED


class Deadlines:
    """A report source that only knows the open hand-off deadlines."""

    def __init__(self, rows: list[SlaDeadline]) -> None:
        self.rows = rows

    async def open_deadlines(self, now: datetime, *, due_after: datetime) -> list[SlaDeadline]:
        return [replace(r, now=now) for r in self.rows if r.due >= due_after]


async def test_sla_alerts_use_the_regulatory_deadline_when_it_is_tighter() -> None:
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    clocks = MemoryRegulatoryClocks()
    review = Deadline("legal_process_review", datetime(2026, 3, 4, 23, 59, 59, tzinfo=UTC), "2 business days",
                      tier="legal")  # fmt: skip
    later = Deadline("cfpb_complaint_response", t0 + 15 * 24 * H, "15 days", tier="compliance")
    legal = replace(handoff("L1", "legal_request", "legal", t0, first=2 * H, resolve=5 * 24 * H), deadlines=(review,))
    cfpb = replace(handoff("C1", "regulatory_complaint", "compliance", t0, first=2 * H, resolve=8 * 24 * H),
                   deadlines=(later,))  # fmt: skip
    for d in (legal, cfpb):
        await clocks.start(d)
    rows = [
        SlaDeadline("L1", "legal", "legal_request", "resolution", t0, t0 + 5 * 24 * H, t0),
        SlaDeadline("L1", "legal", "legal_request", "first_response", t0, t0 + 2 * H, t0),
        SlaDeadline("C1", "compliance", "regulatory_complaint", "resolution", t0, t0 + 8 * 24 * H, t0),
    ]
    tightened = tighten(rows, await clocks.open(t0))
    assert [(d.contact_id, d.kind, d.rule) for d in tightened] == [
        ("L1", "resolution", "legal_process_review"), ("L1", "first_response", None), ("C1", "resolution", None),
    ]  # fmt: skip
    assert tightened[0].due == review.due and tightened[2].due == t0 + 8 * 24 * H  # CFPB's 15 days is not tighter
    from automations.reports.sla import sla_alerts

    sink = RecordingAlertSink()
    source = Deadlines(rows)
    await sla_alerts(source, sink, review.due + timedelta(minutes=1), clocks=clocks)  # type: ignore[arg-type]
    breach = next(a for a in sink.alerts if a.kind == "sla_breach" and a.thread_of == "L1" and "review" in a.key)
    assert breach.key == "clock:L1:legal_process_review:breach"
    assert breach.title == "Regulatory deadline breached: legal_process_review for L1"
    nearest = await sla_nearest_breach(source, t0 + 24 * H, clocks=clocks)  # type: ignore[arg-type]
    assert [d.rule for d in nearest if d.contact_id == "L1" and d.kind == "resolution"] == ["legal_process_review"]


async def test_clocks_at_risk_come_first_then_by_due_date() -> None:
    t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    clocks = MemoryRegulatoryClocks(MemoryAuditTrail())
    plan = {"calm-early": 10, "risky-late": 5, "overdue": 1, "calm-late": 40}
    starts = {"calm-early": t0, "risky-late": t0 - 4 * 24 * H, "overdue": t0 - 3 * 24 * H, "calm-late": t0}
    for cid, days in plan.items():
        due = starts[cid] + days * 24 * H
        d = replace(handoff(cid, "regulatory_complaint", "compliance", starts[cid], first=H, resolve=24 * H),
                    deadlines=(Deadline("cfpb_complaint_response", due, "15 days", tier="compliance"),))  # fmt: skip
        await clocks.start(d, received_at=starts[cid])
    rows = at_risk_first(await clocks.open(t0), t0, {"cfpb_complaint_response": (0.5, 0.8)})
    assert [(c.contact_id, risky) for c, risky in rows] == [
        ("overdue", True), ("risky-late", True), ("calm-early", False), ("calm-late", False),
    ]  # fmt: skip
    rendered = json.dumps([b.to_dict() for b in clock_blocks(rows, t0)])
    assert rendered.index("`overdue`") < rendered.index("`risky-late`") < rendered.index("`calm-early`")
    assert "overdue by 2.0d" in rendered and "4 open, 2 at risk" in rendered


async def test_cx_clocks_lists_open_clocks_at_risk_first(testbot: TestBot) -> None:
    pipeline, now = testbot.service.context.core.pipeline, testbot.clock.now()
    await pipeline.handle(contact(PRIVACY, 1, at=now - 27 * 24 * H))  # one month from receipt: 3 days left, at risk
    await pipeline.handle(contact(PRIVACY, 2, at=now - 24 * H, customer="cust-2", jurisdiction="ZA"))  # POPIA
    await pipeline.handle(contact(UNDATED, 3, at=now - 5 * 24 * H, jurisdiction="US"))  # 2 business days: overdue
    response = await testbot.slack.command("clocks", user="UMANAGER")
    assert "Working on" in response.json()["text"]
    [reply] = await testbot.slack.fake.wait_for("respond")
    blocks = reply.params["blocks"]
    rendered = json.dumps(json.loads(blocks) if isinstance(blocks, str) else blocks)
    order = [rendered.index(f"`pg:{n}`") for n in (3, 1, 2)]
    assert order == sorted(order), rendered  # overdue, then at risk, then the POPIA clock with weeks left
    assert "legal_process_review" in rendered and "privacy_request" in rendered
    assert "3 open, 2 at risk" in rendered
    refused = await testbot.slack.command("clocks", user="UAGENT")
    assert "only available to support managers" in refused.json()["text"]


def test_the_report_section_lines_and_json() -> None:
    from automations.deadlines import ClockCount

    section = RegulatoryDeadlines((ClockCount("privacy_request", met=3, missed=1, open=2, stopped=1),))
    [line] = section.lines()
    assert line.startswith("*privacy_request*: 3 met, 1 missed, 2 open") and "1 stopped" in line
    assert section.to_json() == [
        {"rule": "privacy_request", "met": 3, "missed": 1, "open": 2, "stopped": 1, "total": 6}
    ]
    extras = ReportExtras(regulatory=section)
    assert ("Regulatory deadlines", section.lines()) in extras.sections()
    assert extras.to_json()["regulatory_deadlines"] == section.to_json()
    assert RegulatoryDeadlines().lines() == ["No regulatory clock started in this period."]
    assert "regulatory_deadlines" not in ReportExtras().to_json()


@pytest.fixture
async def clock_history(settings: Settings) -> dict[str, str]:
    """The configured SQLite database with a few clocks started this week: met, missed, open and stopped."""
    store = await SqlEventStore.open(settings.db_url)
    try:
        clocks = SqlRegulatoryClocks(store.engine, SqlAuditTrail(store.engine))
        now = datetime.now(UTC)
        start = now - 3 * 24 * H
        for n, (rule, days) in enumerate([("privacy_request", 30), ("privacy_request", 30), ("legal_process_review", 1),
                                          ("reg_e_error_resolution", 14)]):  # fmt: skip
            d = Deadline(rule, start + days * 24 * H, "basis", tier="compliance")
            decision = replace(handoff(f"r{n}", "data_privacy_request", "compliance", start, first=H, resolve=H),
                               deadlines=(d,))  # fmt: skip
            await clocks.start(decision)
        await clocks.met("r3", "reg_e_error_resolution", at=now - H)
        await clocks.stop_for_customer("cus-r1", "privacy_request", at=now - H, reason="privacy export")
    finally:
        await store.close()
    return {"AUTOPILOT_DATA_DIR": str(settings.data_dir), "CHROMA_PATH": str(settings.chroma_dir)}


def test_autopilot_report_has_a_regulatory_deadlines_section(clock_history: dict[str, str]) -> None:
    from bot.cli_reports import register

    app = typer.Typer()
    register(app)
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, ["report", "--period", "7d", *args], env=clock_history)
        assert result.exit_code == 0, result.output
        return result.stdout

    doc = json.loads(run("--format", "json"))
    assert {r["rule"]: (r["met"], r["missed"], r["open"], r["stopped"]) for r in doc["regulatory_deadlines"]} == {
        "legal_process_review": (0, 1, 0, 0), "privacy_request": (1, 0, 1, 1), "reg_e_error_resolution": (1, 0, 0, 0),
    }  # fmt: skip
    markdown = run()
    assert "## Regulatory deadlines" in markdown and "*privacy_request*: 1 met, 0 missed, 1 open" in markdown
    assert "Regulatory deadlines" in run("--format", "html")


def test_autopilot_clocks_lists_and_records_one_met(clock_history: dict[str, str], settings: Settings) -> None:
    from bot.cli_clocks import app

    runner = CliRunner()
    listed = runner.invoke(app, ["list", "--json"], env=clock_history)
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["contact_id"], r["rule"], r["at_risk"]) for r in rows] == [
        ("r2", "legal_process_review", True), ("r0", "privacy_request", False),
    ]  # fmt: skip
    done = runner.invoke(app, ["met", "r0", "privacy_request", "--by", "alice"], env=clock_history)
    assert done.exit_code == 0 and "privacy_request for r0: met" in done.stdout, done.output
    assert runner.invoke(app, ["met", "r0", "privacy_request", "--by", "alice"], env=clock_history).exit_code == 1
    assert runner.invoke(app, ["met", "r2", "legal_process_review", "--by", "a", "--at", "2026-03-16"],
                         env=clock_history).exit_code == 2  # no offset  # fmt: skip
    assert [r["contact_id"] for r in json.loads(runner.invoke(app, ["list", "--json"], env=clock_history).stdout)] == [
        "r2"
    ]

    async def audited() -> list[tuple[str, str]]:
        store = await SqlEventStore.open(settings.db_url)
        try:
            return [(e.kind, e.actor) for e in await SqlAuditTrail(store.engine).events(subject="r0:privacy_request")]
        finally:
            await store.close()

    assert asyncio.run(audited()) == [("clock.started", "system"), ("clock.met", "alice")]
