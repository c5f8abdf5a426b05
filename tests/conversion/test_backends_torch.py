"""The torch form of a tree ensemble: exact in hard mode, trainable in soft mode."""

from __future__ import annotations

import numpy as np
import pytest

from flock_nbext.conversion.backends.torch_module import to_torch
from tests.conversion.conftest import original_outputs
from tests.conversion.test_parity import compiled_case


@pytest.mark.parametrize("case", ["lightgbm-binary-nan-categorical", "lightgbm-regression-zero-as-missing",
                                  "xgboost-multiclass", "sklearn-random-forest-multiclass",
                                  "sklearn-hist-gradient-boosting-categorical"])
def test_hard_module_answers_like_the_original(case):
    import torch

    model, ensemble, rows = compiled_case(case)
    expected, _ = original_outputs(model, rows)
    with torch.no_grad():
        got = to_torch(ensemble)(torch.from_numpy(rows)).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-6)


def test_soft_module_fine_tunes_thresholds_and_leaves():
    import torch

    model, ensemble, rows = compiled_case("lightgbm-multiclass")
    X = torch.from_numpy(np.nan_to_num(rows[:200]))
    y = torch.from_numpy(np.asarray(model.predict(rows[:200]))).long()
    module = to_torch(ensemble, temperature=0.05)
    before = torch.nn.functional.nll_loss(torch.log(module(X)), y)
    before.backward()
    assert module.thresholds.grad is not None and module.thresholds.grad.abs().sum() > 0
    assert module.leaf_values.grad.abs().sum() > 0
    optimizer = torch.optim.SGD(module.parameters(), lr=0.5)
    optimizer.step()
    after = torch.nn.functional.nll_loss(torch.log(module(X)), y)
    assert after < before
