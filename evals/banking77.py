"""``autopilot eval banking77``: train on Banking77 train (validation folds held out of it), score test once.

Reports accuracy, macro-F1, coverage at 97/98/99 % precision (thresholds chosen on validation), top-1/top-3 article
hit rates for answerable categories, warm decision latency, triage throughput, and the same classifier figures for
the shipped out-of-box model. Writes ``banking77.json`` and ``banking77.md``.

Regression guard: the run fails (non-zero exit, reports written as ``banking77-regressed.*`` instead) when accuracy or
coverage at any precision target falls more than 0.5 point below the committed ``evals/reports/banking77.json``.
``python -m evals.banking77 --fast`` is the quick version CI runs (a stratified subsample, same 0.5-point rule against
``evals/reports/banking77-fast.json``; ``--write`` records new committed fast figures).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from automations.classifier import EmbeddingClassifier, LinearHead, read_labelled_csv, train_head
from automations.models import Action, Contact
from automations.ports import Embedder
from automations.taxonomy import load_taxonomy
from bot.batch import DEFAULT_BATCH
from bot.composition import build_core, make_embedder, open_index
from bot.settings import Settings
from evals.report import write_reports
from knowledge.embedding import MiniLMEmbedder, stored_embeddings
from knowledge.ingest import ingest

__all__ = [
    "COMMITTED",
    "TOLERANCE",
    "default_data_dir",
    "fast_guard",
    "regressions",
    "run_banking77",
    "run_fast",
    "score_classifier",
]

COMMITTED = Path(__file__).resolve().parent / "reports"
TOLERANCE = 0.005
GUARDED_MODELS = ("trained_on_banking77", "shipped_out_of_box")


def default_data_dir() -> Path:
    """``../shared/datasets/banking77`` beside the repository (or ``BANKING77_DIR``)."""
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


def regressions(result: dict[str, Any], committed: dict[str, Any], tolerance: float = TOLERANCE) -> list[str]:
    """Accuracy and coverage figures of ``result`` more than ``tolerance`` below ``committed`` (empty: none)."""
    found = []
    for model in GUARDED_MODELS:
        if model not in committed:
            continue
        now, then = result[model], committed[model]
        pairs = [("accuracy", now["accuracy"], then["accuracy"])]
        for target, figures in then["coverage_at_precision"].items():
            current = now["coverage_at_precision"].get(target, {}).get("coverage", 0.0)
            pairs.append((f"coverage@{target}", current, figures["coverage"]))
        found += [
            f"{model}.{name}: {a:.4f} < committed {b:.4f} - {tolerance}" for name, a, b in pairs if a < b - tolerance
        ]
    return found


def _committed(name: str) -> dict[str, Any]:
    path = COMMITTED / f"{name}.json"
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else {}


def _subsample(texts: list[str], labels: list[str], per_class: int, seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    keep: list[int] = []
    for label in sorted(set(labels)):
        idx = [i for i, lab in enumerate(labels) if lab == label]
        keep += sorted(rng.choice(idx, size=min(per_class, len(idx)), replace=False).tolist())
    return [texts[i] for i in keep], [labels[i] for i in keep]


async def run_fast(
    settings: Settings,
    embedder: Embedder,
    *,
    data: Path | None = None,
    train_per_class: int = 20,
    test_per_class: int = 10,
) -> dict[str, Any]:
    """The CI guard: train on a stratified subsample of train.csv; score it and the shipped model on test samples."""
    data = data or default_data_dir()
    train_x, train_y = _subsample(*read_labelled_csv([data / "train.csv"]), train_per_class, seed=1)
    test_x, test_y = _subsample(*read_labelled_csv([data / "test.csv"]), test_per_class, seed=2)
    start = time.perf_counter()
    head, _ = await train_head(embedder, train_x, train_y)
    trained = await score_classifier(EmbeddingClassifier(embedder, head), test_x, test_y)
    trained["train_seconds"] = round(time.perf_counter() - start, 1)
    shipped = await score_classifier(EmbeddingClassifier(embedder, LinearHead.load(settings.model_dir)), test_x, test_y)
    return {
        "command": "python -m evals.banking77 --fast",
        "dataset": {"train": len(train_x), "test": len(test_x), "train_per_class": train_per_class},
        "trained_on_banking77": trained,
        "shipped_out_of_box": shipped,
    }


async def _article_hits(
    settings: Settings, embedder: MiniLMEmbedder, texts: list[str], gold: list[str]
) -> dict[str, Any]:
    taxonomy = load_taxonomy(settings.taxonomy_path)
    index = open_index(settings, embedder)
    await ingest(settings.kb_path, index)  # incremental: re-embeds only what changed, or was embedded otherwise
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
        latencies, deciding = [], []
        for i, text in enumerate(fresh[:sample]):
            start = time.perf_counter()
            decision = await core.pipeline.handle(Contact(id=f"lat-{run}-{i}", text=text, customer_id=f"c{i}"))
            latencies.append((time.perf_counter() - start) * 1000)
            deciding.append(decision.latency_ms)
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
        "decision_only_latency_ms": {  # redact → decide, before the decision is written and announced
            "p50": round(float(np.percentile(deciding, 50)), 2),
            "p99": round(float(np.percentile(deciding, 99)), 2),
        },
        "throughput_per_s": round(len(batch_texts) / seconds, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),  # the CPU is shared: above the core count, figures inflate
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
    embedder = make_embedder(settings, cache_size=len(train_x) + len(test_x) + 4096)
    _, embed_seconds = await stored_embeddings(embedder, train_x)  # embedded once, then read from disk
    await stored_embeddings(embedder, test_x)
    start = time.perf_counter()
    head, report = await train_head(embedder, train_x, train_y)
    train_seconds = time.perf_counter() - start + embed_seconds
    trained = await score_classifier(EmbeddingClassifier(embedder, head), test_x, test_y)
    trained.update(
        train_seconds=round(train_seconds, 1),
        train_seconds_embedding=round(embed_seconds, 1),
        validation={
            "oof_accuracy": round(report.oof_accuracy, 4),
            "c": report.c,
            "embedding_weight": report.mix,
            "temperature": report.temperature,
        },
    )
    shipped_head = LinearHead.load(settings.model_dir)
    shipped = await score_classifier(EmbeddingClassifier(embedder, shipped_head), test_x, test_y)
    shipped["training_examples"] = shipped_head.info.get("examples")
    with tempfile.TemporaryDirectory() as tmp:
        speed_settings = settings.scratch(Path(tmp))
        articles = await _article_hits(settings, embedder, test_x, test_y)
        speed = await _speed(speed_settings, embedder, test_x)
    committed = _committed("banking77")
    result = {
        "command": "autopilot eval banking77 " + " ".join(sys.argv[3:]),
        "dataset": {"train": len(train_x), "test": len(test_x), "source": "PolyAI Banking77 (Casanueva et al., 2020)"},
        "trained_on_banking77": trained,
        "shipped_out_of_box": shipped,
        "article_hit_rate": articles,
        "speed": speed,
    }
    failed = regressions(result, committed)
    write_reports(result, out, name="banking77-regressed" if failed else "banking77")
    if failed:
        raise SystemExit("Banking77 regression guard failed:\n  " + "\n  ".join(failed))
    return result


async def fast_guard(write: bool = False) -> int:
    """Run the fast guard against ``banking77-fast.json``; 1 on a regression, else 0 (``write``: record, always 0)."""
    settings = Settings()
    result = await run_fast(settings, make_embedder(settings))
    failed = regressions(result, _committed("banking77-fast"))
    if write:
        write_reports(result, COMMITTED, name="banking77-fast", title="Banking77 fast regression guard")
    print(json.dumps(result, indent=2))
    print("\n".join(failed) if failed else "fast guard: no regression beyond 0.5 point", file=sys.stderr)
    return 1 if failed and not write else 0


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Banking77 fast regression guard")
    parser.add_argument("--fast", action="store_true", required=True)
    parser.add_argument("--write", action="store_true", help="record the figures as the committed fast figures")
    raise SystemExit(asyncio.run(fast_guard(parser.parse_args().write)))
