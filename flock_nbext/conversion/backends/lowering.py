"""Lower the IR to the all-numeric form every ONNX backend compiles: `x <= t32` at every node.

* thresholds become the float32 `t32` of `Tree.float32_thresholds` (exact for float32 input);
* each categorical node becomes a numerical node on a *virtual column* that the graph computes
  up front from a lookup table (0.0 = go left, 1.0 = go right), so no backend needs set tests;
* leaves become nodes with threshold +inf that send everything (NaN included) left, and carry
  their values densely over all raw outputs, already multiplied by the post-transform scale and
  with the base score folded into the first tree of each output (fewer graph nodes: at batch 1
  every ONNX Runtime node costs about a microsecond);
* LightGBM's "tiny values are zero" rule is kept only for the features where it can change a
  decision (a threshold within [-1e-35, 1e-35), or zeros that count as missing).
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
        threshold = tree.float32_thresholds()
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
    """Features on which mapping |x| <= zero_threshold to 0 can change some decision."""
    zt = ensemble.zero_threshold
    if zt <= 0:
        return frozenset()
    found = set(ensemble.zero_as_missing)
    for tree in ensemble.trees:
        numeric = ~tree.is_leaf & ~tree.categorical
        t32 = tree.float32_thresholds()
        near = numeric & (t32 >= -zt) & (t32 < zt)  # x and 0 can fall on different sides
        found.update(int(f) for f in tree.feature[near])
    return frozenset(found)


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
