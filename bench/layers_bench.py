"""Two more ideas for the frozen-encoder classifier on Banking77: intermediate-layer features and kNN blending.

1. ``layers-ensemble``: MiniLM is exported to ONNX with the attention-masked mean of EVERY hidden state as its output
   (one forward pass, ``~/.cache/support-autopilot/minilm-<digest>-layers.onnx``); the chosen layers, each
   L2-normalised, are concatenated and replace the final-layer embedding in the shipped ensemble (logistic regression
   on embeddings + character/word TF-IDF SVM, mixed and temperature-calibrated).
2. ``knn-ensemble``: the ensemble's probabilities mixed with a cosine-kNN vote over the training embeddings.

Every choice (layers, C, mixing weight, k, vote temperature, kNN weight, temperature, thresholds) is made on the same
5-fold out-of-fold predictions inside ``train.csv`` as ``bench/classifier_bench.py``; ``test.csv`` is scored once per
approach. The 99 % threshold uses the trainer's Wilson lower-bound rule (``threshold_for(..., z=CONFIDENCE_Z)``).
Rows are appended to ``evals/reports/classifier-approaches.jsonl`` and the table is re-rendered.

    nice -n 10 .venv/bin/python -m bench.layers_bench
    .venv/bin/python -m bench.classifier_bench --table
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from automations.classifier import read_labelled_csv
from automations.classifier.head import softmax
from automations.classifier.ngrams import fit_ngram_head
from automations.classifier.training import (
    CONFIDENCE_Z,
    PRECISION_TARGETS,
    _ensemble,
    _fit,
    _fit_temperature,
    _ngram_oof,
    _oof_logits,
    threshold_for,
)
from bench.classifier_bench import ROWS, command_line
from bench.classifier_bench import main as render
from evals.banking77 import default_data_dir
from knowledge.embedding import DEFAULT_CACHE, model_path, stored_embeddings
from knowledge.onnx_backend import _digest

__all__ = ["main"]

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
FOLDS, SEED, NGRAM_C, C_GRID = 5, 13, 0.5, (1.0, 4.0, 16.0, 64.0)
LAYER_SETS = ((6,), (4, 5, 6), (3, 4, 5, 6), (5, 6), (3, 4, 5))
"""Candidate layers (1-6 are the transformer layers, 0 the token embeddings); ``(6,)`` is the shipped feature."""
KNN_K, KNN_TAU, KNN_WEIGHT = (5, 10, 20, 40), (0.02, 0.05, 0.1), (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


def export_layers(model_dir: Path, target: Path) -> Path:
    """Export MiniLM with one output ``pooled``: the masked mean of every hidden state, ``(batch, 7, 384)``."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    sample = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)(["a sample"], return_tensors="pt")

    class _Pooled(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(input_ids, attention_mask, token_type_ids, output_hidden_states=True)
            states = torch.stack(out.hidden_states, dim=1)
            mask = attention_mask[:, None, :, None].to(states.dtype)
            return (states * mask).sum(dim=2) / mask.sum(dim=2).clamp(min=1e-9)

    axes: dict[str, dict[int, str]] = {name: {0: "batch", 1: "tokens"} for name in INPUTS}
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")  # renamed into place once complete
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on data-dependent branches
        torch.onnx.export(
            _Pooled(model), tuple(sample[name] for name in INPUTS), str(tmp), input_names=list(INPUTS),
            output_names=["pooled"], dynamic_axes={**axes, "pooled": {0: "batch"}}, opset_version=17, dynamo=False,
        )  # fmt: skip
    os.replace(tmp, target)
    return target


class LayerEncoder:
    """Duck-typed for :func:`stored_embeddings`: ``embed`` returns ``(n, 7, 384)`` un-normalised layer means."""

    backend = "onnx-layers"

    def __init__(self) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        path = DEFAULT_CACHE / f"minilm-{_digest(model_path())}-layers.onnx"
        if not path.exists():
            export_layers(model_path(), path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._tokenizer: Any = AutoTokenizer.from_pretrained(str(model_path()), local_files_only=True)

    def remember(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Nothing to remember: the disk cache is enough here."""

    async def embed(self, texts: Sequence[str], batch: int = 64) -> np.ndarray:
        """Layer means of ``texts``, batched by similar length."""
        order = np.argsort([len(t) for t in texts])
        out = np.zeros((len(texts), 7, 384), dtype=np.float32)
        for lo in range(0, len(texts), batch):
            idx = order[lo : lo + batch]
            tokens = self._tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=256)
            out[idx] = self._session.run(None, {k: np.asarray(tokens[k], dtype=np.int64) for k in INPUTS})[0]
        return out


def features(pooled: np.ndarray, layers: Sequence[int]) -> np.ndarray:
    """The chosen layers' means, each L2-normalised, concatenated."""
    chosen = pooled[:, list(layers)]
    return (chosen / np.linalg.norm(chosen, axis=2, keepdims=True)).reshape(len(pooled), -1)


def _splits(y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED).split(np.zeros(len(y)), y))


def oof_ensemble(x: np.ndarray, y: np.ndarray, ngram_oof: np.ndarray) -> dict[str, Any]:
    """The trainer's recipe on out-of-fold predictions: C by accuracy, n-gram weight by log-loss, then temperature."""
    runs = {c: _oof_logits(x, y, c, FOLDS, SEED) for c in C_GRID}
    c = max(C_GRID, key=lambda k: (float(np.mean(runs[k].argmax(axis=1) == y)), -C_GRID.index(k)))
    mixed = _ensemble(runs[c], ngram_oof, y)
    temp = _fit_temperature(mixed.logits, y)
    return {"c": c, "mixed": mixed, "temperature": temp, "probs": softmax(mixed.logits / np.float32(temp))}


def neighbours(bank: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices into ``bank`` and cosine similarities of each query's ``k`` nearest rows, nearest first."""
    sims = queries @ bank.T
    top = np.argpartition(-sims, k, axis=1)[:, :k]
    top_sims = np.take_along_axis(sims, top, axis=1)
    order = np.argsort(-top_sims, axis=1)
    return np.take_along_axis(top, order, axis=1), np.take_along_axis(top_sims, order, axis=1)


def vote(labels: np.ndarray, sims: np.ndarray, k: int, tau: float, classes: int) -> np.ndarray:
    """Class distribution of the ``k`` nearest neighbours, each weighted by ``exp(similarity / tau)``."""
    weights = np.exp((sims[:, :k] - sims[:, :1]) / tau)
    out = np.zeros((len(labels), classes), dtype=np.float32)
    np.add.at(out, (np.repeat(np.arange(len(labels)), k), labels[:, :k].ravel()), weights.ravel())
    return out / out.sum(axis=1, keepdims=True)


def oof_neighbours(bank: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels and similarities of each training row's nearest rows among the other folds (same folds as the heads)."""
    labels = np.zeros((len(y), max(KNN_K)), dtype=np.int64)
    sims = np.zeros((len(y), max(KNN_K)), dtype=np.float32)
    for a, b in _splits(y):
        idx, sims[b] = neighbours(bank[a], bank[b], max(KNN_K))
        labels[b] = y[a][idx]
    return labels, sims


def validation(probs: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Out-of-fold accuracy, log-loss, thresholds (Wilson rule) and the out-of-fold coverage at 99 %."""
    conf, ok = probs.max(axis=1), probs.argmax(axis=1) == y
    thresholds = {f"{p:.2f}": threshold_for(conf, ok, p, z=CONFIDENCE_Z) for p in PRECISION_TARGETS}
    nll = float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None))))
    return {"oof_accuracy": float(ok.mean()), "oof_nll": nll, "thresholds": thresholds,
            "oof_coverage_99": float(np.mean(conf >= thresholds["0.99"]))}  # fmt: skip


def final_probs(train: np.ndarray, test: np.ndarray, y: np.ndarray, ngrams: np.ndarray, oof: dict[str, Any]) -> Any:
    """Refit the embedding head on all of train.csv with the out-of-fold choices; calibrated test probabilities."""
    weights, bias = _fit(train, y, oof["c"])
    mixed = oof["mixed"]
    logits = np.float32(mixed.emb_scale) * (test @ weights + bias) + np.float32(mixed.ngram_scale) * ngrams
    return softmax(logits / np.float32(oof["temperature"]))


def knn_choice(base: np.ndarray, y: np.ndarray, banks: dict[Any, np.ndarray]) -> dict[str, Any]:
    """Bank, k, vote temperature and kNN weight that minimise the out-of-fold log-loss of the blend."""
    best: dict[str, Any] = {"nll": np.inf}
    for name, bank in banks.items():
        labels, sims = oof_neighbours(bank, y)
        for k in KNN_K:
            for tau in KNN_TAU:
                knn = vote(labels, sims, k, tau, base.shape[1])
                for weight in KNN_WEIGHT:
                    probs = (1 - weight) * base + weight * knn
                    nll = float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None))))
                    if nll < best["nll"] - 1e-9:
                        best = {"nll": nll, "bank": name, "k": k, "tau": tau, "weight": weight, "probs": probs}
    return best


def row(approach: str, backend: str, probs: np.ndarray, gold: np.ndarray, oof: dict[str, Any], **extra: Any) -> dict:
    """One row in ``classifier_bench``'s format, scored on test.csv at the out-of-fold 99 % threshold."""
    conf, correct = probs.max(axis=1), probs.argmax(axis=1) == gold
    kept = conf >= oof["thresholds"]["0.99"]
    test = {"accuracy": correct, "coverage_99": kept, "precision_99": correct[kept]}
    seconds = extra.pop("seconds")
    return {
        "approach": approach,
        "backend": backend,
        "command": command_line("bench.layers_bench"),
        **{f"test_{key}": round(float(values.mean()), 4) for key, values in test.items()},
        "oof_accuracy": round(oof["oof_accuracy"], 4),
        "train_seconds": round(seconds["embedding"] + seconds["head"], 1),
        "train_seconds_embedding": round(seconds["embedding"], 1),
        "validation": {"thresholds": oof["thresholds"], "oof_coverage_99": round(oof["oof_coverage_99"], 4), **extra},
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def summary(oof: dict[str, Any]) -> dict[str, Any]:
    """The printable out-of-fold figures of one candidate."""
    keys = ("c", "oof_accuracy", "oof_nll", "oof_coverage_99", "seconds")
    return {k: round(oof[k], 4) for k in keys} | {"mix_embedding": oof["mixed"].mix}


async def run() -> list[dict[str, Any]]:
    """Choose on out-of-fold predictions, then score test.csv once for each idea that beat the shipped ensemble."""
    data = default_data_dir()
    train_x, train_y = read_labelled_csv([data / "train.csv"])
    test_x, test_y = read_labelled_csv([data / "test.csv"])
    encoder = LayerEncoder()
    pooled, embedding = await stored_embeddings(encoder, train_x)
    pooled_test, _ = await stored_embeddings(encoder, test_x)
    classes = sorted(set(train_y))
    y = np.array([classes.index(label) for label in train_y], dtype=np.int64)
    gold = np.array([classes.index(label) for label in test_y], dtype=np.int64)
    start = time.perf_counter()
    ngram_oof = _ngram_oof(train_x, y, NGRAM_C, FOLDS, SEED)
    ngram = fit_ngram_head(train_x, y, len(classes), c=NGRAM_C)
    shared = time.perf_counter() - start
    ngram_test = ngram.scores(test_x)
    candidates: dict[tuple[int, ...], dict[str, Any]] = {}
    for layers in LAYER_SETS:
        start = time.perf_counter()
        oof = oof_ensemble(features(pooled, layers), y, ngram_oof)
        candidates[layers] = {**oof, **validation(oof["probs"], y), "seconds": time.perf_counter() - start}
        print("layers", layers, json.dumps(summary(candidates[layers])), flush=True)
    best = max(LAYER_SETS, key=lambda s: (candidates[s]["oof_accuracy"], -LAYER_SETS.index(s)))
    rows: list[dict[str, Any]] = []
    if best != LAYER_SETS[0]:
        start = time.perf_counter()
        probs = final_probs(features(pooled, best), features(pooled_test, best), y, ngram_test, candidates[best])
        head = shared + candidates[best]["seconds"] + time.perf_counter() - start
        extra = {"layers": list(best), "c": candidates[best]["c"], "mix_embedding": candidates[best]["mixed"].mix}
        seconds = {"embedding": embedding, "head": head}
        rows.append(row("layers-ensemble", "onnx-layers", probs, gold, candidates[best], seconds=seconds, **extra))
    base = candidates[LAYER_SETS[0]]
    start = time.perf_counter()
    banks = {s: features(pooled, s) / np.sqrt(len(s)) for s in dict.fromkeys((LAYER_SETS[0], best))}
    knn = knn_choice(base["probs"], y, banks)
    knn.update(validation(knn["probs"], y))
    print("knn", {k: v for k, v in knn.items() if k not in ("probs", "thresholds")}, flush=True)
    if knn["weight"] > 0:
        layers = knn["bank"]
        ens = final_probs(features(pooled, LAYER_SETS[0]), features(pooled_test, LAYER_SETS[0]), y, ngram_test, base)
        idx, sims = neighbours(banks[knn["bank"]], features(pooled_test, layers) / np.sqrt(len(layers)), knn["k"])
        probs = (1 - knn["weight"]) * ens + knn["weight"] * vote(y[idx], sims, knn["k"], knn["tau"], len(classes))
        head = shared + base["seconds"] + time.perf_counter() - start
        extra = {key: knn[key] for key in ("k", "tau", "weight")} | {"bank_layers": list(layers), "c": base["c"]}
        seconds = {"embedding": embedding, "head": head}
        backend = "onnx" if layers == LAYER_SETS[0] else "onnx-layers"
        rows.append(row("knn-ensemble", backend, probs, gold, knn, seconds=seconds, **extra))
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="print the rows without recording them")
    args = parser.parse_args(argv)
    rows = asyncio.run(run())
    print(json.dumps(rows, indent=2))
    if not args.dry_run and rows:
        with ROWS.open("a", encoding="utf-8") as handle:
            handle.writelines(json.dumps(r) + "\n" for r in rows)
        render(["--table"])


if __name__ == "__main__":
    main()
