"""``autopilot eval operating-point``: does the shipped model keep its precision promise on real traffic?

Banking77 test stands in for real traffic (it is never used to choose anything). Two figures:

1. **Classifier.** The shipped head's coverage and realised precision at its operating threshold, against the
   precision it promises (``info.operating_precision``), and at each of its other thresholds.
2. **Answers.** Every test question through the real pipeline (scratch database, default knowledge base) as a customer
   contact: the share answered with an article, the share of those answers whose article belongs to the question's
   true intent (the right article), and the share whose category is the true intent.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from automations.classifier import EmbeddingClassifier, LinearHead, read_labelled_csv
from automations.models import Action, Contact
from bot.composition import build_core, load_config, make_embedder
from bot.settings import Settings
from evals.banking77 import default_data_dir
from knowledge.embedding import stored_embeddings

__all__ = ["run_operating_point"]

BATCH = 256


async def run_operating_point(settings: Settings, *, data: Path | None = None) -> dict[str, Any]:
    """The shipped model's realised precision at its thresholds, and the pipeline's answers, on Banking77 test."""
    data = data or default_data_dir()
    texts, gold = read_labelled_csv([data / "test.csv"])
    embedder = make_embedder(settings, cache_size=len(texts) + 4096)
    await stored_embeddings(embedder, texts)
    head = LinearHead.load(settings.model_dir)
    found = await EmbeddingClassifier(embedder, head).classify(texts)
    conf = np.array([c.confidence for c in found])
    correct = np.array([c.category == g for c, g in zip(found, gold, strict=True)])

    def at(threshold: float) -> dict[str, float]:
        kept = conf >= threshold
        return {"threshold": round(threshold, 4), "coverage": round(float(kept.mean()), 4),
                "precision": round(float(correct[kept].mean()) if kept.any() else 1.0, 4)}  # fmt: skip

    taxonomy = load_config(settings).taxonomy
    answered = right = same = 0
    reasons: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        core = await build_core(settings.scratch(Path(tmp)), embedder=embedder)
        try:
            run = uuid.uuid4().hex[:8]
            for lo in range(0, len(texts), BATCH):
                contacts = [Contact(id=f"op-{run}-{lo + i}", text=t) for i, t in enumerate(texts[lo : lo + BATCH])]
                for d, label in zip(await core.pipeline.handle_many(contacts), gold[lo : lo + BATCH], strict=True):
                    if d.action is Action.ANSWER and d.article_id:
                        answered += 1
                        right += label in taxonomy and d.article_id in taxonomy.category(label).articles
                        same += d.category == label
                    else:
                        key = d.reason.split(":")[0]
                        reasons[key] = reasons.get(key, 0) + 1
        finally:
            await core.close()
    n = len(texts)
    return {
        "command": "autopilot eval operating-point",
        "questions": n,
        "model": {"examples": head.info.get("examples"), "calibrated_on": head.info.get("calibrated_on")},
        "classifier": {
            "promised_precision": head.info.get("operating_precision"),
            "at_operating_threshold": at(head.threshold),
            "at_thresholds": {k: at(v) for k, v in sorted(head.thresholds.items())},
            "accuracy": round(float(correct.mean()), 4),
        },
        "answers": {
            "answered_with_article": round(answered / n, 4),
            "right_article_among_answered": round(right / answered, 4) if answered else None,
            "right_category_among_answered": round(same / answered, 4) if answered else None,
            "not_answered_by_reason": {k: round(v / n, 4) for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])},
        },
    }
