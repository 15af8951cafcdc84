"""ONNX Runtime backend for the packaged MiniLM: the same vectors, about 3x faster for one sentence on a CPU.

The ONNX graph is exported once from the packaged PyTorch weights (no download) into a cache folder, atomically, and
reused. Pooling matches sentence-transformers' all-MiniLM-L6-v2: attention-masked mean, then L2 normalisation.
Optimum would do the export, but its releases pin transformers 4.x, which sentence-transformers 6 does not accept.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from automations.ports import Vectors

__all__ = ["OnnxMiniLM", "export_onnx", "quantize_onnx"]

_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _digest(model_dir: Path) -> str:
    weights = model_dir / "model.safetensors"
    return hashlib.sha256(weights.read_bytes()).hexdigest()[:16]


def export_onnx(model_dir: Path, target: Path) -> Path:
    """Export the transformer of ``model_dir`` to ``target`` (written to a temporary file, then renamed)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)

    class _Hidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    sample = tokenizer(["a sample sentence"], return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on data-dependent branches are expected here
            torch.onnx.export(
                _Hidden(model), tuple(sample[name] for name in _INPUTS), tmp, input_names=list(_INPUTS),
                output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False,
            )  # fmt: skip
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


class _PreprocessHint(logging.Filter):
    """Drops onnxruntime's "Please consider to run pre-processing before quantization" warning: its pre-processing
    (shape inference and graph optimisation) is meant for static quantisation of image models, and the int8 vectors
    are checked against the float ones (``tests/test_embedding.py``) as they are."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name == "root" and "pre-processing before quantization" in record.getMessage())


@contextmanager
def _no_preprocess_hint() -> Iterator[None]:
    # quantize_dynamic warns through logging.warning(), on the root logger; the NullHandler keeps that call from
    # configuring an unconfigured root logger (logging.basicConfig) as a side effect
    root, hint, guard = logging.getLogger(), _PreprocessHint(), logging.NullHandler()
    root.addFilter(hint)
    root.addHandler(guard)
    try:
        yield
    finally:
        root.removeHandler(guard)
        root.removeFilter(hint)


def quantize_onnx(source: Path, target: Path) -> Path:
    """Dynamic int8 quantisation of ``source``'s weights (activations quantised at run time), written atomically."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        with _no_preprocess_hint():
            quantize_dynamic(source, tmp, weight_type=QuantType.QInt8, per_channel=True)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


class OnnxMiniLM:
    """Tokenizer plus an ONNX Runtime session; ``encode`` returns unit vectors like sentence-transformers.

    ``int8=True`` runs a dynamically quantised copy of the export: faster on a CPU, vectors within about 0.01 (cosine)
    of the float ones. Dynamic quantisation scales activations over the whole input tensor, so in a batch a text's
    vector would depend on its neighbours and their padding (cosine down to 0.98 on Banking77 questions, enough to
    flip a decision at a threshold); the int8 session therefore embeds each text on its own, about 1.4 times the
    cost of batches of 64, and a text always gets the same vector.
    """

    def __init__(
        self,
        model_dir: Path,
        cache_dir: Path,
        *,
        threads: int | None = None,
        max_length: int = 256,
        int8: bool = False,
    ) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        path = cache_dir / f"minilm-{_digest(model_dir)}.onnx"
        if not path.exists():
            export_onnx(model_dir, path)
        if int8:
            quantized = path.with_name(path.stem + "-int8.onnx")
            if not quantized.exists():
                quantize_onnx(path, quantized)
            path = quantized
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = path
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._tokenizer: Any = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        self._max_length = max_length
        self._alone = int8
        self.dimension = 384

    def encode(self, texts: list[str], batch_size: int = 64) -> Vectors:
        """Embed ``texts`` in batches of similar length (one at a time for the int8 session)."""
        batch_size = 1 if self._alone else batch_size
        order = np.argsort([len(t) for t in texts])
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            batch = self._tokenizer(
                [texts[i] for i in idx], padding=True, truncation=True, max_length=self._max_length, return_tensors="np"
            )
            feeds = {name: np.asarray(batch[name], dtype=np.int64) for name in _INPUTS}
            hidden = self._session.run(None, feeds)[0]
            mask = feeds["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            out[idx] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return out
