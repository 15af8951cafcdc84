"""Classifier approaches on Banking77: accuracy, coverage at 99 % precision, latency, throughput, training time.

Every approach trains on ``train.csv`` only; its choices (regularisation, ensemble weight, temperature, thresholds) are
made on 5-fold out-of-fold predictions inside ``train.csv``, and ``test.csv`` is scored once at the end. Embeddings of
train/test are cached on disk per backend (``~/.cache/support-autopilot/corpora``) with the seconds they took, which
count in the training time. Each run appends one JSON row to ``evals/reports/classifier-approaches.jsonl``;
``--table`` renders ``evals/reports/classifier-approaches.md`` from those rows.

    nice -n 10 .venv/bin/python -m bench.classifier_bench --approach ensemble --backend onnx --speed
    .venv/bin/python -m bench.classifier_bench --table
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from automations.classifier import read_labelled_csv, train_head
from automations.classifier.head import softmax
from automations.classifier.ngrams import fit_ngram_head
from automations.classifier.training import PRECISION_TARGETS, _fit_temperature, threshold_for
from evals.banking77 import default_data_dir
from knowledge.embedding import MiniLMEmbedder, stored_embeddings

__all__ = ["main"]

REPORTS = Path(__file__).resolve().parents[1] / "evals" / "reports"
ROWS = REPORTS / "classifier-approaches.jsonl"
Predict = Callable[[np.ndarray, Sequence[str]], np.ndarray]


def command_line(module: str) -> str:
    """The running command as it could be typed again, with its ``nice`` level when it has one."""
    niceness = os.nice(0)
    words = [*(["nice", "-n", str(niceness)] if niceness else []), ".venv/bin/python", "-m", module, *sys.argv[1:]]
    return " ".join(words)


class ArrayEmbedder:
    """An :class:`~automations.ports.Embedder` over precomputed vectors (the bench's disk cache)."""

    def __init__(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        self._rows = dict(zip(texts, vectors, strict=True))

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts``, which must all be cached."""
        return np.stack([self._rows[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


Fit = Callable[[np.ndarray, np.ndarray], Predict]


def _oof(fit: Fit, vectors: np.ndarray, y: np.ndarray, texts: list[str]) -> np.ndarray:
    from sklearn.model_selection import StratifiedKFold

    out = np.zeros((len(y), int(y.max()) + 1), dtype=np.float32)
    for a, b in StratifiedKFold(n_splits=5, shuffle=True, random_state=13).split(np.zeros(len(y)), y):
        out[b] = fit(a, y[a])(vectors[b], [texts[i] for i in b])
    return out


def _ngram_fit(vectors: np.ndarray, texts: list[str], classes: int) -> Fit:
    def fit(idx: np.ndarray, y: np.ndarray) -> Predict:
        head = fit_ngram_head([texts[int(i)] for i in idx], y, classes, c=0.5)
        return lambda _x, t: head.scores(t)

    return fit


def _concat_fit(vectors: np.ndarray, texts: list[str], classes: int) -> Fit:
    from scipy import sparse
    from sklearn.svm import LinearSVC

    def fit(idx: np.ndarray, y: np.ndarray) -> Predict:
        ngrams = fit_ngram_head([texts[int(i)] for i in idx], y, classes, c=0.5)
        features = ngrams.features([texts[int(i)] for i in idx])
        model = LinearSVC(C=0.5).fit(sparse.hstack([features, 2 * vectors[idx]]), y)
        return lambda x, t: model.decision_function(sparse.hstack([ngrams.features(t), 2 * x]))

    return fit


async def _train(
    approach: str, texts: list[str], labels: list[str], vectors: np.ndarray
) -> tuple[Predict, dict[str, Any]]:
    """Train one approach; returns its predictor and its validation figures (thresholds included)."""
    if approach in ("emb-lr", "ensemble"):
        head, report = await train_head(
            ArrayEmbedder(texts, vectors), texts, labels, ngram_c=None if approach == "emb-lr" else 0.5
        )
        extra = {"c": report.c, "mix_embedding": report.mix, "ngram_oof_accuracy": report.ngram_oof_accuracy}
        figures = {"oof_accuracy": report.oof_accuracy, "thresholds": head.thresholds, **extra}
        return (lambda x, t: head.probabilities(x, t)), figures
    classes = sorted(set(labels))
    y = np.array([classes.index(label) for label in labels], dtype=np.int64)
    idx = np.arange(len(y))
    fit = (_ngram_fit if approach == "ngram-svm" else _concat_fit)(vectors, texts, len(classes))
    oof = _oof(fit, vectors, y, texts)
    temperature = _fit_temperature(oof, y)
    probs = softmax(oof / np.float32(temperature))
    conf, ok = probs.max(axis=1), probs.argmax(axis=1) == y
    thresholds = {f"{p:.2f}": threshold_for(conf, ok, p) for p in PRECISION_TARGETS}
    final = fit(idx, y)

    def predict(x: np.ndarray, t: Sequence[str]) -> np.ndarray:
        return softmax(np.asarray(final(x, t), np.float32) / np.float32(temperature))

    return predict, {"oof_accuracy": float(ok.mean()), "thresholds": thresholds, "temperature": temperature}


def _speed(embedder: MiniLMEmbedder, predict: Predict, texts: list[str]) -> dict[str, float]:
    """Classifier-only decision latency (one fresh text: embed + head) and batch throughput (batches of 256)."""
    for text in texts[:20]:
        predict(embedder._encode([text]), [text])
    latencies = []
    for i, text in enumerate(texts[:400]):
        fresh = f"{text} (#{i})"
        start = time.perf_counter()
        predict(embedder._encode([fresh]), [fresh])
        latencies.append((time.perf_counter() - start) * 1000)
    batch = [f"{t} [b{i}]" for i, t in enumerate(texts)]
    start = time.perf_counter()
    for lo in range(0, len(batch), 256):
        chunk = batch[lo : lo + 256]
        predict(embedder._encode(chunk), chunk)
    return {
        "latency_p50_ms": round(float(np.percentile(latencies, 50)), 2),
        "latency_p99_ms": round(float(np.percentile(latencies, 99)), 2),
        "throughput_per_s": round(len(batch) / (time.perf_counter() - start), 1),
    }


async def run(approach: str, backend: str, speed: bool) -> dict[str, Any]:
    """Train ``approach`` on train.csv over ``backend`` embeddings, score test.csv once, optionally time it."""
    data = default_data_dir()
    train_x, train_y = read_labelled_csv([data / "train.csv"])
    test_x, test_y = read_labelled_csv([data / "test.csv"])
    embedder = MiniLMEmbedder(backend=backend, cache_size=16)
    train_v, embed_seconds = await stored_embeddings(embedder, train_x)
    test_v, _ = await stored_embeddings(embedder, test_x)
    start = time.perf_counter()
    predict, validation = await _train(approach, train_x, train_y, train_v)
    head_seconds = time.perf_counter() - start
    if approach == "ngram-svm":  # reads the raw text only
        embed_seconds = 0.0
    probs = predict(test_v, test_x)
    labels = sorted(set(train_y))
    pred = [labels[i] for i in probs.argmax(axis=1)]
    conf = probs.max(axis=1)
    correct = np.array([p == g for p, g in zip(pred, test_y, strict=True)])
    kept = conf >= validation["thresholds"]["0.99"]
    row: dict[str, Any] = {
        "approach": approach,
        "backend": backend,
        "command": command_line("bench.classifier_bench"),
        "test_accuracy": round(float(correct.mean()), 4),
        "test_coverage_99": round(float(kept.mean()), 4),
        "test_precision_99": round(float(correct[kept].mean()), 4),
        "oof_accuracy": round(float(validation.pop("oof_accuracy")), 4),
        "train_seconds": round(embed_seconds + head_seconds, 1),
        "train_seconds_embedding": round(embed_seconds, 1),
        "validation": {k: v for k, v in validation.items() if v is not None},
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    if speed:
        row.update(_speed(embedder, predict, test_x))
        row["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    return row


async def compare_backends(backends: Sequence[str], model_dir: Path) -> dict[str, Any]:
    """Speed of the shipped head over each backend, interleaved text by text so all share the same CPU load."""
    from automations.classifier import LinearHead

    head = LinearHead.load(model_dir)
    data = default_data_dir()
    texts, _ = read_labelled_csv([data / "test.csv"])
    embedders = {b: MiniLMEmbedder(backend=b, cache_size=16) for b in backends}
    latencies: dict[str, list[float]] = {b: [] for b in backends}
    for i, text in enumerate(texts[:420]):
        for backend, embedder in embedders.items():
            fresh = f"{text} (#{i})"
            start = time.perf_counter()
            head.probabilities(embedder._encode([fresh]), [fresh])
            if i >= 20:  # warm-up
                latencies[backend].append((time.perf_counter() - start) * 1000)
    row: dict[str, Any] = {"command": command_line("bench.classifier_bench")}
    for backend, embedder in embedders.items():
        batch = [f"{t} [{backend}{i}]" for i, t in enumerate(texts)]
        start = time.perf_counter()
        for lo in range(0, len(batch), 256):
            head.probabilities(embedder._encode(batch[lo : lo + 256]), batch[lo : lo + 256])
        row[backend] = {
            "latency_p50_ms": round(float(np.percentile(latencies[backend], 50)), 2),
            "latency_p99_ms": round(float(np.percentile(latencies[backend], 99)), 2),
            "throughput_per_s": round(len(batch) / (time.perf_counter() - start), 1),
        }
    row["load_average_1m"] = round(os.getloadavg()[0], 2)
    return row


def table(rows: list[dict[str, Any]]) -> str:
    """The Markdown table of every recorded row (latest run of each approach and backend last)."""
    lines = [
        "# Classifier approaches on Banking77",
        "",
        "Train on `train.csv` only (choices on 5-fold out-of-fold predictions inside it), `test.csv` scored once per",
        "row. Coverage@99: share of test queries at or above the 99 %-precision threshold chosen on validation.",
        "Latency/throughput: classifier only (embed + head), one fresh text / batches of 256, on the shared 2-core CPU",
        "(the 1-minute load average at the time is given: above 2 the figures are inflated by other jobs).",
        "",
        "| approach | embeddings | OOF acc | test acc | cov@99 (test precision) | p50 / p99 ms | contacts/s |"
        " train s (embedding) | load | command |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r["approach"] == "ngram-svm" and r["train_seconds_embedding"]:  # rows recorded before it was excluded
            r["train_seconds"] = round(r["train_seconds"] - r["train_seconds_embedding"], 1)
            r["train_seconds_embedding"] = 0.0
        speed = f"{r['latency_p50_ms']} / {r['latency_p99_ms']}" if "latency_p50_ms" in r else "–"
        lines.append(
            f"| {r['approach']} | {r['backend']} | {r['oof_accuracy']:.2%} | {r['test_accuracy']:.2%} | "
            f"{r['test_coverage_99']:.1%} ({r['test_precision_99']:.2%}) | {speed} | "
            f"{r.get('throughput_per_s', '–')} | "
            f"{r['train_seconds']} ({r['train_seconds_embedding']}) | {r['load_average_1m']} | `{r['command']}` |"
        )
    return "\n".join(lines + NOTES) + "\n"


NOTES = [
    "",
    "Shipped: `ensemble`, served on int8 (`onnx-int8`) embeddings since the decision-latency work (float before);",
    "`evals/reports/banking77.json` has its current figures. Rows with the same approach and embeddings are repeat",
    "runs (identical accuracy; speed and training time differ with the CPU load). Float vs int8 speed under one load:",
    "`classifier-backends.json` (`python -m bench.classifier_bench --compare-backends`).",
    "",
    "Not in the table:",
    "- Other pooled features of the same forward pass (mean + max, + CLS token, standardised) and other logistic-",
    "  regression strengths were compared on a holdout inside train.csv during exploration and gave no gain over the",
    "  normalised mean; they were not kept, and not scored on test.",
    "- Fine-tuning MiniLM (`bench/finetune_bench.py`, rows `finetuned` and `finetuned+ensemble`): cross-entropy",
    "  fine-tuning of the encoder (word embeddings frozen) with a linear head, 2 epochs on 90 % of train.csv, on this",
    "  CPU. It took 990 s of the 1,600 s row (over the 15-minute budget) and was still under-fitted (train loss 0.62):",
    '  90.3 % alone (its "OOF acc" column is accuracy on the 10 % validation part); mixed with the frozen',
    "  ensemble (weight 0.15, chosen on the validation part) 94.42 %, against",
    "  94.25 % for the frozen ensemble trained on the same 90 %. Its 99 % threshold, chosen on 1,000 validation",
    "  questions, covers only 47.7 % of test. A fine-tuned encoder would also need a second forward pass per message",
    "  (retrieval uses the original vectors). Not shipped; more epochs need a GPU or a quieter, bigger CPU.",
    "  SetFit-style contrastive pairs were not run: at 40 examples/s for forward + backward here, the pair count",
    "  SetFit needs for 77 classes does not fit the budget either.",
    "- Intermediate layers and kNN (`bench/layers_bench.py`, rows `layers-ensemble` and `knn-ensemble`): one forward",
    "  pass exporting the masked mean of every hidden state. Layer sets screened out-of-fold only: 4–6 93.24 %, 3–6",
    "  93.23 %, 3–5 92.45 %, 5–6 93.29 % (best) against 93.12 % for layer 6 alone; on test 5–6 gives the same 94.45 %",
    "  and 0.4 point less coverage. Blending a cosine-kNN vote (k=40, vote temperature 0.02, weight 0.3, all chosen",
    "  out-of-fold, k and temperature at the edge of their ranges) adds 0.5 point out-of-fold but 0.06 point on test,",
    "  and its 81.1 % coverage@99 is realised at 98.88 %. Neither shipped. A trial run of the script (layers 5–6 at",
    "  C=16 only) scored test.csv once before the full run; every option list was written before it and none changed.",
    "- A learned confidence instead of max-probability (`python -m bench.confidence_bench`: logistic regression on",
    "  out-of-fold top probability, margin, entropy and the two heads' agreement, thresholds from its own out-of-fold",
    "  scores): coverage@99 77.2 % at 98.87 % against 77.05 % at 99.03 % for max-probability on the same refit",
    "  ensemble (int8, 94.38 %); 97 % identical, 98 % 0.6 point lower. No gain; not shipped.",
    "- Thresholds: the rows before `layers-ensemble` chose their 99 % threshold on the observed out-of-fold",
    "  precision, and realised 98.8–99.1 % on test. The trainer now requires the one-sided 95 % Wilson lower bound",
    "  of that precision to meet the target (`threshold_for(..., z=1.645)`): the shipped ensemble then covered 78.7 %",
    "  of test at 99.01 % instead of 81.1 % at 98.88 % (float embeddings).",
    "- Conformal calibration: the thresholds already are a split-conformal-style choice (the lowest confidence whose",
    "  out-of-fold precision reaches the target); the test precision at the 99 % threshold is 98.9 % because the final",
    "  model, refit on all of train.csv, is slightly more confident than its out-of-fold copies.",
]


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--approach", choices=["emb-lr", "ngram-svm", "concat-svm", "ensemble"])
    parser.add_argument("--backend", default="onnx", choices=["onnx", "onnx-int8"])
    parser.add_argument("--speed", action="store_true", help="also time latency and throughput")
    parser.add_argument("--table", action="store_true", help="render the Markdown table from the recorded rows")
    parser.add_argument("--compare-backends", action="store_true", help="speed of the shipped head, onnx vs int8")
    args = parser.parse_args(argv)
    if args.compare_backends:
        from bot.settings import Settings

        result = asyncio.run(compare_backends(["onnx", "onnx-int8"], Settings().model_dir))
        print(json.dumps(result, indent=2))
        (REPORTS / "classifier-backends.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        return
    if args.approach:
        row = asyncio.run(run(args.approach, args.backend, args.speed))
        print(json.dumps(row, indent=2))
        with ROWS.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")
    if args.table or args.approach:
        rows = [json.loads(line) for line in ROWS.read_text(encoding="utf-8").splitlines() if line.strip()]
        (REPORTS / "classifier-approaches.md").write_text(table(rows), encoding="utf-8")


if __name__ == "__main__":
    main()
