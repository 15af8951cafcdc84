"""Training the linear head: cross-validated model selection, temperature calibration and thresholds.

Out-of-fold predictions (stratified k-fold inside the training data) choose the regularisation strength, fit the
temperature by minimising the negative log-likelihood, and set a confidence threshold per precision target. The
final head is then refit on all the training data with the chosen settings.
"""

from __future__ import annotations

import asyncio
import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from automations.classifier.head import LinearHead, softmax
from automations.configfile import ConfigError
from automations.ports import Embedder

__all__ = ["PRECISION_TARGETS", "TrainReport", "coverage_at", "read_labelled_csv", "threshold_for", "train_head"]

PRECISION_TARGETS = (0.97, 0.98, 0.99)
Array = npt.NDArray[np.float32]


@dataclass(slots=True)
class TrainReport:
    """Validation figures from the out-of-fold predictions."""

    examples: int
    classes: int
    c: float
    temperature: float
    oof_accuracy: float
    oof_nll: float
    thresholds: dict[str, float]
    coverage: dict[str, float]
    seconds: float
    grid: dict[str, float] = field(default_factory=dict)


def read_labelled_csv(paths: Sequence[Path | str]) -> tuple[list[str], list[str]]:
    """Read ``text,category`` rows from one or more CSV files; bad rows raise ``ConfigError`` with file and line."""
    texts: list[str] = []
    labels: list[str] = []
    for path in paths:
        with Path(path).open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not {"text", "category"} <= set(reader.fieldnames):
                raise ConfigError(path, 1, "the header must contain the columns text,category")
            for row in reader:
                text, label = (row.get("text") or "").strip(), (row.get("category") or "").strip()
                if not text or not label:
                    raise ConfigError(path, reader.line_num, "empty text or category")
                texts.append(text)
                labels.append(label)
    if not texts:
        raise ConfigError(paths[0] if paths else "<none>", None, "no training examples")
    return texts, labels


def threshold_for(confidence: Array, correct: npt.NDArray[np.bool_], precision: float) -> float:
    """Lowest confidence threshold whose accepted predictions reach ``precision`` (1.01 if none does)."""
    order = np.argsort(-confidence, kind="stable")
    ranked = confidence[order]
    hits = np.cumsum(correct[order])
    prec = hits / np.arange(1, len(order) + 1)
    # a threshold accepts every tied confidence, so only cut where the next confidence is strictly lower
    boundary = np.append(ranked[1:] < ranked[:-1], True)
    ok = np.nonzero((prec >= precision) & boundary)[0]
    if len(ok) == 0:
        return 1.01
    return float(ranked[int(ok[-1])])


def coverage_at(confidence: Array, threshold: float) -> float:
    """Fraction of predictions at or above ``threshold``."""
    return float(np.mean(confidence >= threshold))


def _fit(x: Array, y: npt.NDArray[np.int64], c: float) -> tuple[Array, Array]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000)
    model.fit(x, y)
    weights = np.zeros((x.shape[1], int(y.max()) + 1), dtype=np.float32)
    bias = np.zeros(int(y.max()) + 1, dtype=np.float32)
    weights[:, model.classes_] = model.coef_.T
    bias[model.classes_] = model.intercept_
    bias[np.setdiff1d(np.arange(len(bias)), model.classes_)] = -1e4
    return weights, bias


def _oof_logits(x: Array, y: npt.NDArray[np.int64], c: float, folds: int, seed: int) -> Array:
    from sklearn.model_selection import StratifiedKFold

    logits = np.zeros((len(y), int(y.max()) + 1), dtype=np.float32)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_idx, val_idx in splitter.split(x, y):
        weights, bias = _fit(x[fit_idx], y[fit_idx], c)
        logits[val_idx] = x[val_idx] @ weights + bias
    return logits


def _nll(logits: Array, y: npt.NDArray[np.int64], temperature: float) -> float:
    probs = softmax(logits / np.float32(temperature))
    return float(-np.mean(np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None))))


def _fit_temperature(logits: Array, y: npt.NDArray[np.int64]) -> float:
    from scipy.optimize import minimize_scalar

    result = minimize_scalar(lambda t: _nll(logits, y, t), bounds=(0.05, 20.0), method="bounded")
    return float(result.x)


def _train_sync(
    x: Array, labels: Sequence[str], grid: Sequence[float], folds: int, operating: float, seed: int
) -> tuple[LinearHead, TrainReport]:
    start = time.perf_counter()
    classes = sorted(set(labels))
    y = np.array([classes.index(label) for label in labels], dtype=np.int64)
    min_count = int(np.bincount(y).min())
    folds = max(2, min(folds, min_count))
    scores: dict[str, float] = {}
    best: tuple[float, float, Array] | None = None
    for c in grid:
        logits = _oof_logits(x, y, c, folds, seed)
        accuracy = float(np.mean(logits.argmax(axis=1) == y))
        scores[str(c)] = accuracy
        if best is None or accuracy > best[0]:
            best = (accuracy, c, logits)
    assert best is not None
    accuracy, c, logits = best
    temperature = _fit_temperature(logits, y)
    probs = softmax(logits / np.float32(temperature))
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    thresholds = {f"{p:.2f}": threshold_for(confidence, correct, p) for p in PRECISION_TARGETS}
    coverage = {k: coverage_at(confidence, v) for k, v in thresholds.items()}
    weights, bias = _fit(x, y, c)
    report = TrainReport(
        examples=len(y),
        classes=len(classes),
        c=c,
        temperature=temperature,
        oof_accuracy=accuracy,
        oof_nll=_nll(logits, y, temperature),
        thresholds=thresholds,
        coverage=coverage,
        seconds=0.0,
        grid=scores,
    )
    head = LinearHead(
        labels=tuple(classes),
        weights=weights,
        bias=bias,
        temperature=temperature,
        threshold=thresholds[f"{operating:.2f}"]
        if f"{operating:.2f}" in thresholds
        else threshold_for(confidence, correct, operating),
        thresholds=thresholds,
    )
    report.seconds = time.perf_counter() - start
    return head, report


async def train_head(
    embedder: Embedder,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    grid: Sequence[float] = (1.0, 4.0, 16.0, 64.0),
    folds: int = 5,
    operating_precision: float = 0.97,
    seed: int = 13,
) -> tuple[LinearHead, TrainReport]:
    """Embed ``texts`` and train a calibrated head; the pipeline's threshold targets ``operating_precision``."""
    start = time.perf_counter()
    x = await embedder.embed(list(texts))
    head, report = await asyncio.to_thread(_train_sync, x, list(labels), grid, folds, operating_precision, seed)
    report.seconds = time.perf_counter() - start
    info = {
        "examples": report.examples,
        "c": report.c,
        "oof_accuracy": round(report.oof_accuracy, 4),
        "coverage": {k: round(v, 4) for k, v in report.coverage.items()},
        "operating_precision": operating_precision,
    }
    return replace(head, info=info), report
