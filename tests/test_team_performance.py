"""Agent performance, team QA, the skill-gap matrix and the 1:1 pack: the pure computations, on the in-memory fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from automations.configfile import ConfigError
from automations.conversations import AgentEvent, AgentEventKind
from automations.fakes import InMemoryEventStore
from automations.fakes_queues import InMemoryConversations
from automations.models import Action, Channel, Decision, Feedback, Handoff
from automations.qa import QaResult, QaScorer, Transcript, Turn, load_scorecard
from automations.qa.coaching import load_coaching, skill_matrix
from automations.qa.directory import load_directory
from automations.qa.oneonone import choose_reviews
from automations.qa.performance import agent_rows, agreement, team_qa
from automations.qa.records import ManagerGrade, MemoryQaRecords, ScoredConversation
from automations.qa.team import AgentFigures, MemoryAgentActivity
from automations.qa.teamview import TeamView
from automations.taxonomy import load_taxonomy
from bot.demo_team import load_team

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CRITERIA = ("empathy", "resolution", "next_step", "tone")


def scored(cid: str, agent: str, score: int, driver: str = "card_arrival", *, fails: tuple[str, ...] = (),
           failed: tuple[str, ...] = (), hours: float = 0, name: str | None = None) -> ScoredConversation:  # fmt: skip
    criteria: dict[str, float | None] = {c: 0.0 if c in failed else 1.0 for c in CRITERIA}
    evidence = {k: f"evidence of {k} in {cid}" for k in (*fails, *failed)}
    result = QaResult(cid, agent, 0 if fails else score, fails, criteria, evidence)
    at = T0 + timedelta(hours=hours)
    return ScoredConversation(cid, result, at + timedelta(minutes=5), at, name, driver, "t1", "cus", cid)


def test_agent_rows_sum_figures_and_scores_by_agent_and_driver() -> None:
    figures = [
        AgentFigures("a1", "card_arrival", 3, 2, 600.0, 2, 7200.0, 2, 3600.0, 1, 2, 9, 1, 1, 1),
        AgentFigures("a1", "pin_blocked", 1, 1, 300.0, 1, 1800.0, 1, 900.0, 0, 0, 0, 0, 1, 0),
        AgentFigures("b2", "card_arrival", 2, 0, 0.0, 0, 0.0, 0, 0.0, 0),
    ]
    scores = [
        scored("s1", "a1", 100, name="Ana Lima"), scored("s2", "a1", 50, "pin_blocked", failed=("empathy",)),
        scored("s3", "a1", 80, fails=("tipping_off",)), scored("s4", "bot", 90), scored("s5", "c3", 70, name="Cy"),
    ]  # fmt: skip
    rows = agent_rows(figures, scores, {"b2": "Bea"})
    assert [r.name for r in rows] == ["Ana Lima", "Bea", "Cy"]  # name order, the bot left out
    ana = rows[0].overall
    assert (ana.contacts, ana.first_response_s, ana.resolution_s, ana.handle_s) == (4, 300.0, 3000.0, 1500.0)
    assert (ana.reopen_rate, ana.csat, ana.csat_responses, ana.first_response_sla) == (0.333, 4.5, 2, 0.667)
    assert (ana.scored, ana.qa_score, ana.critical_fails, dict(ana.critical_fail_ids)) == (
        3,
        50.0,
        1,
        {"tipping_off": 1},
    )
    assert ana.criteria["empathy"] == pytest.approx(0.667, abs=1e-3)
    card = rows[0].driver("card_arrival")
    assert card is not None and (card.contacts, card.scored, card.qa_score) == (3, 2, 50.0)
    assert rows[1].overall.first_response_s is None and rows[1].overall.qa_score is None
    row = rows[0].to_json()
    assert row["by_driver"][0]["driver"] == "card_arrival" and row["critical_fail_ids"] == {"tipping_off": 1}


def test_team_qa_and_manager_agreement() -> None:
    scores = [scored("s1", "a1", 100), scored("s2", "a1", 60, failed=("tone",)), scored("s3", "bot", 40),
              scored("s4", "b2", 0, fails=("asked_for_secret", "guaranteed_outcome"))]  # fmt: skip
    grades = [
        ManagerGrade("s1", "m1", "tone", 1.0, T0, 1.0), ManagerGrade("s2", "m1", "tone", 1.0, T0, 0.0),
        ManagerGrade("s2", "m2", "tone", 0.0, T0, 0.0), ManagerGrade("s4", "m1", "asked_for_secret", 1.0, T0, 1.0),
    ]  # fmt: skip
    qa = team_qa(scores, grades).to_json()
    assert qa["scored"] == 3 and qa["mean_score"] == pytest.approx(53.3)
    assert qa["critical_fails"] == {"asked_for_card_number": 0, "asked_for_secret": 1, "tipping_off": 0,
                                    "shared_third_party_data": 0, "guaranteed_outcome": 1}  # fmt: skip
    assert qa["criterion_pass_rates"]["tone"] == pytest.approx(0.667, abs=1e-3)
    assert qa["bot"] == {"scored": 1, "mean_score": 40.0, "critical_fails": {}}
    agree = qa["manager_agreement"]
    assert agree["graded"] == 4 and agree["agreement"] == 0.75
    assert agree["by_criterion"]["tone"] == {"graded": 3, "agreement": pytest.approx(0.667, abs=1e-3)}
    assert agree["kappa"] == pytest.approx(0.5)  # observed 0.75, expected 0.5
    assert agreement([]).agreement is None and agreement([]).kappa is None


def test_skill_matrix_flags_gaps_against_the_team_median_with_articles_and_training() -> None:
    rules = load_coaching()
    scores = []
    for agent, value, failed in (("a1", 100, ()), ("b2", 95, ()), ("c3", 60, ("resolution", "next_step"))):
        scores += [scored(f"{agent}-{i}", agent, value, failed=failed) for i in range(rules.min_conversations)]
    scores += [scored("c3-pin", "c3", 100, "pin_blocked")]  # one conversation: too few for a cell
    rows = agent_rows([], scores, {"a1": "Ana", "b2": "Bo", "c3": "Cy"})
    matrix = skill_matrix(rows, scores, load_taxonomy(), rules)
    assert matrix.drivers == ("card_arrival",) and matrix.medians["card_arrival"] == 95.0
    [gap] = matrix.gaps
    assert (gap.agent_id, gap.score, gap.delta, gap.status) == ("c3", 60.0, -35.0, "gap")
    assert set(gap.weak_criteria) == {"resolution", "next_step"} and gap.articles == ("card-delivery",)
    assert rules.training["resolution"] in gap.training and rules.training["next_step"] in gap.training
    assert {c.agent_id: c.status for c in matrix.cells} == {"a1": "even", "b2": "even", "c3": "gap"}
    assert matrix.to_json()["drivers"][0]["agents"]["c3"]["delta"] == -35.0


def test_reviews_put_critical_fails_first_then_other_reasons_then_a_good_example() -> None:
    scores = [
        scored("ok", "a1", 100, hours=1), scored("tone", "a1", 70, failed=("tone",), hours=2),
        scored("tone2", "a1", 65, failed=("tone",), hours=3), scored("crit", "a1", 0, fails=("tipping_off",), hours=4),
        scored("crit2", "a1", 0, fails=("tipping_off",), hours=0),
    ]  # fmt: skip
    reviews = choose_reviews(scores)
    assert [(r.conversation_id, r.kind) for r in reviews] == [("crit", "critical"), ("tone2", "improve"),
                                                             ("ok", "exemplary")]  # fmt: skip
    assert dict(reviews[0].evidence) == {"tipping_off": "evidence of tipping_off in crit"}
    assert dict(reviews[1].evidence) == {"tone": "evidence of tone in tone2"}
    assert [r.conversation_id for r in choose_reviews(scores[1:3])] == ["tone2", "tone"]  # no good one: the lowest


async def test_team_view_builds_a_one_on_one_pack_from_the_fakes() -> None:
    store, conversations, records = InMemoryEventStore(), InMemoryConversations(), MemoryQaRecords()
    for day in (-5, 2, 3):  # one hand-off in the previous week, two in this one
        at = T0 + timedelta(days=day)
        handoff = Handoff("t1", "low_confidence", "", at + timedelta(hours=1), at + timedelta(days=1))
        await store.record_decision(Decision(f"c{day}", Channel.CUSTOMER, "t", "card_arrival", "Cards", 0.9,
                                             Action.HANDOFF, "t1", "low_confidence", at, customer_id=f"u{day}",
                                             handoff=handoff))  # fmt: skip
        minutes = 10 if day > 0 else 50
        await conversations.record_agent_event(AgentEvent(f"c{day}", AgentEventKind.FIRST_RESPONSE,
                                                          at + timedelta(minutes=minutes), "a1"))  # fmt: skip
        await conversations.record_agent_event(AgentEvent(f"c{day}", AgentEventKind.CLOSED, at + timedelta(hours=2),
                                                          "a1"))  # fmt: skip
        await store.record_feedback(Feedback(f"c{day}", at + timedelta(hours=3), csat=5 if day > 0 else 3))
        await records.save_score(scored(f"conv-{day}", "a1", 100 if day > 0 else 70, hours=24 * day, name="Ana"))
    view = TeamView(activity=MemoryAgentActivity(store, conversations), records=records, taxonomy=load_taxonomy(),
                    rules=load_coaching())  # fmt: skip
    pack = await view.one_on_one("a1", T0, T0 + timedelta(days=7))
    assert pack is not None and pack.name == "Ana"
    trends = {t.metric: t for t in pack.trends}
    assert (trends["qa_score"].current, trends["qa_score"].previous, trends["qa_score"].better) == (100.0, 70.0, True)
    assert trends["first_response_s"].current == 600.0 and trends["first_response_s"].better is True
    assert trends["csat"].current == 5.0 and trends["contacts"].current == 2
    assert [r.kind for r in pack.reviews] == ["exemplary"]
    assert await view.one_on_one("nobody", T0, T0 + timedelta(days=7)) is None
    snapshot = await view.snapshot(T0, T0 + timedelta(days=7))
    doc = snapshot.to_json()
    assert [a["agent_id"] for a in doc["agents"]] == ["a1"] and doc["qa"]["scored"] == 2
    assert any("1 agents handled 2 hand-offs" in line for line in snapshot.lines())


def test_directory_lookups_and_file_line_errors(tmp_path: Path) -> None:
    path = tmp_path / "agents.yaml"
    path.write_text('- {agent_id: "7", name: Ana Lima, slack_user: UANA, manager_slack_user: UBOSS}\n'
                    '- {agent_id: "8", name: Bo Chen}\n', encoding="utf-8")  # fmt: skip
    directory = load_directory(path)
    assert directory.find("<@UANA|ana>").agent_id == "7"  # type: ignore[union-attr]
    assert directory.find("bo").agent_id == "8" and directory.find("Ana Lima").agent_id == "7"  # type: ignore[union-attr]
    assert directory.find("<@UOTHER>") is None and directory.managers() == {"7": "UBOSS"}
    assert load_directory(None).agents == ()
    path.write_text("agents:\n  - {agent_id: a, name: A}\n  - {agent_id: a, name: B}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"agents\.yaml:3: agents\.1\.agent_id: duplicate agent_id 'a'"):
        load_directory(path)
    path.write_text("agents:\n  - {agent_id: a}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"agents\.yaml:2: agents\.0\.name"):
        load_directory(path)


def test_coaching_rules_need_training_for_every_critical_fail(tmp_path: Path) -> None:
    path = tmp_path / "coaching.yaml"
    path.write_text("gap_points: 10\ncritical_fails:\n  tipping_off: AML module\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"coaching\.yaml:2: critical_fails: no training for the critical fails"):
        load_coaching(path)


async def test_demo_team_texts_trigger_the_critical_fail_they_stand_for() -> None:
    """The demo's clean replies score 100 and each critical-fail sentence trips exactly its own id."""
    texts = load_team().texts
    scorer = QaScorer(load_scorecard())
    clean = [Turn("customer", "Where is my card?"), Turn("bot", texts.bot),
             Turn("agent", f"{texts.greeting[0].format(topic='card arrival')} {texts.answers['Cards'][0]}"),
             Turn("agent", texts.closing[0])]  # fmt: skip
    cases = [Transcript("clean", "a1", tuple(clean))]
    for fail, sentence in texts.critical.items():
        turns = [*clean[:2], Turn("agent", f"{clean[2].text} {sentence}"), clean[3]]
        cases.append(Transcript(fail, "a1", tuple(turns)))
    results = await scorer.score_many(cases)
    assert (results[0].score, results[0].critical_fails) == (100, ())
    assert {r.id: r.critical_fails for r in results[1:]} == {f: (f,) for f in texts.critical}
