"""The learned risk layer: a small head over the MiniLM sentence embedding that scores each protected kind.

It runs beside the safety rules (``automations/safety.py``) on the vector the classifier already computed for the
message, so it costs two small matrix products and no second embedding. For each protected kind it gives a
calibrated probability that the message is that kind of contact rather than an ordinary question; a kind *fires*
when its probability reaches the kind's threshold, chosen on held-out folds for a recall target under a cap on
extra hand-offs of ordinary questions (``python -m evals.risk_training``, which writes ``automations/data/risk/``).

The head is a one-hidden-layer network (ReLU) with a softmax over ``ordinary`` and the kinds, stored as plain numpy
arrays (``head.npz``) with JSON metadata (``risk.json``: labels, thresholds, how they were chosen). Run time needs
numpy only.

It also *leans*: for a contact that goes to a person anyway (the classifier unsure, no article found), the most
probable protected category (its kinds' probabilities summed) at ``lean_floor`` or more picks the team, since the
choice then is between a protected team and a general queue, never an answer (``Classification.leaning``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from automations.resources import data_path
from automations.risk_kinds import ATM_CASH_CATEGORY, KIND_CATEGORY, ORDINARY, RISK_KINDS

__all__ = [
    "ATM_CASH_CATEGORY",
    "DEFAULT_LEAN_FLOOR",
    "DEFAULT_RISK",
    "KIND_CATEGORY",
    "ORDINARY",
    "RISK_KINDS",
    "Leaning",
    "RiskHead",
    "Risks",
    "fired_kinds",
    "load_risk",
]

log = logging.getLogger("autopilot.risk")

Array = npt.NDArray[np.float32]
Risks = tuple[tuple[str, float], ...]
"""Protected kinds that fired on a text, with their probabilities, the strongest (relative to its threshold) first."""
Leaning = tuple[str, float] | None
"""The protected kind a text leans to, and the probability of its category (kinds routed alike summed), when that
category is more probable than ``ordinary`` and at the lean floor."""
DEFAULT_LEAN_FLOOR = 0.5

DEFAULT_RISK = data_path("risk")


def _softmax(logits: Array) -> Array:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float32)


def fired_kinds(
    probs: npt.NDArray[np.floating[Any]], kinds: tuple[str, ...], thresholds: Mapping[str, float]
) -> list[Risks]:
    """For each row of ``probs`` (one column per kind), the kinds at or above their threshold, the strongest
    relative to its threshold first."""
    cuts = np.array([thresholds[k] for k in kinds])
    out: list[Risks] = []
    for row in probs:
        hits = [(kinds[i], float(row[i])) for i in np.flatnonzero(row >= cuts)]
        hits.sort(key=lambda hit: hit[1] / thresholds[hit[0]], reverse=True)
        out.append(tuple(hits))
    return out


@dataclass(frozen=True)
class RiskHead:
    """``softmax(relu(x @ w1 + b1) @ w2 + b2)`` over ``labels`` (``ordinary`` first, then the protected kinds).

    ``layers`` holds (weights, bias) pairs with a ReLU between them; ``thresholds`` maps each kind to the probability
    at or above which it fires. A head with a single layer is a plain multinomial logistic regression.
    """

    labels: tuple[str, ...]
    layers: tuple[tuple[Array, Array], ...]
    thresholds: dict[str, float]
    info: dict[str, Any] = field(default_factory=dict)
    lean_floor: float = DEFAULT_LEAN_FLOOR

    def __post_init__(self) -> None:
        if not self.labels or self.labels[0] != ORDINARY:
            raise ValueError(f"the first label of a risk head must be {ORDINARY!r}")
        unknown = sorted(set(self.labels[1:]) - set(RISK_KINDS))
        if unknown:
            raise ValueError(f"unknown risk kinds: {', '.join(unknown)}")
        if set(self.thresholds) != set(self.labels[1:]):
            raise ValueError("a risk head needs one threshold per kind")
        if self.layers[-1][0].shape[1] != len(self.labels):
            raise ValueError(f"risk head output {self.layers[-1][0].shape[1]} does not match {len(self.labels)} labels")

    @property
    def dimension(self) -> int:
        """Length of the embedding vectors it reads."""
        return int(self.layers[0][0].shape[0])

    @property
    def kinds(self) -> tuple[str, ...]:
        """The protected kinds it scores."""
        return self.labels[1:]

    def probabilities(self, x: Array) -> Array:
        """``(n, len(labels))`` probabilities for a ``(n, dimension)`` batch of embeddings."""
        h = np.asarray(x, dtype=np.float32)
        for i, (weights, bias) in enumerate(self.layers):
            h = h @ weights + bias
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        return _softmax(h)

    def fired(self, x: Array) -> list[Risks]:
        """For each embedding, the kinds at or above their threshold, strongest relative to its threshold first."""
        return fired_kinds(self.probabilities(x)[:, 1:], self.kinds, self.thresholds)

    def scored(self, x: Array) -> list[tuple[Risks, Leaning]]:
        """For each embedding, the kinds that fired (as :meth:`fired`) and the kind it leans to, if any."""
        probs = self.probabilities(x)
        fired = fired_kinds(probs[:, 1:], self.kinds, self.thresholds)
        return list(zip(fired, [self._leaning(row) for row in probs], strict=True))

    @cached_property
    def _teams(self) -> tuple[list[int], ...]:
        """The label columns of each category (kinds handed to the same team), worked out once per head."""
        groups: dict[str, list[int]] = {}
        for j, label in enumerate(self.labels[1:], start=1):
            groups.setdefault(KIND_CATEGORY.get(label, label), []).append(j)
        return tuple(groups.values())

    def _leaning(self, row: npt.NDArray[np.float32]) -> Leaning:
        """Kinds handed to the same category count together (an unrecognised charge may read as fraud or as an error
        notice; both go to fraud): the category with the most probability, when it beats ``ordinary`` and reaches
        the floor, named by its most probable kind."""
        total, members = max(((float(sum(row[j] for j in js)), js) for js in self._teams), key=lambda g: g[0])
        if total < self.lean_floor or total <= float(row[0]):
            return None
        return self.labels[max(members, key=lambda j: float(row[j]))], total

    def save(self, directory: Path | str) -> Path:
        """Write ``head.npz`` and ``risk.json`` into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        arrays = {f"{name}{i}": a for i, pair in enumerate(self.layers) for name, a in zip("wb", pair, strict=True)}
        np.savez_compressed(directory / "head.npz", allow_pickle=False, **arrays)
        meta = {"labels": list(self.labels), "layers": len(self.layers), "thresholds": self.thresholds,
                "lean_floor": self.lean_floor, "info": self.info}  # fmt: skip
        (directory / "risk.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: Path | str = DEFAULT_RISK) -> RiskHead:
        """Read a head written by :meth:`save` (by default the packaged one)."""
        directory = Path(directory)
        meta = json.loads((directory / "risk.json").read_text(encoding="utf-8"))
        with np.load(directory / "head.npz") as arrays:
            layers = tuple(
                (np.asarray(arrays[f"w{i}"], dtype=np.float32), np.asarray(arrays[f"b{i}"], dtype=np.float32))
                for i in range(int(meta["layers"]))
            )
        return cls(
            labels=tuple(str(label) for label in meta["labels"]),
            layers=layers,
            thresholds={str(k): float(v) for k, v in meta["thresholds"].items()},
            info=dict(meta.get("info", {})),
            lean_floor=float(meta.get("lean_floor", DEFAULT_LEAN_FLOOR)),
        )


def load_risk(directory: Path | str = DEFAULT_RISK) -> RiskHead | None:
    """The risk layer at ``directory``, or ``None`` (with a warning) when none was trained there."""
    try:
        return RiskHead.load(directory)
    except FileNotFoundError:
        log.warning("no risk layer at %s: protected contacts are caught by the rules alone", directory)
        return None
