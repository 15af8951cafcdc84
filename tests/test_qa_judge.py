"""The optional LLM judge of the QA scorecard: its answer parsing, and a real local model through langchain-openai."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from automations.qa import QaScorer, load_scorecard
from automations.qa.judge import JUDGED, parse_verdicts
from bot.llm import build_qa_judge
from bot.qa_io import QaLine
from bot.settings import Settings
from tests.plugins.llm_server import LlmServer, llm_server  # noqa: F401  (the session fixture)

CALIBRATION = Path(__file__).parents[1] / "evals" / "data" / "qa_calibration.jsonl"


def test_parse_verdicts_reads_the_first_object_and_ignores_the_rest() -> None:
    assert parse_verdicts('Sure! {"empathy": 1, "resolution": "0", "tone": true, "extra": 1} done') == {
        "empathy": 1.0, "resolution": 0.0, "tone": 1.0,
    }  # fmt: skip
    assert parse_verdicts("no json here") == {}
    assert parse_verdicts('{"empathy": 7, "next_step": null}') == {}
    assert parse_verdicts("{broken: json}") == {}


def test_no_judge_without_a_model(settings: Settings) -> None:
    assert build_qa_judge(settings) is None


@pytest.mark.llm_server
async def test_a_real_model_judges_and_critical_fails_stay_with_the_rules(
    settings: Settings,
    llm_server: LlmServer,  # noqa: F811
) -> None:
    configured = settings.model_copy(
        update={"llm_base_url": llm_server.base_url, "llm_model": llm_server.model, "llm_timeout_s": 60.0}
    )
    judge = build_qa_judge(configured)
    assert judge is not None
    rows = [json.loads(line) for line in CALIBRATION.read_text(encoding="utf-8").splitlines()[:4]]
    transcripts = [QaLine.model_validate(row).transcript() for row in rows]
    rules = await QaScorer(load_scorecard()).score_many(transcripts)
    judged = await QaScorer(load_scorecard(), judge=judge).score_many(transcripts)
    for plain, with_judge in zip(rules, judged, strict=True):
        assert with_judge.critical_fails == plain.critical_fails  # the model never decides a critical fail
        assert set(with_judge.criteria) == set(plain.criteria)
        for key, value in with_judge.criteria.items():
            assert value in (0.0, 1.0, None)
            if with_judge.evidence.get(key) == "LLM judge":
                assert key in JUDGED
        assert (with_judge.score == 0) == bool(with_judge.critical_fails)
