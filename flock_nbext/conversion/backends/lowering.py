"""Lower the IR to the all-numeric form every ONNX backend compiles: `x <= t32` at every node.

* thresholds become the float32 `t32` of `Tree.float32_thresholds` (exact for float32 input);
* each categorical node becomes a numerical node on a *virtual column* that the graph computes
  up front from a lookup table (0.0 = go left, 1.0 = go right), so no backend needs set tests;
* leaves become nodes with threshold +inf that send everything (NaN included) left, and carry
  their values densely over all raw outputs, already multiplied by the post-transform scale and
  with the base score folded into the first tree of each output (fewer graph nodes: at batch 1
  every ONNX Runtime node costs about a microsecond);
* LightGBM's "tiny values are zero" rule is folded into the thresholds it could affect (one
  within [-1e-35, 1e-35) becomes the bound of the tiny range on the side zero goes), so the graph
  applies it only where zeros count as missing (every ONNX node costs about a microsecond at
  batch 1; the folded thresholds cost nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ...errors import ConversionError
from ..ir import TreeEnsemble, node_depths

MAX_CATEGORY_TABLE = 1 << 24


@dataclass(frozen=True, eq=False)
class CategoricalTable:
    """Lookup table for the virtual columns of categorical nodes (one per node, in order)."""

    features: np.ndarray  # int64 [K]: input column of each categorical node
    sizes: np.ndarray  # int64 [K]: C, the codes 0..C-1 the node names; code C means 'other'
    offsets: np.ndarray  # int64 [K]: start of each node's C + 1 entries in `table`
    table: np.ndarray  # float32 [sum(C + 1)]: 0.0 go left, 1.0 go right


@dataclass(frozen=True, eq=False)
class NumericTree:
    feature: np.ndarray  # int64 [n]; leaves 0
    threshold: np.ndarray  # float32 [n]; leaves +inf
    left: np.ndarray  # int64 [n]; leaves -1
    right: np.ndarray  # int64 [n]; leaves -1
    missing_left: np.ndarray  # bool [n]; leaves True
    values: np.ndarray  # float64 [n, n_outputs]; internal rows 0

    @property
    def is_leaf(self) -> np.ndarray:
        return self.left < 0

    @cached_property
    def depth(self) -> int:
        return int(node_depths(self.left, self.right).max())


@dataclass(frozen=True, eq=False)
class NumericEnsemble:
    ensemble: TreeEnsemble
    trees: tuple[NumericTree, ...]
    categorical: CategoricalTable | None
    base_left: np.ndarray  # float64 [n_outputs]: scaled base score not folded into any tree
    flush_features: frozenset[int]  # features whose |x| <= zero_threshold must become 0

    @property
    def n_columns(self) -> int:
        """Input columns plus one virtual column per categorical node."""
        k = 0 if self.categorical is None else len(self.categorical.features)
        return self.ensemble.n_features + k

    @property
    def n_outputs(self) -> int:
        return self.ensemble.n_outputs

    @cached_property
    def max_depth(self) -> int:
        return max((t.depth for t in self.trees), default=0)

    @property
    def all_missing_left(self) -> bool | None:
        """True/False when every internal node sends NaN the same way, else None."""
        flags = np.concatenate([t.missing_left[~t.is_leaf] for t in self.trees] or [np.zeros(0, bool)])
        if flags.size == 0 or flags.all():
            return True
        return False if not flags.any() else None


def lower(ensemble: TreeEnsemble) -> NumericEnsemble:
    n_in = ensemble.n_features
    base = np.asarray(ensemble.base_score, dtype=np.float64) * ensemble.post_scale
    cat_features, cat_sizes, cat_rows = [], [], []
    trees = []
    for tree in ensemble.trees:
        leaf = tree.is_leaf
        feature = np.where(leaf, 0, tree.feature).astype(np.int64)
        threshold = _fold_tiny_values(tree.float32_thresholds(), ~leaf & ~tree.categorical,
                                      ensemble.zero_threshold)
        missing_left = tree.missing_left | leaf
        for node in np.flatnonzero(tree.categorical):
            left = np.asarray(tree.category_left[node], dtype=np.int64)
            right = tree.category_right[node]
            named = left if right is None else np.concatenate([left, np.asarray(right, dtype=np.int64)])
            size = int(named.max()) + 1 if named.size else 0
            other = 0.0 if tree.missing_left[node] else 1.0
            row = np.full(size + 1, other if right is not None else 1.0, dtype=np.float32)
            if right is not None:
                row[np.asarray(right, dtype=np.int64)] = 1.0
            row[left] = 0.0
            row[size] = other
            feature[node] = n_in + len(cat_features)
            threshold[node] = np.float32(0.5)
            missing_left[node] = True  # virtual columns are never NaN
            cat_features.append(int(tree.feature[node]))
            cat_sizes.append(size)
            cat_rows.append(row)
        values = np.zeros((tree.n_nodes, ensemble.n_outputs), dtype=np.float64)
        values[:, list(tree.outputs)] = tree.leaf_values * ensemble.post_scale
        for k in tree.outputs:
            if base[k] != 0:  # fold the intercept into this tree's leaves
                values[leaf, k] += base[k]
                base[k] = 0.0
        trees.append(NumericTree(feature, threshold, tree.left.copy(), tree.right.copy(),
                                 missing_left, values))
    table = None
    if cat_features:
        sizes = np.asarray(cat_sizes, dtype=np.int64)
        total = int((sizes + 1).sum())
        if total > MAX_CATEGORY_TABLE:
            raise ConversionError(f"categorical splits need a {total:,}-entry lookup table "
                                  f"(limit {MAX_CATEGORY_TABLE:,}); category codes are too large")
        offsets = np.concatenate([[0], np.cumsum(sizes + 1)[:-1]]).astype(np.int64)
        table = CategoricalTable(np.asarray(cat_features, dtype=np.int64), sizes, offsets,
                                 np.concatenate(cat_rows).astype(np.float32))
    return NumericEnsemble(ensemble, tuple(trees), table, base, _flush_features(ensemble))


def _flush_features(ensemble: TreeEnsemble) -> frozenset[int]:
    """Features on which the graph must still map |x| <= zero_threshold to 0: those whose zeros are
    missing values (a tiny value is missing too); everywhere else the thresholds absorb the rule."""
    return frozenset(ensemble.zero_as_missing) if ensemble.zero_threshold > 0 else frozenset()


def tiny_bound(zero_threshold: float) -> np.float32:
    """The largest float32 z with z <= zero_threshold: float32 x is 'tiny' iff |x| <= z."""
    z = np.float32(zero_threshold)
    return z if float(z) <= zero_threshold else np.nextafter(z, np.float32(0))


def _fold_tiny_values(t32: np.ndarray, numeric: np.ndarray, zero_threshold: float) -> np.ndarray:
    """Thresholds deciding for float32 x as `flush(x) <= t32` does, without the flush.

    flush(x) = 0 for |x| <= z. Only a threshold t in [-z, z) can put x and 0 on different sides;
    then every tiny x goes where 0 goes: left when 0 <= t (the test becomes x <= z), right when
    t < 0 (the test becomes x < -z, i.e. x <= the float32 just below -z). NaN is untouched.
    """
    if zero_threshold <= 0:
        return t32
    z = tiny_bound(zero_threshold)
    hit = numeric & (t32 >= -z) & (t32 < z)
    if not hit.any():
        return t32
    out = t32.copy()
    out[hit & (t32 >= 0)] = z
    out[hit & (t32 < 0)] = np.nextafter(-z, np.float32(-np.inf))
    return out


FLOAT32_SUM_BUDGET = 2e-6  # a fifth of the 1e-5 tolerance candidates are validated against


def float32_sums_unsafe(ensemble: TreeEnsemble) -> str | None:
    """Why summing the leaves in float32 may drift past the tolerance, or None when it should not.

    Rounding errors of T float32 additions behave like a random walk: about sqrt(T) * 2^-24 times
    the largest partial sum, bounded by the sum of the trees' largest leaves; times the post
    transform's steepest slope. The budget is a fifth of the tolerance. Validation still decides;
    this only spares building a candidate that is unlikely to pass.
    """
    if ensemble.sums_in_float32:  # the original's own sums are float32: nothing to lose
        return None
    if ensemble.task != "regression" and ensemble.post_transform == "none":
        return "float32 sums of averaged class probabilities break ties unlike the original's float64 sums"
    u = 2.0 ** -24
    scale = abs(ensemble.post_scale)
    slope = {"sigmoid": 0.25 * scale, "logistic_ova": 0.25 * scale, "softmax": 0.5 * scale,
             "none": scale, "softplus": scale}.get(ensemble.post_transform)
    worst = 0.0
    for k in range(ensemble.n_outputs):
        tops = [np.abs(t.leaf_values[t.is_leaf, t.outputs.index(k)]).max()
                for t in ensemble.trees if k in t.outputs]
        bound = float(np.sum(tops)) + abs(float(ensemble.base_score[k]))
        worst = max(worst, np.sqrt(max(len(tops), 1)) * u * bound * (slope or np.exp(bound) * scale))
    if worst > FLOAT32_SUM_BUDGET:
        return f"float32 sums of {ensemble.n_trees} trees may drift by {worst:.1e} > {FLOAT32_SUM_BUDGET:.0e}"
    return None
