"""The linear head: persistence, training with calibration and thresholds, and the embedding classifier."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import numpy as np
import pytest

from automations.classifier.head import LinearHead, softmax
from automations.classifier.model import EmbeddingClassifier
from automations.classifier.ngrams import DIRECT_BELOW, fit_ngram_head
from automations.classifier.training import MIX_GRID, PRECISION_TARGETS, coverage_at, threshold_for, train_head
from automations.fakes import HashEmbedder
from automations.resources import data_path

SHARED_TEST = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "banking77" / "test.csv"


def words(text: str) -> list[str]:
    return text.split()


VOCABULARIES = {
    "card_arrival": words("card arrive arrived delivery post envelope courier dispatched tracking waiting"),
    "exchange_rate": words("exchange rate currency euro dollar pound conversion fx spread market"),
    "top_up_failed": words("top-up topup failed declined balance add money funds load reload"),
}
FILLER = words("hi hello please my the a is why when how today again still help")


def synthetic(per_class: int = 30, seed: int = 7, noise: float = 0.3) -> tuple[list[str], list[str]]:
    """Two words of the class's own vocabulary, three fillers and sometimes a word of any class (so that the
    classes overlap a little and confidences are not all saturated)."""
    rng = random.Random(seed)
    every = [w for words in VOCABULARIES.values() for w in words]
    texts, labels = [], []
    for label, words in VOCABULARIES.items():
        for _ in range(per_class):
            chosen = rng.sample(words, 2) + rng.sample(FILLER, 3)
            if rng.random() < noise:
                chosen.append(rng.choice(every))
            texts.append(" ".join(chosen))
            labels.append(label)
    return texts, labels


def test_softmax_rows_sum_to_one() -> None:
    probs = softmax(np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]], dtype=np.float32))
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert probs[0].argmax() == 2 and probs[1, 0] == pytest.approx(1.0)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    head = LinearHead(
        labels=("a", "b", "c"),
        weights=rng.normal(size=(8, 3)).astype(np.float32),
        bias=rng.normal(size=3).astype(np.float32),
        temperature=1.7,
        threshold=0.61,
        thresholds={"0.97": 0.55, "0.98": 0.61, "0.99": 0.8},
        retrieval_threshold=0.3,
        info={"examples": 90},
    )
    head.save(tmp_path / "model")
    loaded = LinearHead.load(tmp_path / "model")
    assert loaded.labels == head.labels
    np.testing.assert_array_equal(loaded.weights, head.weights)
    np.testing.assert_array_equal(loaded.bias, head.bias)
    assert loaded.weights.dtype == np.float32 and loaded.bias.dtype == np.float32
    assert (loaded.temperature, loaded.threshold, loaded.retrieval_threshold) == (1.7, 0.61, 0.3)
    assert loaded.thresholds == head.thresholds
    assert loaded.info == {"examples": 90}
    x = rng.normal(size=(4, 8)).astype(np.float32)
    np.testing.assert_allclose(loaded.probabilities(x), head.probabilities(x))


def test_load_rejects_a_head_that_does_not_match_its_labels(tmp_path: Path) -> None:
    head = LinearHead(labels=("a", "b"), weights=np.zeros((4, 3), np.float32), bias=np.zeros(3, np.float32))
    head.save(tmp_path)
    with pytest.raises(ValueError, match="does not match 2 labels"):
        LinearHead.load(tmp_path)


def test_temperature_flattens_probabilities() -> None:
    weights = np.eye(3, dtype=np.float32)
    x = np.array([[2.0, 0.0, 0.0]], dtype=np.float32)
    sharp = LinearHead(("a", "b", "c"), weights, np.zeros(3, np.float32), temperature=0.5).probabilities(x)
    flat = LinearHead(("a", "b", "c"), weights, np.zeros(3, np.float32), temperature=4.0).probabilities(x)
    assert sharp[0, 0] > flat[0, 0] > 1 / 3


@pytest.fixture(scope="module")
async def trained():  # type: ignore[no-untyped-def]
    texts, labels = synthetic()
    embedder = HashEmbedder(dimension=256)
    head, report = await train_head(embedder, texts, labels, grid=(1.0, 16.0), folds=5)
    return embedder, head, report


async def test_train_head_reports_validation_figures(trained) -> None:  # type: ignore[no-untyped-def]
    _, head, report = trained
    assert report.examples == 90 and report.classes == 3
    assert report.oof_accuracy >= 0.9
    assert report.temperature > 0 and head.temperature == report.temperature
    assert report.c in (1.0, 16.0) and set(report.grid) == {"1.0", "16.0"}
    assert report.oof_nll < np.log(3)  # better than guessing
    assert head.labels == tuple(sorted(VOCABULARIES))
    assert head.weights.shape == (256, 3) and head.bias.shape == (3,)
    assert head.info["examples"] == 90 and head.info["operating_precision"] == 0.97


async def test_thresholds_rise_with_the_precision_target(trained) -> None:  # type: ignore[no-untyped-def]
    _, head, report = trained
    assert set(head.thresholds) == {f"{p:.2f}" for p in PRECISION_TARGETS}
    assert head.thresholds == report.thresholds
    # 1.01 ("never") where 90 out-of-fold predictions cannot prove the target with 95 % confidence
    assert head.thresholds["0.97"] <= head.thresholds["0.98"] <= head.thresholds["0.99"] <= 1.01
    assert head.thresholds["0.97"] <= 1.0
    assert head.threshold == head.thresholds["0.97"]
    assert report.coverage["0.97"] >= report.coverage["0.98"] >= report.coverage["0.99"]
    assert all(0.0 <= v <= 1.0 for v in report.coverage.values())


async def test_embedding_classifier_ranks_the_top_three(trained) -> None:  # type: ignore[no-untyped-def]
    embedder, head, _ = trained
    classifier = EmbeddingClassifier(embedder, head)
    assert list(classifier.labels) == sorted(VOCABULARIES)
    assert classifier.threshold == head.threshold
    queries = ["my card delivery courier never arrived", "what exchange rate for euro to pound", "top-up failed again"]
    results = await classifier.classify(queries)
    assert [r.category for r in results] == ["card_arrival", "exchange_rate", "top_up_failed"]
    for result in results:
        assert len(result.ranked) == 3
        probabilities = [p for _, p in result.ranked]
        assert probabilities == sorted(probabilities, reverse=True)
        assert sum(probabilities) <= 1.0 + 1e-5
        assert result.ranked[0] == (result.category, result.confidence)
        assert len({label for label, _ in result.ranked}) == 3
    assert await classifier.classify([]) == []


async def test_embedding_classifier_top_is_configurable(trained) -> None:  # type: ignore[no-untyped-def]
    embedder, head, _ = trained
    (result,) = await EmbeddingClassifier(embedder, head, top=2).classify(["euro exchange rate"])
    assert len(result.ranked) == 2 and sum(p for _, p in result.ranked) <= 1.0 + 1e-5


def test_threshold_for_a_known_answer() -> None:
    confidence = np.array([0.5, 0.9, 0.6, 0.8, 0.7], dtype=np.float32)
    correct = np.array([False, True, True, True, False])
    # sorted by confidence: 0.9 ok, 0.8 ok, 0.7 wrong, 0.6 ok, 0.5 wrong -> precisions 1, 1, 2/3, 3/4, 3/5
    assert threshold_for(confidence, correct, 1.0) == pytest.approx(0.8)
    assert threshold_for(confidence, correct, 0.75) == pytest.approx(0.6)
    assert threshold_for(confidence, correct, 0.6) == pytest.approx(0.5)
    assert threshold_for(np.array([0.9], np.float32), np.array([False]), 0.5) == 1.01


def test_threshold_for_with_a_lower_confidence_bound() -> None:
    # all correct: the Wilson lower bound of k/k is k / (k + z^2), which reaches 0.99 only from k = 268 (z = 1.645)
    confidence = np.linspace(0.99, 0.5, 300, dtype=np.float32)
    correct = np.ones(300, dtype=bool)
    correct[-1] = False
    assert threshold_for(confidence[:20], correct[:20], 0.99) == pytest.approx(0.99 - 0.49 * 19 / 299)
    assert threshold_for(confidence[:20], correct[:20], 0.99, z=1.645) == 1.01  # 20 hits prove too little
    strict = threshold_for(confidence, correct, 0.99, z=1.645)
    assert strict == pytest.approx(confidence[298])  # the wrong one at the end is left out
    assert strict >= threshold_for(confidence, correct, 0.99)
    assert threshold_for(confidence[:267], correct[:267], 0.99, z=1.645) == 1.01


def test_coverage_at() -> None:
    confidence = np.array([0.5, 0.9, 0.6, 0.8], dtype=np.float32)
    assert coverage_at(confidence, 0.6) == 0.75
    assert coverage_at(confidence, 1.01) == 0.0


def test_threshold_for_honours_tied_confidences() -> None:
    confidence = np.array([0.9, 0.8, 0.8], dtype=np.float32)
    correct = np.array([True, True, False])
    threshold = threshold_for(confidence, correct, 1.0)
    accepted = confidence >= threshold
    assert correct[accepted].mean() >= 1.0
    assert threshold == pytest.approx(0.9)


def _with_ngrams() -> LinearHead:
    texts, labels = synthetic()
    classes = sorted(set(labels))
    y = np.array([classes.index(label) for label in labels], dtype=np.int64)
    ngrams = fit_ngram_head(texts, y, len(classes), c=0.5, min_df=1)
    head = LinearHead(tuple(classes), np.zeros((8, 3), np.float32), np.zeros(3, np.float32), ngrams=ngrams)
    return head


def test_an_ngram_part_round_trips_and_adds_its_scores(tmp_path: Path) -> None:
    head = _with_ngrams()
    assert head.ngrams is not None
    x = np.zeros((3, 8), np.float32)
    queries = ["courier envelope tracking", "euro dollar spread", "topup declined again"]
    probs = head.probabilities(x, queries)
    assert [head.labels[i] for i in probs.argmax(axis=1)] == ["card_arrival", "exchange_rate", "top_up_failed"]
    head.save(tmp_path / "model")
    loaded = LinearHead.load(tmp_path / "model")
    assert loaded.ngrams is not None and loaded.ngrams.vocabularies == head.ngrams.vocabularies
    np.testing.assert_allclose(loaded.probabilities(x, queries), probs, atol=1e-3)  # float16 weights on disk
    # saving a head without n-grams into the same folder removes the stale n-gram files
    LinearHead(head.labels, head.weights, head.bias).save(tmp_path / "model")
    assert LinearHead.load(tmp_path / "model").ngrams is None


def test_an_ngram_head_needs_the_texts() -> None:
    head = _with_ngrams()
    with pytest.raises(ValueError, match="pass the texts"):
        head.probabilities(np.zeros((1, 8), np.float32))
    with pytest.raises(ValueError, match="pass the texts"):
        head.probabilities(np.zeros((2, 8), np.float32), ["only one"])


async def test_training_mixes_in_ngrams_by_validation_log_loss() -> None:
    texts, labels = synthetic(seed=11)
    embedder = HashEmbedder(dimension=16)  # a weak embedding: the n-gram half must earn its weight
    head, report = await train_head(embedder, texts, labels, grid=(1.0,), folds=5)
    assert set(report.mix_nll) == {str(m) for m in MIX_GRID}
    assert report.mix_nll[str(report.mix)] == min(report.mix_nll.values())
    assert report.ngram_oof_accuracy is not None and report.ngram_oof_accuracy > 0.9
    assert report.mix < 1.0 and head.ngrams is not None
    assert head.info["ngram_mix"] == round(1.0 - report.mix, 2)
    only_embeddings, plain = await train_head(embedder, texts, labels, grid=(1.0,), folds=5, ngram_c=None)
    assert only_embeddings.ngrams is None and plain.mix == 1.0 and plain.mix_nll == {}
    assert report.oof_nll <= plain.oof_nll + 1e-6


def test_direct_ngram_scoring_matches_scikit_learns_transform() -> None:
    """Small batches skip ``TfidfVectorizer.transform``; the shipped model's n-gram scores must not change."""
    ngrams = LinearHead.load(data_path("model")).ngrams
    assert ngrams is not None
    texts = [row["text"] for row in csv.DictReader(SHARED_TEST.open(encoding="utf-8"))][:400]
    texts += ["", "!!!", "zzzz qqqq", "TOP UP top-up topup", "card card card card"]  # empty, unknown, repeated terms
    assert len(texts) >= DIRECT_BELOW
    direct = np.concatenate([ngrams.scores(texts[i : i + 1]) for i in range(len(texts))])
    np.testing.assert_allclose(direct, ngrams.scores(texts), atol=1e-4)
    assert ngrams.scores([]).shape == (0, len(ngrams.bias))


async def test_thresholds_can_be_set_on_the_examples_that_resemble_real_traffic() -> None:
    """Written examples are cleaner than traffic: thresholds set on the noisy rows' held-out predictions alone are
    stricter than thresholds set on every row, and the head says what it was calibrated on."""
    clean, clean_labels = synthetic(per_class=40, seed=3, noise=0.0)
    noisy, noisy_labels = synthetic(per_class=40, seed=5, noise=1.0)
    texts, labels = clean + noisy, clean_labels + noisy_labels
    embedder = HashEmbedder(dimension=64)
    mask = [False] * len(clean) + [True] * len(noisy)
    every, _ = await train_head(embedder, texts, labels, grid=(1.0,), folds=5, ngram_c=None)
    traffic, _ = await train_head(embedder, texts, labels, grid=(1.0,), folds=5, ngram_c=None, calibration=mask)
    assert every.info["calibrated_on"] == "all examples, out of fold"
    assert traffic.info["calibrated_on"] == f"{len(noisy)} marked examples, out of fold"
    assert traffic.threshold > every.threshold
    assert all(traffic.thresholds[k] >= every.thresholds[k] for k in every.thresholds)
