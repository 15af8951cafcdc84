"""Choosing the retrieval-score threshold on labelled validation questions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from automations.ports import KnowledgeIndex
from automations.taxonomy import Taxonomy

__all__ = ["retrieval_scores", "retrieval_threshold"]


async def retrieval_scores(
    index: KnowledgeIndex, taxonomy: Taxonomy, texts: Sequence[str], labels: Sequence[str]
) -> list[float]:
    """Best in-category section score for each question whose category the bot answers from articles."""
    scores: list[float] = []
    for text, label in zip(texts, labels, strict=True):
        if label not in taxonomy:
            continue
        cat = taxonomy.category(label)
        if not (cat.bot_may_answer and cat.articles):
            continue
        passages = await index.search(text, k=1, article_ids=cat.articles)
        if passages:
            scores.append(passages[0].score)
    return scores


async def retrieval_threshold(
    index: KnowledgeIndex,
    taxonomy: Taxonomy,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    keep: float = 0.98,
) -> float:
    """Score below which only ``1 - keep`` of genuine in-category questions fall: anything lower is off-topic."""
    scores = await retrieval_scores(index, taxonomy, texts, labels)
    if not scores:
        return 0.0
    return float(np.quantile(np.asarray(scores), 1.0 - keep))
