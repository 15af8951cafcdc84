"""The production :class:`~automations.ports.Classifier`: local embeddings plus a calibrated linear head.

The same embedding also feeds the learned risk layer (:mod:`automations.risk`): each :class:`Classification` carries
the protected kinds it found (``risk``), so a message is embedded once for both.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from automations.classifier.head import LinearHead
from automations.models import Classification
from automations.ports import Embedder
from automations.risk import RiskHead

__all__ = ["EmbeddingClassifier"]


class EmbeddingClassifier:
    """Classifies texts by embedding them and applying a :class:`LinearHead` (which may also read the raw text).

    ``risk`` is the learned risk layer scored on the same vectors (loaded once by the composition root), or ``None``.
    It is skipped for embeddings of another size than it was trained on (a test embedder, another model).
    """

    def __init__(
        self,
        embedder: Embedder,
        head: LinearHead,
        *,
        top: int = 3,
        risk: RiskHead | None = None,
    ) -> None:
        self._embedder = embedder
        self.head = head
        self._top = top
        self.risk = risk

    @property
    def labels(self) -> Sequence[str]:
        """Categories the head was trained on."""
        return self.head.labels

    @property
    def threshold(self) -> float:
        """Operating confidence threshold chosen on validation."""
        return self.head.threshold

    async def classify(self, texts: Sequence[str]) -> list[Classification]:
        """Classify a batch; each result carries the top categories with calibrated probabilities and the protected
        kinds the risk layer found."""
        if not texts:
            return []
        vectors = await self._embedder.embed(texts)
        probs = self.head.probabilities(vectors, texts)
        order = np.argsort(-probs, axis=1)[:, : self._top]
        risk = self.risk
        usable = risk is not None and risk.dimension == vectors.shape[1]
        found = risk.scored(vectors) if risk is not None and usable else [((), None)] * len(texts)
        results = []
        for row, idx, (risks, leaning) in zip(probs, order, found, strict=True):
            ranked = tuple((self.head.labels[i], float(row[i])) for i in idx)
            results.append(
                Classification(
                    category=ranked[0][0], confidence=ranked[0][1], ranked=ranked, risk=risks, leaning=leaning
                )
            )
        return results
