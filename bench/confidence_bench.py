"""Does a learned confidence cover more at 99 % precision than the ensemble's max-probability?

The learned confidence is a logistic regression predicting "the top class is right" from out-of-fold features: the
top probability (log), its margin over the second, the entropy, each head's own top probability, and whether the
embedding head, the n-gram head and the ensemble agree. Its thresholds come from its own out-of-fold scores (Wilson
lower bound, as the trainer does). The ensemble here is refit for the experiment (logistic regression on int8
embeddings plus the n-gram SVM, mix and temperature chosen on out-of-fold log-loss); test.csv is scored once for both
confidences.

    .venv/bin/python -m bench.confidence_bench
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from automations.classifier import read_labelled_csv
from automations.classifier.head import softmax
from automations.classifier.ngrams import fit_ngram_head
from automations.classifier.training import CONFIDENCE_Z, PRECISION_TARGETS, threshold_for
from evals.banking77 import default_data_dir
from knowledge.embedding import MiniLMEmbedder, stored_embeddings

Heads = Callable[[Any, list[str]], tuple[Any, Any]]


def _heads(vectors: Any, texts: list[str], y: Any, classes: int) -> Callable[[Any], Heads]:
    def fit(idx: Any) -> Heads:
        lr = LogisticRegression(C=16, max_iter=2000).fit(vectors[idx], y[idx])
        ngrams = fit_ngram_head([texts[i] for i in idx], y[idx], classes, c=0.5)
        return lambda v, t: (lr.decision_function(v), ngrams.scores(t))

    return fit


def _mixed(emb: Any, ngram: Any, weight: float, temperature: float) -> Any:
    return softmax((weight * emb + (1 - weight) * 3 * ngram) / temperature)


def _features(p: Any, emb: Any, ngram: Any) -> Any:
    top = np.sort(p, 1)
    agree = (emb.argmax(1) == ngram.argmax(1)).astype(float)
    entropy = -(p * np.log(p + 1e-9)).sum(1)
    same = (p.argmax(1) == emb.argmax(1)).astype(float)
    p_emb, p_ngram = softmax(emb).max(1), softmax(ngram * 3).max(1)
    margin = top[:, -1] - top[:, -2]
    return np.c_[np.log(top[:, -1] + 1e-9), margin, agree, entropy, p_emb, p_ngram, agree * p_emb, same]


async def main() -> None:
    """Train both heads out-of-fold on train.csv, then compare the two confidences on test.csv."""
    data = default_data_dir()
    train_x, train_y = read_labelled_csv([data / "train.csv"])
    test_x, test_y = read_labelled_csv([data / "test.csv"])
    embedder = MiniLMEmbedder(backend="onnx-int8", cache_size=16)
    train_v, _ = await stored_embeddings(embedder, train_x)
    test_v, _ = await stored_embeddings(embedder, test_x)
    classes = sorted(set(train_y))
    y = np.array([classes.index(c) for c in train_y])
    y_test = np.array([classes.index(c) for c in test_y])
    fit = _heads(train_v, train_x, y, len(classes))
    oof_emb = np.zeros((len(y), len(classes)), np.float32)
    oof_ngram = np.zeros_like(oof_emb)
    for a, b in StratifiedKFold(5, shuffle=True, random_state=13).split(train_v, y):
        oof_emb[b], oof_ngram[b] = fit(a)(train_v[b], [train_x[i] for i in b])
    test_emb, test_ngram = fit(np.arange(len(y)))(test_v, test_x)
    grid = [(w, t) for w in (0.5, 0.6, 0.7, 0.8) for t in (0.5, 0.75, 1.0, 1.5, 2.0, 3.0)]
    weight, temperature = min(
        grid, key=lambda p: -np.log(_mixed(oof_emb, oof_ngram, *p)[np.arange(len(y)), y] + 1e-9).mean()
    )
    p_oof, p_test = _mixed(oof_emb, oof_ngram, weight, temperature), _mixed(test_emb, test_ngram, weight, temperature)
    ok_oof, ok_test = p_oof.argmax(1) == y, p_test.argmax(1) == y_test
    print(f"mix {weight}, temperature {temperature}: oof accuracy {ok_oof.mean():.4f}, test {ok_test.mean():.4f}")
    f_oof, f_test = _features(p_oof, oof_emb, oof_ngram), _features(p_test, test_emb, test_ngram)
    model = LogisticRegression(C=1, max_iter=2000)
    learned_oof = cross_val_predict(model, f_oof, ok_oof, cv=5, method="predict_proba")[:, 1]
    learned_test = model.fit(f_oof, ok_oof).predict_proba(f_test)[:, 1]
    for name, oof, test in (("max-prob", p_oof.max(1), p_test.max(1)), ("learned", learned_oof, learned_test)):
        for target in PRECISION_TARGETS:
            threshold = threshold_for(oof, ok_oof, target, z=CONFIDENCE_Z)
            kept = test >= threshold
            print(f"{name:9s} @{target}: test coverage {kept.mean():.4f} at precision {ok_test[kept].mean():.4f}")
    print("command: .venv/bin/python -m bench.confidence_bench; load average", round(os.getloadavg()[0], 2))


if __name__ == "__main__":
    asyncio.run(main())
