"""``autopilot eval qa``: the QA scorer against human graders.

Reports, per grader: critical-fail recall and precision (per id and overall, by conversation and id), per-criterion
agreement and Cohen's kappa over the conversations both the grader and the scorer found applicable, with the share
of the grader's applicable labels the scorer also scored (coverage), and the clean conversations falsely alarmed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from automations.qa import CRITICAL_FAIL_IDS, QaResult
from automations.qa.calibration import cohen_kappa
from automations.qa.scorer import QaJudge

__all__ = ["cohen_kappa", "compare", "load_labels"]


def load_labels(path: Path) -> dict[str, dict[str, object]]:
    """Labels by conversation id: an embedded ``labels`` object, or a grader's ``{id, critical_fails, criteria}``."""
    out: dict[str, dict[str, object]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out[row["id"]] = row.get("labels", row)
    return out


def compare(results: Sequence[QaResult], labels: dict[str, dict[str, object]]) -> dict[str, object]:
    """Scorer against one grader's labels."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    misses: list[dict[str, str]] = []
    false_alarms: list[dict[str, str]] = []
    clean = clean_alarmed = 0
    pairs: dict[str, list[tuple[int, int]]] = {}
    coverage: Counter[str] = Counter()
    labelled: Counter[str] = Counter()
    for r in results:
        label = labels.get(r.id)
        if label is None:
            continue
        truth = set(label.get("critical_fails") or [])  # type: ignore[arg-type]
        got = set(r.critical_fails)
        for cf in CRITICAL_FAIL_IDS:
            if cf in truth and cf in got:
                tp[cf] += 1
            elif cf in got:
                fp[cf] += 1
                false_alarms.append({"id": r.id, "fail": cf, "evidence": r.evidence.get(cf, "")})
            elif cf in truth:
                fn[cf] += 1
                misses.append({"id": r.id, "fail": cf})
        if not truth:
            clean += 1
            clean_alarmed += bool(got)
        criteria = label.get("criteria") or {}
        for cid, value in criteria.items():  # type: ignore[union-attr]
            if value is None:
                continue
            labelled[cid] += 1
            mine = r.criteria.get(cid)
            if mine is None:
                continue
            coverage[cid] += 1
            pairs.setdefault(cid, []).append((int(value), round(mine)))
    per_fail = {
        cf: {"tp": tp[cf], "fp": fp[cf], "fn": fn[cf], "recall": _ratio(tp[cf], tp[cf] + fn[cf]),
             "precision": _ratio(tp[cf], tp[cf] + fp[cf])}
        for cf in CRITICAL_FAIL_IDS
    }  # fmt: skip
    t, f, n = sum(tp.values()), sum(fp.values()), sum(fn.values())
    criteria_report = {
        cid: {"agreement": _ratio(sum(a == b for a, b in p), len(p)), "kappa": cohen_kappa(p), "n": len(p),
              "coverage": _ratio(coverage[cid], labelled[cid])}
        for cid, p in sorted(pairs.items())
    }  # fmt: skip
    return {
        "conversations": sum(1 for r in results if r.id in labels),
        "critical_fails": {"recall": _ratio(t, t + n), "precision": _ratio(t, t + f), "per_fail": per_fail},
        "clean_conversations": clean,
        "clean_falsely_alarmed": clean_alarmed,
        "criteria": criteria_report,
        "misses": misses,
        "false_alarms": false_alarms,
    }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


DATA = Path(__file__).parent / "data"
DEFAULT_SETS: tuple[tuple[str, Path, Path], ...] = (
    ("calibration / grader 1 (author)", DATA / "qa_calibration.jsonl", DATA / "qa_calibration.jsonl"),
    ("calibration / grader 2 (blind)", DATA / "qa_calibration.jsonl", DATA / "qa_calibration_grader2.jsonl"),
    ("holdout (critical fails only)", DATA / "qa_holdout.jsonl", DATA / "qa_holdout.jsonl"),
    ("holdout 2 (critical fails only)", DATA / "qa_holdout2.jsonl", DATA / "qa_holdout2.jsonl"),
    ("holdout 3 (critical fails only)", DATA / "qa_holdout3.jsonl", DATA / "qa_holdout3.jsonl"),
)


async def run_qa(
    scorecard_path: Path,
    sets: Sequence[tuple[str, Path, Path]] = DEFAULT_SETS,
    *,
    judge: QaJudge | None = None,
    learned: bool = True,
) -> dict[str, object]:
    """Score each set's conversations with the scorecard (and the LLM ``judge`` when given) and compare with its
    grader's labels."""
    from automations.qa import QaScorer, load_scorecard
    from automations.qa.head import load_head
    from bot.qa_io import QaLine
    from knowledge.embedding import MiniLMEmbedder

    head = load_head() if learned else None
    embedder = MiniLMEmbedder() if head is not None else None
    scorer = QaScorer(load_scorecard(scorecard_path), judge=judge, head=head, embedder=embedder)
    report: dict[str, object] = {}
    for name, conversations, labels in sets:
        if not conversations.exists() or not labels.exists():
            continue
        lines = [QaLine.model_validate_json(x) for x in conversations.read_text(encoding="utf-8").splitlines() if x]
        results = await scorer.score_many([line.transcript() for line in lines])
        report[name] = compare(results, load_labels(labels))
    return report
