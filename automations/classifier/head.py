"""A multinomial linear head with temperature scaling, stored as plain numpy arrays plus JSON metadata.

The head may carry an :class:`~automations.classifier.ngrams.NgramHead`, whose scores on the raw text are added to the
embedding logits before the temperature: the ensemble's mixing weights are folded into both sets of weights.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from automations.classifier.ngrams import NgramHead

__all__ = ["LinearHead", "softmax"]

Array = npt.NDArray[np.float32]


def softmax(logits: Array) -> Array:
    """Row-wise softmax."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float32)


@dataclass(frozen=True)
class LinearHead:
    """``softmax((x @ weights + bias [+ ngrams.scores(texts)]) / temperature)`` over ``labels``.

    ``thresholds`` maps a precision target (as a string such as ``"0.99"``) to the confidence at or above which
    predictions reached that precision on held-out data; ``threshold`` is the operating point the pipeline uses.
    """

    labels: tuple[str, ...]
    weights: Array
    bias: Array
    temperature: float = 1.0
    threshold: float = 0.5
    thresholds: dict[str, float] = field(default_factory=dict)
    retrieval_threshold: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)
    ngrams: NgramHead | None = None

    def probabilities(self, x: Array, texts: Sequence[str] | None = None) -> Array:
        """Calibrated class probabilities for a ``(n, d)`` batch of embeddings of ``texts``.

        ``texts`` is required when the head has an n-gram part.
        """
        logits = x @ self.weights + self.bias
        if self.ngrams is not None:
            if texts is None or len(texts) != len(x):
                raise ValueError("this head has an n-gram part: pass the texts beside their embeddings")
            logits = logits + self.ngrams.scores(texts)
        return softmax(logits / np.float32(self.temperature))

    def save(self, directory: Path | str) -> Path:
        """Write ``head.npz`` and ``model.json`` into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(directory / "head.npz", weights=self.weights, bias=self.bias)
        meta = {
            "labels": list(self.labels),
            "temperature": self.temperature,
            "threshold": self.threshold,
            "thresholds": self.thresholds,
            "retrieval_threshold": self.retrieval_threshold,
            "info": self.info,
        }
        (directory / "model.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        for stale in ("ngrams.npz", "ngrams.json"):
            (directory / stale).unlink(missing_ok=True)
        if self.ngrams is not None:
            self.ngrams.save(directory)
        return directory

    @classmethod
    def load(cls, directory: Path | str) -> LinearHead:
        """Read a head written by :meth:`save`."""
        directory = Path(directory)
        meta = json.loads((directory / "model.json").read_text(encoding="utf-8"))
        with np.load(directory / "head.npz") as arrays:
            weights = np.asarray(arrays["weights"], dtype=np.float32)
            bias = np.asarray(arrays["bias"], dtype=np.float32)
        labels = tuple(str(label) for label in meta["labels"])
        if weights.shape[1] != len(labels) or bias.shape != (len(labels),):
            raise ValueError(f"{directory}: head shape {weights.shape} does not match {len(labels)} labels")
        return cls(
            labels=labels,
            weights=weights,
            bias=bias,
            temperature=float(meta["temperature"]),
            threshold=float(meta["threshold"]),
            thresholds={str(k): float(v) for k, v in meta.get("thresholds", {}).items()},
            retrieval_threshold=float(meta.get("retrieval_threshold", 0.0)),
            info=dict(meta.get("info", {})),
            ngrams=NgramHead.load(directory),
        )
