"""Int8 quantisation of the ONNX export is quiet: onnxruntime's pre-processing hint is not printed."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from knowledge.onnx_backend import quantize_onnx

HINT = "pre-processing before quantization"


def _matmul_model(path: Path) -> Path:
    weights = numpy_helper.from_array(np.random.default_rng(0).normal(size=(8, 4)).astype(np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [weights],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def test_onnxruntime_still_gives_the_hint(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The hint exists, so the next test is not vacuous."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with caplog.at_level(logging.WARNING):
        quantize_dynamic(_matmul_model(tmp_path / "m.onnx"), tmp_path / "q.onnx", weight_type=QuantType.QInt8)
    assert any(HINT in r.getMessage() for r in caplog.records)


def test_quantize_onnx_silences_the_hint(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    handlers, filters = list(root.handlers), list(root.filters)
    with caplog.at_level(logging.WARNING):
        out = quantize_onnx(_matmul_model(tmp_path / "m.onnx"), tmp_path / "q.onnx")
    assert out.is_file() and onnx.load(out).graph.node
    messages = [r.getMessage() for r in caplog.records]
    assert not any(HINT in m for m in messages), messages
    assert HINT not in capfd.readouterr().err
    assert (root.handlers, root.filters) == (handlers, filters)  # nothing left behind
