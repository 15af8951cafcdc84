"""A small trained head beside the critical-fail rules: MiniLM sentence embeddings → softmax over *none* and the
five critical fails (numpy at run time; trained by ``python -m evals.qa_training``).

The rules read the words; the head reads the meaning, so "read me the three little numbers on the signature strip"
is seen as a request for a CVV although no pattern names it. A sentence counts for a fail when the head's
probability reaches that fail's threshold and the fail's own gates hold: the sentence asks for something (for the
"asked for" fails) and carries none of the rule's negations and exceptions (a warning, a refusal, a hedge, the
last four digits).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from automations.ports import Vectors
from automations.resources import data_path

__all__ = ["DEFAULT_QA_HEAD", "CriticalHead", "load_head"]

DEFAULT_QA_HEAD = data_path("qa_head")
Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CriticalHead:
    """``softmax(x @ weights + bias)`` over ``labels`` (``none`` first); ``thresholds`` per critical fail."""

    labels: tuple[str, ...]
    weights: Array
    bias: Array
    thresholds: dict[str, float]

    def probabilities(self, vectors: Vectors) -> list[dict[str, float]]:
        """Each sentence's probability of each critical fail."""
        if len(vectors) == 0:
            return []
        logits = np.asarray(vectors, dtype=np.float64) @ self.weights + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probs = exp / exp.sum(axis=1, keepdims=True)
        return [{label: float(row[i]) for i, label in enumerate(self.labels) if label != "none"} for row in probs]

    def fired(self, probabilities: dict[str, float]) -> list[str]:
        """The fails whose probability reaches their threshold."""
        return [k for k, p in probabilities.items() if p >= self.thresholds.get(k, 1.1)]

    def save(self, directory: Path) -> None:
        """Write ``head.json`` and ``head.npz`` to ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "head.json").write_text(
            json.dumps({"labels": list(self.labels), "thresholds": self.thresholds}, indent=2) + "\n", encoding="utf-8"
        )
        np.savez(directory / "head.npz", weights=self.weights, bias=self.bias)

    @classmethod
    def load(cls, directory: Path | str) -> CriticalHead:
        """Read a head written by :meth:`save` (``FileNotFoundError`` when there is none)."""
        folder = Path(directory)
        meta = json.loads((folder / "head.json").read_text(encoding="utf-8"))
        with np.load(folder / "head.npz") as arrays:
            weights, bias = arrays["weights"].astype(np.float64), arrays["bias"].astype(np.float64)
        return cls(tuple(meta["labels"]), weights, bias, {k: float(v) for k, v in meta["thresholds"].items()})


def load_head(directory: Path | str = DEFAULT_QA_HEAD) -> CriticalHead | None:
    """The shipped head, or ``None`` when none was trained (the rules then score alone)."""
    try:
        return CriticalHead.load(directory)
    except FileNotFoundError:
        return None
