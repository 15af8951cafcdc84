"""The Banking77 regression guard: the 0.5-point rule, and a fast run against the committed fast figures.

The fast run trains the real head on real MiniLM embeddings of a stratified Banking77 subsample (20 per class) and
scores it, and the shipped model, on 10 test queries per class; the figures must not fall more than 0.5 point below
``evals/reports/banking77-fast.json`` (recorded by ``python -m evals.banking77 --fast --write``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from bot.settings import Settings
from evals.banking77 import COMMITTED, regressions, run_fast

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "banking77"


def _figures(accuracy: float, coverage: float) -> dict[str, object]:
    return {"accuracy": accuracy, "coverage_at_precision": {"0.99": {"coverage": coverage}}}


COMMITTED_EXAMPLE = {"trained_on_banking77": _figures(0.94, 0.80), "shipped_out_of_box": _figures(0.85, 0.70)}


def test_a_drop_within_half_a_point_passes() -> None:
    result = copy.deepcopy(COMMITTED_EXAMPLE)
    result["trained_on_banking77"] = _figures(0.9351, 0.7951)
    assert regressions(result, COMMITTED_EXAMPLE) == []


def test_a_drop_beyond_half_a_point_in_accuracy_or_coverage_fails() -> None:
    result = copy.deepcopy(COMMITTED_EXAMPLE)
    result["trained_on_banking77"] = _figures(0.9340, 0.80)
    result["shipped_out_of_box"] = _figures(0.85, 0.6940)
    found = regressions(result, COMMITTED_EXAMPLE)
    assert len(found) == 2
    assert found[0].startswith("trained_on_banking77.accuracy")
    assert found[1].startswith("shipped_out_of_box.coverage@0.99")


def test_a_missing_coverage_target_counts_as_a_regression() -> None:
    result = copy.deepcopy(COMMITTED_EXAMPLE)
    result["trained_on_banking77"]["coverage_at_precision"] = {}  # type: ignore[index]
    assert regressions(result, COMMITTED_EXAMPLE) == [
        "trained_on_banking77.coverage@0.99: 0.0000 < committed 0.8000 - 0.005"
    ]


@pytest.mark.slow
async def test_fast_guard_against_the_committed_fast_figures(embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    committed = json.loads((COMMITTED / "banking77-fast.json").read_text(encoding="utf-8"))
    settings = Settings(AUTOPILOT_DATA_DIR=tmp_path)  # type: ignore[call-arg]
    result = await run_fast(settings, embedder, data=SHARED)
    assert result["dataset"] == committed["dataset"]
    assert regressions(result, committed) == []
    # the guard is not vacuous: the committed figures are real ones
    assert committed["trained_on_banking77"]["accuracy"] > 0.8
    assert committed["shipped_out_of_box"]["coverage_at_precision"]["0.99"]["coverage"] > 0.3
