"""``autopilot eval open-intent``: open intent detection on Banking77, measured the way the literature does.

Protocol (Shu et al. 2017; Lin & Xu 2019; Zhang et al. 2021, "Deep Open Intent Classification with Adaptive Decision
Boundary", ADB): a share of the 77 intents (25 %, 50 % or 75 %, drawn at random per seed) is known; the classifier
trains on the train split's examples of those intents only, with a tenth of them held out for validation; every test
question of an unseen intent is labelled ``open``. Reported: accuracy over all test questions, macro-F1 over the known
intents plus ``open``, the open class's F1, and the known intents' macro-F1, averaged over seeds.

Our model is the product's: frozen MiniLM sentence embeddings and a logistic-regression head (no fine-tuning). Two
rejection rules, both chosen on known-only validation data (no open example is seen before test):

- ``msp``: maximum softmax probability below the 5th percentile of the validation questions' top probability;
- ``boundary``: cosine distance to the predicted intent's centroid beyond that intent's radius, the 95th percentile
  of its validation questions' distances (a spherical decision boundary per intent, as ADB learns, here from
  quantiles instead of a learned loss).

Published BANKING figures (ADB, BERT fine-tuned, mean of 10 seeds; the official repository's README) are printed
beside ours. Test is scored once per setting; nothing is chosen on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from automations.classifier import read_labelled_csv
from bot.composition import make_embedder
from bot.settings import Settings
from evals.banking77 import default_data_dir
from knowledge.embedding import stored_embeddings

__all__ = ["PUBLISHED", "RATIOS", "run_open_intent", "scores"]

RATIOS = (0.25, 0.5, 0.75)
OPEN = "open"
PUBLISHED = {  # ADB (Zhang, Xu & Lin, AAAI 2021), BANKING: accuracy, macro-F1 (all), open F1, known macro-F1 (in %)
    "0.25": {"ADB": [78.85, 71.62, 84.56, 70.94], "MSP": [43.67, 50.09, 41.43, 50.55],
             "DOC": [56.99, 58.03, 61.42, 57.85]},
    "0.5": {"ADB": [78.86, 80.90, 78.44, 80.96], "MSP": [59.73, 71.18, 41.19, 71.97],
            "DOC": [64.81, 73.12, 55.14, 73.59]},
    "0.75": {"ADB": [81.08, 85.96, 66.47, 86.29], "MSP": [75.89, 83.60, 39.23, 84.36],
             "DOC": [76.77, 83.34, 50.60, 83.91]},
}  # fmt: skip
SOURCE = "github.com/thuiar/Adaptive-Decision-Boundary README (Zhang et al., 2021), BERT-base fine-tuned"


def scores(gold: list[str], pred: list[str], known: set[str]) -> dict[str, float]:
    """Accuracy, macro-F1 over ``known`` + open, open F1 and known macro-F1 (fractions)."""
    from sklearn.metrics import f1_score

    labels = [*sorted(known), OPEN]
    f1 = f1_score(gold, pred, labels=labels, average=None, zero_division=0)
    return {
        "accuracy": round(float(np.mean([g == p for g, p in zip(gold, pred, strict=True)])), 4),
        "macro_f1": round(float(np.mean(f1)), 4),
        "open_f1": round(float(f1[-1]), 4),
        "known_f1": round(float(np.mean(f1[:-1])), 4),
    }


def _unit(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return np.asarray(x / np.linalg.norm(x, axis=1, keepdims=True).clip(1e-9), dtype=np.float32)


def _setting(
    x: npt.NDArray[np.float32], y: list[str], tx: npt.NDArray[np.float32], ty: list[str], ratio: float, seed: int
) -> dict[str, dict[str, float]]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(seed)
    intents = sorted(set(y))
    known = set(rng.choice(intents, size=round(len(intents) * ratio), replace=False).tolist())
    rows = [i for i, label in enumerate(y) if label in known]
    fit, val = train_test_split(rows, test_size=0.1, random_state=seed, stratify=[y[i] for i in rows])
    model = LogisticRegression(C=16.0, max_iter=2000).fit(x[fit], [y[i] for i in fit])
    classes = list(model.classes_)
    gold = [label if label in known else OPEN for label in ty]

    # msp: the 5th percentile of validation confidence
    floor = float(np.quantile(model.predict_proba(x[val]).max(axis=1), 0.05))
    probs = model.predict_proba(tx)
    guess = [classes[i] for i in probs.argmax(axis=1)]
    msp = [g if p >= floor else OPEN for g, p in zip(guess, probs.max(axis=1), strict=True)]

    # boundary: per-intent centroid and radius (95th percentile of validation distances to it)
    unit, test_unit = _unit(x), _unit(tx)
    centroids = _unit(np.stack([unit[[i for i in fit if y[i] == c]].mean(axis=0) for c in classes]))
    radius = {}
    for k, c in enumerate(classes):
        mine = [i for i in val if y[i] == c]
        radius[c] = float(np.quantile(1.0 - unit[mine] @ centroids[k], 0.95))
    distance = 1.0 - np.einsum("ij,ij->i", test_unit, centroids[probs.argmax(axis=1)])
    boundary = [g if d <= radius[g] else OPEN for g, d in zip(guess, distance, strict=True)]
    return {"msp": scores(gold, msp, known), "boundary": scores(gold, boundary, known)}


async def run_open_intent(settings: Settings, *, data: Path | None = None, seeds: int = 5) -> dict[str, Any]:
    """Every known-intent ratio over ``seeds`` draws; means beside the published figures."""
    data = data or default_data_dir()
    train_x, train_y = read_labelled_csv([data / "train.csv"])
    test_x, test_y = read_labelled_csv([data / "test.csv"])
    embedder = make_embedder(settings, cache_size=len(train_x) + len(test_x) + 1024)
    x, _ = await stored_embeddings(embedder, train_x)
    tx, _ = await stored_embeddings(embedder, test_x)
    result: dict[str, Any] = {
        "command": f"autopilot eval open-intent --seeds {seeds}",
        "protocol": "known intents drawn per seed; train on their train examples (10 % held out for validation); "
        "test: all 3,080 questions, unseen intents labelled open",
        "model": "MiniLM (frozen, int8 ONNX) + logistic regression (C=16)",
        "seeds": seeds,
        "published_source": SOURCE,
        "ratios": {},
    }
    for ratio in RATIOS:
        runs = [_setting(x, train_y, tx, test_y, ratio, seed) for seed in range(seeds)]
        ours = {
            method: {k: round(float(np.mean([r[method][k] for r in runs])), 4) for k in runs[0][method]}
            for method in runs[0]
        }
        published = {
            name: dict(zip(("accuracy", "macro_f1", "open_f1", "known_f1"), (v / 100 for v in figures), strict=True))
            for name, figures in PUBLISHED[str(ratio)].items()
        }
        result["ratios"][str(ratio)] = {"ours": ours, "published": published}
    return result
