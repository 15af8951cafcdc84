"""``autopilot eval answers --facts`` (alias ``eval facts``): does the answer carry the facts that answer the question?

The dev set (``evals/data/answers_dev.jsonl``) was written by someone who read the help-centre articles but not the
ranking code: questions in customers' own words, each with the key facts (verbatim phrases of the article) its
answer must carry, plus requests the KB cannot serve. Every question runs through a fresh core as a customer contact.

For in-KB questions it reports the share answered, the key-fact rate among the answered (every fact found,
case-insensitively, in the reply), the intro-only rate (the reply quotes only the article's introduction) and the
hand-off rate; for out-of-KB requests, the share answered with an article (lower is better). It runs the extractive
path (no model) and, when a model is configured (``LLM_MODEL`` with ``LLM_BASE_URL`` or ``OPENAI_API_KEY``), the LLM
path too.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from automations.models import Action, Contact, Decision
from bot.composition import build_core
from bot.llm import llm_enabled
from bot.settings import Settings

__all__ = ["DEV_SET", "run_facts", "run_facts_paths"]

DEV_SET = Path(__file__).parent / "data" / "answers_dev.jsonl"


def _quoted(decision: Decision) -> tuple[bool, bool]:
    """Whether the reply quotes a section of the cited article, and whether only its introduction."""
    reply = decision.reply or ""
    quoted = [p for p in decision.passages if p.article_id == decision.article_id and p.text[:80] in reply]
    if not quoted and decision.passages:  # a drafted reply (LLM path): judged by the section it was drafted from
        return False, decision.passages[0].section == decision.passages[0].title
    intro_only = bool(quoted) and all(p.section == p.title for p in quoted)
    return bool(quoted), intro_only


async def run_facts(settings: Settings, dataset: Path = DEV_SET) -> dict[str, Any]:
    """Every question through the pipeline on a scratch database; the figures and the misses."""
    lines = dataset.read_text(encoding="utf-8").splitlines()  # noqa: ASYNC240 - a small file, read once
    items = [json.loads(line) for line in lines if line.strip()]
    in_kb = [i for i in items if i["kind"] == "in_kb"]
    out_kb = [i for i in items if i["kind"] != "in_kb"]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        core = await build_core(settings.scratch(Path(tmp)))
        try:
            run = uuid.uuid4().hex[:8]
            for item in items:
                d = await core.pipeline.handle(Contact(id=f"facts-{run}-{item['id']}", text=item["question"]))
                reply = (d.reply or "").lower()
                _, intro_only = _quoted(d)
                answered = d.action is Action.ANSWER and bool(d.article_id)
                facts = all(f.lower() in reply for f in item.get("facts", []))
                rows.append(
                    {"id": item["id"], "kind": item["kind"], "answered": answered, "article": d.article_id,
                     "expected": item.get("article_id"), "reason": d.reason, "facts": facts, "intro_only": intro_only,
                     "method": d.answer_method}
                )  # fmt: skip
        finally:
            await core.close()
    done = [r for r in rows if r["kind"] == "in_kb" and r["answered"]]

    def share(n: int, of: int) -> float:
        return round(n / of, 4) if of else 0.0

    return {
        "command": f"autopilot eval answers --facts --dataset {dataset}",
        "in_kb": len(in_kb),
        "answered": share(len(done), len(in_kb)),
        "key_facts_among_answered": share(sum(r["facts"] for r in done), len(done)),
        "right_article_among_answered": share(sum(r["article"] == r["expected"] for r in done), len(done)),
        "intro_only_among_answered": share(sum(r["intro_only"] for r in done), len(done)),
        "handed_off": share(len(in_kb) - len(done), len(in_kb)),
        "out_of_kb": len(out_kb),
        "out_of_kb_answered_with_article": share(sum(r["answered"] for r in rows if r["kind"] != "in_kb"), len(out_kb)),
        "methods": dict(Counter(str(r["method"]) for r in done)),
        "misses": [r for r in rows if r["answered"] and (r["kind"] != "in_kb" or not r["facts"])],
    }


async def run_facts_paths(settings: Settings, dataset: Path = DEV_SET) -> dict[str, Any]:
    """The figures for the extractive path, and for the LLM path when a model is configured."""
    plain = settings.model_copy(update={"llm_model": None})
    extractive = await run_facts(plain, dataset)
    paths: dict[str, Any] = {"extractive": extractive}
    paths["llm"] = (
        await run_facts(settings, dataset)
        if llm_enabled(settings)
        else "no model configured (set LLM_MODEL with LLM_BASE_URL or OPENAI_API_KEY)"
    )
    return {
        "command": f"autopilot eval answers --facts --dataset {dataset}",
        "dataset": dataset.name,
        "in_kb": extractive["in_kb"],
        "out_of_kb": extractive["out_of_kb"],
        "paths": paths,
    }
