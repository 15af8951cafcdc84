"""``autopilot eval answers``: the grounding check on a labelled set, and the LLM answerer live.

1. **Calibration (dev only).** Every draft of ``grounding_dev.jsonl`` is assessed once; the operating point
   (similarity and word-coverage thresholds, negation margin) is the one that keeps the share of *accepted* drafts
   that are truly grounded at or above ``--target`` while accepting the most grounded drafts. It is written to
   ``automations/data/grounding/policy.json``, which the answerer loads.
2. **Report (test).** Precision and recall of the check on ``grounding_test.jsonl``, with "rejected" as the positive
   class (it is a detector of ungrounded drafts), plus the precision of what it lets through, by kind of draft.
3. **Live (when a model is configured).** Each distinct question of the test set is answered by the LLM answerer:
   the fallback rate and its reasons, the latency, and a re-check that every reply is grounded or extractive.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from automations.answering import ExtractiveAnswerer
from automations.llm import GroundingChecker, GroundingPolicy, LLMAnswerer, load_prompt
from automations.llm.grounding import Assessment
from automations.models import Channel, Passage
from automations.ports import Answerer, Embedder
from bot.composition import load_config
from bot.llm import DEFAULT_POLICY, build_answerer, leak_guard
from bot.settings import Settings
from evals.report import write_reports
from knowledge.ingest import load_folder

__all__ = ["GroundingItem", "calibrate", "load_items", "run_answers", "score"]

DATA = Path(__file__).parent / "data"


class GroundingItem(BaseModel):
    """One labelled draft."""

    id: str
    question: str
    passages: list[str]
    draft: str
    grounded: bool
    kind: str
    channel: Channel = Channel.CUSTOMER
    source: str = ""


def load_items(path: Path) -> list[GroundingItem]:
    """Read a grounding JSONL file."""
    return [GroundingItem.model_validate_json(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def sections(settings: Settings) -> dict[str, Passage]:
    """Every knowledge-base section as a passage, by section id."""
    out = {}
    for a in load_folder(settings.kb_path):
        for s in a.sections:
            m = a.meta
            out[s.id] = Passage(m.id, m.title, s.heading, s.body, m.url, m.visibility, m.categories, 1.0)
    return out


def _rates(pairs: Sequence[tuple[bool, bool]]) -> dict[str, Any]:
    """``pairs`` of (truly grounded, accepted): rejection precision/recall and accepted-draft precision."""
    tp = sum(1 for g, a in pairs if not g and not a)  # ungrounded and rejected
    fp = sum(1 for g, a in pairs if g and not a)
    fn = sum(1 for g, a in pairs if not g and a)
    tn = sum(1 for g, a in pairs if g and a)
    div = lambda n, d: round(n / d, 4) if d else None  # noqa: E731
    return {
        "items": len(pairs),
        "rejection_precision": div(tp, tp + fp),
        "rejection_recall": div(tp, tp + fn),
        "accepted_precision": div(tn, tn + fn),
        "grounded_accepted": div(tn, tn + fp),
        "confusion": {"ungrounded_rejected": tp, "grounded_rejected": fp, "ungrounded_accepted": fn,
                      "grounded_accepted": tn},
    }  # fmt: skip


async def _assess(
    checker: GroundingChecker, items: Sequence[GroundingItem], kb: dict[str, Passage]
) -> list[Assessment]:
    system = {c: load_prompt(f"{c.value}_answer").render({"passages": "", "question": ""})[0].content for c in Channel}
    return [
        await checker.assess(i.draft, [kb[p] for p in i.passages], channel=i.channel, system_prompt=system[i.channel])
        for i in items
    ]


def calibrate(items: Sequence[GroundingItem], found: Sequence[Assessment], target: float) -> GroundingPolicy:
    """The operating point accepting the most grounded drafts with accepted-draft precision >= ``target``
    (ties: the stricter thresholds)."""
    best: tuple[tuple[float, ...], GroundingPolicy] | None = None
    for margin in (0.02, 0.05, 0.1, 0.15, 0.2, 1.0):
        for sim in [x / 100 for x in range(30, 96, 2)]:
            for cov in [x / 20 for x in range(0, 20)]:
                policy = GroundingPolicy(similarity=sim, coverage=cov, negation_margin=margin)
                r = _rates([(i.grounded, a.verdict(policy).grounded) for i, a in zip(items, found, strict=True)])
                precision, recall = r["accepted_precision"] or 0.0, r["grounded_accepted"] or 0.0
                key = (float(precision >= target), recall if precision >= target else precision, sim, cov, -margin)
                if best is None or key > best[0]:
                    best = (key, policy)
    assert best is not None
    return best[1]


def score(items: Sequence[GroundingItem], found: Sequence[Assessment], policy: GroundingPolicy) -> dict[str, Any]:
    """Rates overall and by kind, and the reasons drafts were rejected."""
    verdicts = [a.verdict(policy) for a in found]
    pairs = [(i.grounded, v.grounded) for i, v in zip(items, verdicts, strict=True)]
    kinds = sorted({i.kind for i in items})
    by_kind = {}
    for k in kinds:
        sub = [p for p, i in zip(pairs, items, strict=True) if i.kind == k]
        by_kind[k] = {"items": len(sub), "accepted": sum(a for _, a in sub)}
    missed = [{"id": i.id, "kind": i.kind, "draft": i.draft[:160]} for i, (g, a) in zip(items, pairs, strict=True)
              if not g and a][:10]  # fmt: skip
    reasons = Counter(v.reason for v in verdicts if not v.grounded)
    return {**_rates(pairs), "by_kind": by_kind, "reasons": dict(reasons.most_common()), "missed": missed}


async def live(
    answerer: Answerer, items: Sequence[GroundingItem], kb: dict[str, Passage], checker: GroundingChecker, limit: int
) -> dict[str, Any]:
    """Answer each distinct question with the LLM answerer; fallback rate, reasons, latency and a safety re-check."""
    seen: dict[str, GroundingItem] = {}
    for item in items:
        seen.setdefault(f"{item.question}|{item.passages}", item)
    questions = list(seen.values())[:limit]
    methods: Counter[str] = Counter()
    latencies, unsafe, samples = [], 0, []
    for item in questions:
        passages = [kb[p] for p in item.passages]
        started = time.perf_counter()
        answer = await answerer.answer(item.question, passages, Channel.CUSTOMER)
        latencies.append((time.perf_counter() - started) * 1000)
        if answer is None:
            methods["abstained"] += 1
            continue
        methods[answer.method.split(":")[0] if answer.method.startswith("llm") else answer.method] += 1
        if answer.method.startswith("llm"):
            body = answer.text.rsplit("\n\nMore in", 1)[0]
            unsafe += not (await checker.check(body, passages)).grounded
        elif answer.method.startswith("extractive") and len(samples) < 5:
            samples.append({"question": item.question, "method": answer.method})
    n = len(questions)
    fallbacks = sum(v for k, v in methods.items() if k.startswith("extractive_fallback"))
    ordered = sorted(latencies)
    return {
        "questions": n,
        "llm_answers": methods.get("llm", 0),
        "fallback_rate": round(fallbacks / n, 4) if n else None,
        "methods": dict(methods.most_common()),
        "latency_ms": {
            "mean": round(statistics.fmean(latencies), 1) if latencies else None,
            "p50": round(ordered[n // 2], 1) if n else None,
            "p95": round(ordered[min(n - 1, int(n * 0.95))], 1) if n else None,
        },
        "replies_neither_grounded_nor_extractive": unsafe,
    }


def _save(path: Path, policy: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(policy, indent=2) + "\n", encoding="utf-8")


async def run_answers(
    settings: Settings,
    embedder: Embedder,
    *,
    dev: Path = DATA / "grounding_dev.jsonl",
    test: Path = DATA / "grounding_test.jsonl",
    target: float = 0.98,
    write_policy: Path | None = DEFAULT_POLICY,
    live_limit: int = 40,
    answerer: Answerer | None = None,
    out: Path | None = Path("evals/reports"),
    name: str = "answers",
) -> dict[str, Any]:
    """Calibrate on ``dev``, report on ``test``, and run the live part when a model is configured (or given)."""
    kb = sections(settings)
    checker = GroundingChecker(embedder, guard=leak_guard(settings))
    dev_items, test_items = load_items(dev), load_items(test)
    started = time.perf_counter()
    dev_found = await _assess(checker, dev_items, kb)
    test_found = await _assess(checker, test_items, kb)
    check_ms = (time.perf_counter() - started) * 1000 / max(1, len(dev_items) + len(test_items))
    policy = calibrate(dev_items, dev_found, target)
    checker.policy = policy
    result: dict[str, Any] = {
        "command": " ".join(["autopilot eval answers", *sys.argv[3:]])
        if sys.argv[1:3] == ["eval", "answers"]
        else "autopilot eval answers",
        "policy": {**asdict(policy), "target_accepted_precision": target, "calibrated_on": dev.name},
        "dev": score(dev_items, dev_found, policy),
        "test": score(test_items, test_found, policy),
        "check_latency_ms_per_draft": round(check_ms, 1),
    }
    if write_policy is not None:
        _save(write_policy, result["policy"])
    answerer = answerer or build_answerer(
        settings,
        embedder,
        ExtractiveAnswerer(),
        policy=policy,
        taxonomy=(config := load_config(settings)).taxonomy,
        safety=config.safety,
    )
    if isinstance(answerer, LLMAnswerer):
        answerer.checker.policy = policy
        result["live"] = {
            "model": answerer.model.model.name,
            **await live(answerer, test_items, kb, checker, live_limit),
        }
    else:
        result["live"] = "no model configured (set LLM_BASE_URL or OPENAI_API_KEY, and LLM_MODEL)"
    if out is not None:
        write_reports(result, out, name=name, title="Grounding check and LLM answers")
    return result
