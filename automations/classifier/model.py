"""The production :class:`~automations.ports.Classifier`: local embeddings plus a calibrated linear head."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from automations.classifier.head import LinearHead
from automations.models import Classification
from automations.ports import Embedder

__all__ = ["EmbeddingClassifier"]


class EmbeddingClassifier:
    """Classifies texts by embedding them and applying a :class:`LinearHead` (which may also read the raw text)."""

    def __init__(self, embedder: Embedder, head: LinearHead, *, top: int = 3) -> None:
        self._embedder = embedder
        self.head = head
        self._top = top

    @property
    def labels(self) -> Sequence[str]:
        """Categories the head was trained on."""
        return self.head.labels

    @property
    def threshold(self) -> float:
        """Operating confidence threshold chosen on validation."""
        return self.head.threshold

    async def classify(self, texts: Sequence[str]) -> list[Classification]:
        """Classify a batch; each result carries the top categories with calibrated probabilities."""
        if not texts:
            return []
        probs = self.head.probabilities(await self._embedder.embed(texts), texts)
        order = np.argsort(-probs, axis=1)[:, : self._top]
        results = []
        for row, idx in zip(probs, order, strict=True):
            ranked = tuple((self.head.labels[i], float(row[i])) for i in idx)
            results.append(Classification(category=ranked[0][0], confidence=ranked[0][1], ranked=ranked))
        return results
