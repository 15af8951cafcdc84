"""Embedding classifier: a linear head over sentence embeddings with temperature-calibrated confidence."""

from automations.classifier.head import LinearHead
from automations.classifier.model import EmbeddingClassifier
from automations.classifier.training import TrainReport, read_labelled_csv, train_head

__all__ = ["EmbeddingClassifier", "LinearHead", "TrainReport", "read_labelled_csv", "train_head"]
