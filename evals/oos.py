"""``autopilot eval oos``: how often public out-of-scope queries are answered with an article.

The default set is CLINC150's out-of-scope test split (``evals/data/clinc150_oos_test.jsonl``, Larson et al., 2019,
CC BY 3.0; see ``evals/data/CLINC150_SOURCE.md``). Each query goes through a fresh core as a customer contact; an
answer that cites an article counts against us. CLINC's out-of-scope queries include a few ordinary banking
questions (about 45 of the 1,000), which a banking bot may fairly answer: they are listed for review, not removed.
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from automations.models import Action, Contact
from bot.composition import build_core
from bot.settings import Settings

__all__ = ["DEFAULT_OOS", "run_oos"]

DEFAULT_OOS = Path(__file__).parent / "data" / "clinc150_oos_test.jsonl"
BATCH = 64


async def run_oos(settings: Settings, dataset: Path = DEFAULT_OOS) -> dict[str, Any]:
    """Every query through the pipeline on a scratch database; the share answered with an article."""
    lines = dataset.read_text(encoding="utf-8").splitlines()  # noqa: ASYNC240 - a small file, read once
    items = [json.loads(line) for line in lines if line.strip()]
    answered: list[dict[str, str]] = []
    actions: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        core = await build_core(settings.scratch(Path(tmp)))
        try:
            run = uuid.uuid4().hex[:8]
            for start in range(0, len(items), BATCH):
                chunk = items[start : start + BATCH]
                contacts = [Contact(id=f"oos-{run}-{i['id']}", text=i["text"]) for i in chunk]
                for item, decision in zip(chunk, await core.pipeline.handle_many(contacts), strict=True):
                    actions[str(decision.action)] += 1
                    if decision.action is Action.ANSWER and decision.article_id:
                        answered.append({"id": item["id"], "text": item["text"], "article": decision.article_id,
                                         "category": decision.category})  # fmt: skip
        finally:
            await core.close()
    return {
        "command": f"autopilot eval oos --dataset {dataset}",
        "queries": len(items),
        "answered_with_article": len(answered),
        "rate": round(len(answered) / len(items), 4) if items else 0.0,
        "actions": dict(actions),
        "answered": answered,
    }
