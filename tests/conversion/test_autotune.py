"""Autotune: wrong candidates are dropped and reported, never returned; the sample; offline optimisation."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from flock_nbext.conversion import sample as sample_mod
from flock_nbext.conversion.api import convert
from flock_nbext.conversion.candidates import Candidate
from flock_nbext.conversion.optimize import optimize_offline
from flock_nbext.conversion.runtime import make_session, run
from flock_nbext.conversion.timing import interleaved
from flock_nbext.errors import ConversionError


@pytest.fixture(scope="module")
def model_and_rows():
    import lightgbm as lgb

    rng = np.random.default_rng(3)
    X = rng.standard_normal((400, 5))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    return lgb.LGBMClassifier(n_estimators=10, num_leaves=4, verbose=-1).fit(X, y), X


def constant_half_graph(n_features: int) -> onnx.ModelProto:
    """A FAKE candidate used only to inject a fault: it answers 0.5/0.5 for every row, whatever the input.

    It is also the fastest graph there could be, so autotune must drop it on validation, not on speed.
    """
    nodes = [
        helper.make_node("Shape", ["X"], ["shape"], start=0, end=1),
        helper.make_node("Concat", ["shape", "two"], ["pshape"], axis=0),
        helper.make_node("ConstantOfShape", ["pshape"], ["probabilities"],
                         value=helper.make_tensor("v", TensorProto.FLOAT, [1], [0.5])),
        helper.make_node("ConstantOfShape", ["shape"], ["label"],
                         value=helper.make_tensor("z", TensorProto.INT64, [1], [0])),
    ]
    graph = helper.make_graph(
        nodes, "fake", [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", n_features])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, ["N"]),
         helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 2])],
        initializer=[onnx.numpy_helper.from_array(np.array([2], dtype=np.int64), "two")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def fake_wrong(n_features: int) -> Candidate:
    """FAKE (fault injection only): a candidate whose graph gives wrong answers."""
    return Candidate("fake-wrong", lambda: constant_half_graph(n_features), "compiled")


def fake_broken() -> Candidate:
    """FAKE (fault injection only): a candidate whose builder raises."""
    def build():
        raise RuntimeError("builder exploded")

    return Candidate("fake-broken", build, "compiled")


def test_a_wrong_candidate_is_reported_and_never_returned(model_and_rows):
    model, X = model_and_rows
    result = convert(model, candidates=["tree_ensemble", fake_wrong(5), fake_broken()], rounds=1, progress=False)
    rows = {r["candidate"]: r for r in result.report}
    assert result.candidate == "tree_ensemble"
    assert rows["fake-wrong"]["status"] == "failed validation"
    assert rows["fake-wrong"]["max_abs_diff"] > 0.1 and "> tolerance 1e-05" in rows["fake-wrong"]["reason"]
    assert rows["fake-wrong"]["chosen"] is False and rows["fake-wrong"]["batch1_p50_us"] is None
    assert rows["fake-broken"]["status"] == "build failed"
    assert rows["fake-broken"]["reason"] == "RuntimeError: builder exploded"
    np.testing.assert_allclose(result.predict_proba(X), model.predict_proba(X), atol=1e-5)


def test_no_candidate_passing_lists_every_candidates_diff(model_and_rows):
    model, _ = model_and_rows
    with pytest.raises(ConversionError, match=r"no candidate passed validation: fake-wrong: failed validation "
                                              r"\(max abs diff 0\.\d+ > tolerance 1e-05.*fake-broken: build failed") as err:
        convert(model, candidates=[fake_wrong(5), fake_broken()], rounds=1, progress=False)
    assert [r["status"] for r in err.value.report][:2] == ["failed validation", "build failed"]


def test_a_loose_tolerance_is_the_callers_choice(model_and_rows):
    model, _ = model_and_rows
    result = convert(model, candidates=[fake_wrong(5)], tolerance=1.0, rounds=1, progress=False)
    assert result.candidate == "fake-wrong"


def test_progress_bar_only_when_asked_or_slow(model_and_rows, capsys):
    model, X = model_and_rows
    convert(model, X[:20], candidates=["tree_ensemble"], rounds=1, progress=False)
    assert "flock convert" not in capsys.readouterr().err
    convert(model, X[:20], candidates=["tree_ensemble"], rounds=1, progress=True)
    assert "flock convert" in capsys.readouterr().err


def test_synthesised_sample_sits_on_and_beside_every_threshold(model_and_rows):
    from flock_nbext.conversion.frontends import to_ir

    model, _ = model_and_rows
    ensemble = to_ir(model)
    points = sample_mod.split_points(ensemble)
    sample = sample_mod.synthesize(ensemble.n_features, points)
    assert sample.X.dtype == np.float32 and sample.X.shape[1] == 5
    assert {"random", "boundary", "nan"} <= set(sample.kinds)
    for f, thresholds in points.thresholds.items():
        values = set(sample.X[:, f][np.isfinite(sample.X[:, f])].tolist())
        for t in thresholds:
            t32 = np.float32(t)
            assert {float(t32), float(np.nextafter(t32, np.float32(np.inf))),
                    float(np.nextafter(t32, np.float32(-np.inf)))} <= values
    assert np.isnan(sample.X).all(axis=1).any()


def test_offline_optimisation_gives_a_loadable_equivalent_model(model_and_rows):
    from flock_nbext.conversion.backends import REGISTRY
    from flock_nbext.conversion.frontends import to_ir

    model, X = model_and_rows
    raw = REGISTRY.get("tree_ensemble").build(to_ir(model))
    optimized = optimize_offline(raw)
    assert isinstance(optimized, onnx.ModelProto)
    domains = [op.domain for op in optimized.opset_import]
    assert sorted(domains) == sorted(set(domains)) and set(domains) == {"", "ai.onnx.ml"}
    a = run(make_session(raw), X)["probabilities"]
    b = run(make_session(optimized), X)["probabilities"]
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ConversionError, match="unknown optimisation level"):
        optimize_offline(raw, "turbo")


def test_interleaved_timing_reports_medians_for_every_runner():
    X = np.ones((10, 3), dtype=np.float32)
    out = interleaved({"sum": lambda x: x.sum(), "copy": lambda x: x.copy()}, X, batch_n=100, rounds=2,
                      round_budget_s=0.001)
    assert set(out) == {"sum", "copy"}
    for row in out.values():
        assert row["batch1_p50_us"] <= row["batch1_p99_us"]
        assert row["batchN_rows_per_s"] > 0


def test_clearly_slower_runners_are_timed_in_one_round_only():
    import time as _time

    X = np.ones((10, 3), dtype=np.float32)
    out = interleaved({"fast": lambda x: None, "slow": lambda x: _time.sleep(0.002), "original": lambda x: None},
                      X, batch_n=10, rounds=3, round_budget_s=0.001, prunable={"fast", "slow"})
    assert out["fast"]["rounds"] == 3 and out["original"]["rounds"] == 3
    assert out["slow"]["rounds"] == 1 and out["slow"]["pruned"] and out["slow"]["batchN_rows_per_s"] is None
    assert out["fast"]["batchN_rows_per_s"] > 0 and not out["original"]["pruned"]


def test_memory_per_row_is_estimated_from_the_graph(model_and_rows):
    from flock_nbext.conversion.backends import REGISTRY
    from flock_nbext.conversion.frontends import to_ir
    from flock_nbext.conversion.graphs import bytes_per_row

    model, _ = model_and_rows
    ensemble = to_ir(model)
    assert bytes_per_row(constant_half_graph(5)) == 8 * 2 * 4  # largest per-row tensor: 2 float32 probabilities
    gemm, ops = bytes_per_row(REGISTRY.get("gemm").build(ensemble)), bytes_per_row(REGISTRY.get("tree_ensemble").build(ensemble))
    assert gemm > ops > 0
