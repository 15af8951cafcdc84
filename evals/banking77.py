"""``autopilot eval banking77``: train on Banking77 train (validation folds held out of it), score test once.

Reports accuracy, macro-F1, coverage at 97/98/99 % precision (thresholds chosen on validation), top-1/top-3 article
hit rates for answerable categories, warm decision latency, triage throughput, and the same classifier figures for
the shipped out-of-box model. Writes ``banking77.json`` and ``banking77.md``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from automations.classifier import EmbeddingClassifier, LinearHead, read_labelled_csv, train_head
from automations.models import Action, Contact
from automations.taxonomy import load_taxonomy
from bot.batch import DEFAULT_BATCH
from bot.composition import build_core, open_index
from bot.settings import Settings
from evals.report import write_reports
from knowledge.embedding import MiniLMEmbedder
from knowledge.ingest import ingest

__all__ = ["default_data_dir", "run_banking77", "score_classifier"]


def default_data_dir() -> Path:
    """``../shared/datasets/banking77`` beside the repository (or ``BANKING77_DIR``)."""
    import os

    env = os.environ.get("BANKING77_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "datasets" / "banking77"


async def score_classifier(classifier: EmbeddingClassifier, texts: list[str], gold: list[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 over the gold labels, and coverage/precision at each validation threshold."""
    from sklearn.metrics import f1_score

    results = await classifier.classify(texts)
    pred = [r.category for r in results]
    conf = np.array([r.confidence for r in results])
    correct = np.array([p == g for p, g in zip(pred, gold, strict=True)])
    coverage = {}
    for target, threshold in sorted(classifier.head.thresholds.items()):
        kept = conf >= threshold
        coverage[target] = {
            "threshold": round(threshold, 4),
            "coverage": round(float(kept.mean()), 4),
            "precision": round(float(correct[kept].mean()) if kept.any() else 1.0, 4),
        }
    return {
        "accuracy": round(float(correct.mean()), 4),
        "macro_f1": round(float(f1_score(gold, pred, labels=sorted(set(gold)), average="macro")), 4),
        "coverage_at_precision": coverage,
        "predicted_outside_gold_labels": int(sum(p not in set(gold) for p in pred)),
    }


async def _article_hits(
    settings: Settings, embedder: MiniLMEmbedder, texts: list[str], gold: list[str]
) -> dict[str, Any]:
    taxonomy = load_taxonomy(settings.taxonomy_path)
    index = open_index(settings, embedder)
    if await index.count() == 0:
        await ingest(settings.kb_path, index)
    top1 = top3 = total = 0
    for text, label in zip(texts, gold, strict=True):
        cat = taxonomy.category(label)
        if not (cat.bot_may_answer and cat.articles):
            continue
        ranked: list[str] = []
        for passage in await index.search(text, k=10):
            if passage.article_id not in ranked:
                ranked.append(passage.article_id)
        total += 1
        top1 += bool(ranked) and ranked[0] in cat.articles
        top3 += any(a in cat.articles for a in ranked[:3])
    return {"questions": total, "top1": round(top1 / total, 4), "top3": round(top3 / total, 4)}


async def _speed(settings: Settings, embedder: MiniLMEmbedder, texts: list[str], sample: int = 400) -> dict[str, Any]:
    core = await build_core(settings, embedder=embedder)
    try:
        run = str(int(time.time()))
        for i, text in enumerate(texts[:20]):  # warm-up
            await core.pipeline.handle(Contact(id=f"warm-{run}-{i}", text=text))
        fresh = [f"{t} (#{i})" for i, t in enumerate(texts)]  # bypass the embedding cache: measure real work
        latencies = []
        for i, text in enumerate(fresh[:sample]):
            start = time.perf_counter()
            await core.pipeline.handle(Contact(id=f"lat-{run}-{i}", text=text, customer_id=f"c{i}"))
            latencies.append((time.perf_counter() - start) * 1000)
        batch_texts = [f"{t} [b{i}]" for i, t in enumerate(texts)]
        start = time.perf_counter()
        reasons: Counter[str] = Counter()
        for lo in range(0, len(batch_texts), DEFAULT_BATCH):
            chunk = batch_texts[lo : lo + DEFAULT_BATCH]
            contacts = [Contact(id=f"tp-{run}-{lo + j}", text=t) for j, t in enumerate(chunk)]
            for d in await core.pipeline.handle_many(contacts):
                if d.action is Action.HANDOFF:
                    reasons[d.reason.split(":")[0]] += 1
        seconds = time.perf_counter() - start
        handed = sum(reasons.values())
    finally:
        await core.close()
    return {
        "latency_ms": {
            "p50": round(float(np.percentile(latencies, 50)), 2),
            "p99": round(float(np.percentile(latencies, 99)), 2),
            "n": len(latencies),
        },
        "throughput_per_s": round(len(batch_texts) / seconds, 1),
        "throughput_contacts": len(batch_texts),
        "throughput_batch": DEFAULT_BATCH,
        "handoff_rate_on_test": round(handed / len(batch_texts), 4),
        "handoff_reasons_on_test": {k: round(v / len(batch_texts), 4) for k, v in reasons.most_common()},
    }


async def run_banking77(settings: Settings, *, data: Path | None = None, out: Path) -> dict[str, Any]:
    """Run the whole evaluation and write the reports."""
    data = data or default_data_dir()
    train_x, train_y = read_labelled_csv([data / "train.csv"])
    test_x, test_y = read_labelled_csv([data / "test.csv"])
    embedder = MiniLMEmbedder(cache_size=len(train_x) + len(test_x) + 4096)
    start = time.perf_counter()
    head, report = await train_head(embedder, train_x, train_y)
    train_seconds = time.perf_counter() - start
    trained = await score_classifier(EmbeddingClassifier(embedder, head), test_x, test_y)
    trained.update(
        train_seconds=round(train_seconds, 1),
        validation={"oof_accuracy": round(report.oof_accuracy, 4), "c": report.c, "temperature": report.temperature},
    )
    shipped_head = LinearHead.load(settings.model_dir)
    shipped = await score_classifier(EmbeddingClassifier(embedder, shipped_head), test_x, test_y)
    shipped["training_examples"] = shipped_head.info.get("examples")
    with tempfile.TemporaryDirectory() as tmp:
        speed_settings = settings.scratch(Path(tmp))
        articles = await _article_hits(settings, embedder, test_x, test_y)
        speed = await _speed(speed_settings, embedder, test_x)
    result = {
        "command": "autopilot eval banking77 " + " ".join(sys.argv[3:]),
        "dataset": {"train": len(train_x), "test": len(test_x), "source": "PolyAI Banking77 (Casanueva et al., 2020)"},
        "trained_on_banking77": trained,
        "shipped_out_of_box": shipped,
        "article_hit_rate": articles,
        "speed": speed,
    }
    write_reports(result, out)
    return result
