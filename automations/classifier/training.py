"""Training the head: cross-validated model selection, ensembling, temperature calibration and thresholds.

Out-of-fold predictions (stratified k-fold inside the training data) choose the regularisation strength of the
logistic regression on embeddings, the weight of the n-gram SVM in the ensemble (by out-of-fold log-loss), fit the
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
from automations.classifier.ngrams import NgramHead, fit_ngram_head
from automations.configfile import ConfigError
from automations.ports import Embedder

__all__ = ["PRECISION_TARGETS", "TrainReport", "coverage_at", "read_labelled_csv", "threshold_for", "train_head"]

PRECISION_TARGETS = (0.97, 0.98, 0.99)
CONFIDENCE_Z = 1.645
"""Thresholds are chosen so the one-sided 95 % lower bound of out-of-fold precision meets the target."""
MIX_GRID = tuple(round(0.1 * i, 1) for i in range(11))
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
    mix: float = 1.0
    ngram_oof_accuracy: float | None = None
    mix_nll: dict[str, float] = field(default_factory=dict)


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


def threshold_for(confidence: Array, correct: npt.NDArray[np.bool_], precision: float, *, z: float = 0.0) -> float:
    """Lowest confidence threshold whose accepted predictions reach ``precision`` (1.01 if none does).

    With ``z > 0`` the precision that must reach the target is the Wilson lower bound at that many standard errors
    (1.645: one-sided 95 %), not the observed one, so a threshold chosen on held-out predictions keeps its promise on
    new data instead of meeting it only on average.
    """
    order = np.argsort(-confidence, kind="stable")
    ranked = confidence[order]
    hits = np.cumsum(correct[order])
    n = np.arange(1, len(order) + 1)
    prec = hits / n
    if z > 0:
        z2 = z * z
        centre = prec + z2 / (2 * n)
        spread = z * np.sqrt(prec * (1 - prec) / n + z2 / (4 * n * n))
        prec = (centre - spread) / (1 + z2 / n)
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


def _ngram_oof(texts: Sequence[str], y: npt.NDArray[np.int64], c: float, folds: int, seed: int) -> Array:
    from sklearn.model_selection import StratifiedKFold

    classes = int(y.max()) + 1
    scores = np.zeros((len(y), classes), dtype=np.float32)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_idx, val_idx in splitter.split(np.zeros(len(y)), y):
        head = fit_ngram_head([texts[i] for i in fit_idx], y[fit_idx], classes, c=c)
        scores[val_idx] = head.scores([texts[i] for i in val_idx])
    return scores


@dataclass(frozen=True, slots=True)
class _Ensemble:
    mix: float
    emb_scale: float
    ngram_scale: float
    logits: Array
    nll: dict[str, float]


def _ensemble(emb: Array, ngram: Array | None, y: npt.NDArray[np.int64]) -> _Ensemble:
    """Mix temperature-normalised embedding logits and n-gram scores; the weight minimises out-of-fold log-loss."""
    t_emb = _fit_temperature(emb, y)
    if ngram is None:
        return _Ensemble(1.0, 1.0 / t_emb, 0.0, emb / np.float32(t_emb), {})
    t_ngram = _fit_temperature(ngram, y)
    nll: dict[str, float] = {}
    best: _Ensemble | None = None
    for mix in MIX_GRID:
        logits = np.float32(mix / t_emb) * emb + np.float32((1 - mix) / t_ngram) * ngram
        nll[str(mix)] = loss = _nll(logits, y, _fit_temperature(logits, y))
        if best is None or loss < nll[str(best.mix)]:
            best = _Ensemble(mix, mix / t_emb, (1 - mix) / t_ngram, logits, nll)
    assert best is not None
    return best


def _train_sync(
    x: Array,
    texts: Sequence[str],
    labels: Sequence[str],
    grid: Sequence[float],
    folds: int,
    operating: float,
    seed: int,
    ngram_c: float | None,
    calibration: Sequence[bool] | None = None,
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
    _, c, emb_logits = best
    ngram_oof = _ngram_oof(texts, y, ngram_c, folds, seed) if ngram_c is not None else None
    mixed = _ensemble(emb_logits, ngram_oof, y)
    logits = mixed.logits
    temperature = _fit_temperature(logits, y)
    probs = softmax(logits / np.float32(temperature))
    confidence = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y
    if calibration is not None:  # thresholds from the held-out predictions of the rows that resemble real traffic
        rows = np.asarray(calibration, dtype=bool)
        confidence, correct = confidence[rows], correct[rows]
    thresholds = {f"{p:.2f}": threshold_for(confidence, correct, p, z=CONFIDENCE_Z) for p in PRECISION_TARGETS}
    coverage = {k: coverage_at(confidence, v) for k, v in thresholds.items()}
    weights, bias = _fit(x, y, c)
    ngrams: NgramHead | None = None
    if ngram_c is not None and mixed.mix < 1.0:
        ngrams = fit_ngram_head(texts, y, len(classes), c=ngram_c).scaled(mixed.ngram_scale)
    report = TrainReport(
        examples=len(y),
        classes=len(classes),
        c=c,
        temperature=temperature,
        oof_accuracy=float(np.mean(correct)),
        oof_nll=_nll(logits, y, temperature),
        thresholds=thresholds,
        coverage=coverage,
        seconds=0.0,
        grid=scores,
        mix=mixed.mix,
        ngram_oof_accuracy=None if ngram_oof is None else float(np.mean(ngram_oof.argmax(axis=1) == y)),
        mix_nll=mixed.nll,
    )
    head = LinearHead(
        labels=tuple(classes),
        weights=(weights * np.float32(mixed.emb_scale)).astype(np.float32),
        bias=(bias * np.float32(mixed.emb_scale)).astype(np.float32),
        temperature=temperature,
        threshold=thresholds[f"{operating:.2f}"]
        if f"{operating:.2f}" in thresholds
        else threshold_for(confidence, correct, operating, z=CONFIDENCE_Z),
        thresholds=thresholds,
        ngrams=ngrams,
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
    ngram_c: float | None = 0.5,
    calibration: Sequence[bool] | None = None,
) -> tuple[LinearHead, TrainReport]:
    """Embed ``texts`` and train a calibrated head; the pipeline's threshold targets ``operating_precision``.

    ``ngram_c`` is the SVM regularisation of the n-gram half of the ensemble; ``None`` trains embeddings only.
    ``calibration`` marks the examples whose out-of-fold predictions set the thresholds (real traffic rather than
    written examples, whose own precision does not transfer); ``None``: all of them.
    """
    start = time.perf_counter()
    x = await embedder.embed(list(texts))
    head, report = await asyncio.to_thread(
        _train_sync, x, list(texts), list(labels), grid, folds, operating_precision, seed, ngram_c, calibration
    )
    report.seconds = time.perf_counter() - start
    info = {
        "examples": report.examples,
        "c": report.c,
        "oof_accuracy": round(report.oof_accuracy, 4),
        "ngram_mix": round(1.0 - report.mix, 2),
        "coverage": {k: round(v, 4) for k, v in report.coverage.items()},
        "operating_precision": operating_precision,
        "calibrated_on": "all examples, out of fold"
        if calibration is None
        else f"{sum(calibration)} marked examples, out of fold",
    }
    return replace(head, info=info), report
