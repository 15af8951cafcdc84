"""The ONNX Runtime backend gives the same vectors as sentence-transformers, and its export is cached."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from knowledge.embedding import DEFAULT_CACHE, MiniLMEmbedder, stored_embeddings

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


def _count(folder: Path, pattern: str) -> int:
    return len(list(folder.glob(pattern)))


async def test_int8_backend_is_close_to_the_float_one(embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for exported in DEFAULT_CACHE.glob("minilm-*.onnx"):  # reuse the float export; only the quantisation runs here
        if not exported.stem.endswith("-int8"):
            shutil.copy(exported, tmp_path / exported.name)
    int8 = MiniLMEmbedder(backend="onnx-int8", cache_dir=tmp_path)
    assert int8.backend == "onnx-int8" and _count(tmp_path, "*-int8.onnx") == 1
    del embedder  # the packaged default is int8 too: compare with the float export instead
    a, b = await int8.embed(TEXTS), await MiniLMEmbedder(backend="onnx", cache_dir=tmp_path).embed(TEXTS)
    assert a.shape == b.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    cosine = (a * b).sum(axis=1)
    assert cosine.min() > 0.97 and not np.allclose(a, b, atol=1e-4)  # close to, not equal to, the float vectors


async def test_an_int8_vector_does_not_depend_on_the_batch_it_came_in(tmp_path: Path) -> None:
    for exported in DEFAULT_CACHE.glob("minilm-*.onnx"):
        shutil.copy(exported, tmp_path / exported.name)
    alone, batched = (MiniLMEmbedder(backend="onnx-int8", cache_dir=tmp_path, cache_size=0) for _ in range(2))
    text = "my bag got nicked on the tube, card was in it, just saw 240 spent at a petrol station"
    single = await alone.embed([text])
    among = await batched.embed(["hi", text, "x " * 300, *TEXTS])
    assert np.array_equal(single[0], among[1])  # dynamic quantisation would otherwise scale it with its neighbours


async def test_stored_embeddings_are_computed_once(embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    texts = ["card never arrived", "refund still pending", "exchange rate for euros"]
    first, seconds = await stored_embeddings(embedder, texts, tmp_path)
    assert seconds > 0 and _count(tmp_path, "*.npy") == 1
    fresh = MiniLMEmbedder(cache_size=16)
    again, same_seconds = await stored_embeddings(fresh, texts, tmp_path)
    np.testing.assert_array_equal(first, again)
    assert same_seconds == seconds
    assert fresh._cache.keys() == set(texts)  # remembered in memory, not re-encoded
    other, _ = await stored_embeddings(embedder, [*texts, "one more"], tmp_path)
    assert other.shape == (4, 384) and _count(tmp_path, "*.npy") == 2
