"""The ONNX Runtime backend gives the same vectors as sentence-transformers, and its export is cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.embedding import MiniLMEmbedder

pytestmark = pytest.mark.slow
TEXTS = ["where is my new card", "I was charged twice for one coffee!!", "a", "x " * 400, "¿Dónde está mi tarjeta?"]


async def test_onnx_matches_sentence_transformers(tmp_path: Path) -> None:
    onnx = MiniLMEmbedder(backend="onnx", cache_dir=tmp_path)
    torch = MiniLMEmbedder(backend="torch")
    a, b = await onnx.embed(TEXTS), await torch.embed(TEXTS)
    assert a.shape == b.shape == (len(TEXTS), 384)
    assert np.abs(a - b).max() < 1e-4
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


def test_export_is_cached_and_reused(tmp_path: Path) -> None:
    first = MiniLMEmbedder(backend="onnx", cache_dir=tmp_path)
    exported = list(tmp_path.glob("*.onnx"))
    assert len(exported) == 1
    stamp = exported[0].stat().st_mtime_ns
    MiniLMEmbedder(backend="onnx", cache_dir=tmp_path)
    assert exported[0].stat().st_mtime_ns == stamp
    assert not list(tmp_path.glob("*.tmp"))
    assert first.backend == "onnx"


def test_unknown_backend_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown embedding backend"):
        MiniLMEmbedder(backend="tensorflow")
