"""Row blocks: a graph run a block of rows at a time answers exactly as the graph itself."""

from __future__ import annotations

import numpy as np
import pytest

from flock_nbext.conversion.backends import REGISTRY
from flock_nbext.conversion.backends.blocking import (
    MAX_BLOCK_ROWS,
    MIN_BLOCK_ROWS,
    block_rows_for,
    in_row_blocks,
)
from tests.conversion.conftest import run_onnx
from tests.conversion.test_parity import compiled_case


@pytest.mark.parametrize("case", ["lightgbm-binary-nan-categorical", "lightgbm-multiclass",
                                  "sklearn-extra-trees-two-outputs"])
@pytest.mark.parametrize("block_rows", [1, 7, "auto"])
def test_blocked_graph_gives_identical_answers_for_every_batch_size(case, block_rows):
    _, ensemble, rows = compiled_case(case)
    plain = REGISTRY.get("tree_ensemble").build(ensemble)
    blocked = in_row_blocks(plain, block_rows)
    assert "Scan" in {n.op_type for n in blocked.graph.node}
    size = block_rows_for(plain) if block_rows == "auto" else block_rows
    for n in sorted({0, 1, size - 1, size, size + 1, 3 * size + 5, len(rows)}):
        if n > len(rows):
            continue
        want, got = run_onnx(plain, rows[:n]), run_onnx(blocked, rows[:n])
        assert want.keys() == got.keys()
        for name in want:
            assert got[name].shape == want[name].shape and got[name].dtype == want[name].dtype, (name, n)
            np.testing.assert_array_equal(got[name], want[name])


def test_block_size_is_a_power_of_two_that_shrinks_as_rows_grow():
    _, small, _ = compiled_case("lightgbm-binary-nan-categorical")
    _, wide, _ = compiled_case("lightgbm-multiclass")
    sizes = [block_rows_for(REGISTRY.get("gemm").build(e)) for e in (small, wide)]
    for size in sizes:
        assert MIN_BLOCK_ROWS <= size <= MAX_BLOCK_ROWS and size & (size - 1) == 0
    assert small.n_trees * small.max_leaves < wide.n_trees * wide.max_leaves
    assert sizes[0] > sizes[1]


def test_a_block_needs_a_row():
    _, ensemble, _ = compiled_case("lightgbm-binary-nan-categorical")
    with pytest.raises(ValueError, match="at least one row"):
        in_row_blocks(REGISTRY.get("tree_ensemble").build(ensemble), 0)
