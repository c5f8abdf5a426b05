"""serving.onnx_session: one way to open an ORT session on a converted model and score rows."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from flock_nbext.errors import ConversionError
from flock_nbext.serving.onnx_session import make_session, run


def doubling_model() -> onnx.ModelProto:
    graph = helper.make_graph(
        [helper.make_node("Add", ["X", "X"], ["variable"])], "double",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor_value_info("variable", TensorProto.FLOAT, ["N", 3])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@pytest.mark.parametrize("form", ["proto", "bytes", "path"])
def test_a_session_from_a_proto_bytes_or_path(tmp_path, form):
    model = doubling_model()
    if form == "bytes":
        model = model.SerializeToString()
    elif form == "path":
        onnx.save(model, tmp_path / "m.onnx")
        model = tmp_path / "m.onnx"
    session = make_session(model, threads=1)
    out = run(session, np.arange(6, dtype=np.float64).reshape(2, 3))
    assert list(out) == ["variable"]
    assert out["variable"].dtype == np.float32
    np.testing.assert_array_equal(out["variable"], np.arange(6).reshape(2, 3) * 2)
    np.testing.assert_array_equal(run(session, np.ones(3))["variable"], [[2, 2, 2]])


def test_bad_models_and_thread_counts_are_named():
    with pytest.raises(ConversionError, match="cannot open an ONNX Runtime session on a dict"):
        make_session({})
    with pytest.raises(ConversionError, match="ONNX Runtime refused the model"):
        make_session(b"not a model")
    with pytest.raises(ConversionError, match="threads must be a positive integer"):
        make_session(doubling_model(), threads=0)
