"""Character and word n-gram TF-IDF features with a linear SVM: the lexical half of the classifier's ensemble.

Sentence embeddings blur exact wording ("top up" against "transfer", "pending" against "declined"); character n-grams
keep it, and are robust to typos. The vectorisers are scikit-learn's, persisted as their vocabularies and IDF weights
(JSON and numpy, never pickle), and the SVM's weights are stored as float16 to keep a model folder small.

Scoring a few texts skips ``TfidfVectorizer.transform``: its input validation and sparse-matrix assembly cost about
2 ms per call, most of a decision's budget, while the TF-IDF of one short message is a few dozen terms. The direct
path uses scikit-learn's own analysers and applies the same weighting (sublinear tf, idf, L2 norm per analyser);
a test holds it to ``transform`` on a Banking77 sample. Batches keep the vectorised ``transform``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["NgramHead", "fit_ngram_head"]

Array = npt.NDArray[np.float32]
DIRECT_BELOW = 16  # batches smaller than this are scored term by term (see the module docstring)
_SETTINGS: dict[str, dict[str, Any]] = {
    "char": {"analyzer": "char_wb", "ngram_range": (2, 5)},
    "word": {"analyzer": "word", "ngram_range": (1, 2), "token_pattern": r"(?u)\b\w+\b"},
}


def _vectorizer(kind: str, min_df: int = 1, vocabulary: Sequence[str] | None = None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vocab = {term: i for i, term in enumerate(vocabulary)} if vocabulary is not None else None
    return TfidfVectorizer(sublinear_tf=True, min_df=min_df, vocabulary=vocab, dtype=np.float32, **_SETTINGS[kind])


@dataclass(frozen=True)
class NgramHead:
    """``tfidf(text) @ weights + bias``; its scores are added to the embedding head's logits.

    ``vocabularies`` and ``idf`` hold one entry per analyser (``char``, ``word``), in feature order.
    """

    vocabularies: dict[str, tuple[str, ...]]
    idf: dict[str, Array]
    weights: Array
    bias: Array
    _vectorizers: dict[str, Any] = field(init=False, repr=False, compare=False)
    _direct: list[tuple[Callable[[str], list[str]], dict[str, int], int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        vectorizers, direct, offset = {}, [], 0
        for kind in _SETTINGS:
            vectorizer = _vectorizer(kind, vocabulary=self.vocabularies[kind])
            vectorizer.idf_ = self.idf[kind]
            vectorizers[kind] = vectorizer
            direct.append((vectorizer.build_analyzer(), vectorizer.vocabulary, offset))
            offset += len(self.vocabularies[kind])
        object.__setattr__(self, "_vectorizers", vectorizers)
        object.__setattr__(self, "_direct", direct)

    def features(self, texts: Sequence[str]) -> Any:
        """Sparse ``(n, features)`` TF-IDF matrix: character n-grams, then word n-grams."""
        from scipy import sparse

        return sparse.hstack([self._vectorizers[kind].transform(texts) for kind in _SETTINGS], format="csr")

    def scores(self, texts: Sequence[str]) -> Array:
        """Per-class scores for ``texts``, to be added to logits."""
        if len(texts) < DIRECT_BELOW:
            return np.stack([self._direct_scores(text) for text in texts]) if texts else self._empty()
        return np.asarray(self.features(texts) @ self.weights + self.bias, dtype=np.float32)

    def _empty(self) -> Array:
        return np.zeros((0, self.bias.shape[0]), dtype=np.float32)

    def _direct_scores(self, text: str) -> Array:
        total = self.bias.astype(np.float32, copy=True)
        for (analyse, vocabulary, offset), kind in zip(self._direct, _SETTINGS, strict=True):
            counts = Counter(term for term in analyse(text) if term in vocabulary)
            if not counts:
                continue
            columns = np.fromiter((vocabulary[term] for term in counts), dtype=np.int64, count=len(counts))
            tf = np.fromiter((1.0 + math.log(n) for n in counts.values()), dtype=np.float32, count=len(counts))
            values = tf * self.idf[kind][columns]
            values /= np.float32(np.linalg.norm(values))
            total += values @ self.weights[columns + offset]
        return total

    def scaled(self, factor: float) -> NgramHead:
        """The same head with its scores multiplied by ``factor``."""
        weights = (self.weights * np.float32(factor)).astype(np.float32)
        return NgramHead(self.vocabularies, self.idf, weights, (self.bias * np.float32(factor)).astype(np.float32))

    def save(self, directory: Path) -> None:
        """Write ``ngrams.npz`` and ``ngrams.json`` into ``directory``."""
        arrays: dict[str, Any] = {f"idf_{kind}": self.idf[kind] for kind in _SETTINGS}
        np.savez_compressed(directory / "ngrams.npz", weights=self.weights.astype(np.float16), bias=self.bias, **arrays)
        text = json.dumps({kind: list(self.vocabularies[kind]) for kind in _SETTINGS}, ensure_ascii=False)
        (directory / "ngrams.json").write_text(text + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> NgramHead | None:
        """Read a head written by :meth:`save`; ``None`` when ``directory`` has none."""
        if not (directory / "ngrams.npz").exists():
            return None
        vocabularies = json.loads((directory / "ngrams.json").read_text(encoding="utf-8"))
        with np.load(directory / "ngrams.npz") as arrays:
            weights = np.asarray(arrays["weights"], dtype=np.float32)
            bias = np.asarray(arrays["bias"], dtype=np.float32)
            idf = {kind: np.asarray(arrays[f"idf_{kind}"], dtype=np.float32) for kind in _SETTINGS}
        vocab = {kind: tuple(str(term) for term in vocabularies[kind]) for kind in _SETTINGS}
        if weights.shape[0] != sum(len(v) for v in vocab.values()):
            raise ValueError(f"{directory}: n-gram weights {weights.shape} do not match the vocabularies")
        return cls(vocab, idf, weights, bias)


def fit_ngram_head(
    texts: Sequence[str], y: npt.NDArray[np.int64], classes: int, *, c: float = 0.5, min_df: int = 2
) -> NgramHead:
    """Fit the vectorisers and a one-vs-rest linear SVM on ``texts``; classes absent from ``y`` score -1e4."""
    from scipy import sparse
    from sklearn.svm import LinearSVC

    vectorizers = {kind: _vectorizer(kind, min_df=min_df) for kind in _SETTINGS}
    x = sparse.hstack([vectorizers[kind].fit_transform(texts) for kind in _SETTINGS], format="csr")
    model = LinearSVC(C=c)
    model.fit(x, y)
    weights = np.zeros((x.shape[1], classes), dtype=np.float32)
    bias = np.full(classes, -1e4, dtype=np.float32)
    coef = model.coef_ if len(model.classes_) > 2 else np.vstack([-model.coef_, model.coef_])
    intercept = model.intercept_ if len(model.classes_) > 2 else np.array([-model.intercept_[0], model.intercept_[0]])
    weights[:, model.classes_] = coef.T
    bias[model.classes_] = intercept
    vocab = {kind: tuple(str(t) for t in vectorizers[kind].get_feature_names_out()) for kind in _SETTINGS}
    idf = {kind: np.asarray(vectorizers[kind].idf_, dtype=np.float32) for kind in _SETTINGS}
    return NgramHead(vocab, idf, weights, bias)
