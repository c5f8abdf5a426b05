"""The tree-ensemble IR: one plain description of any trained forest or boosted ensemble.

Frontends (LightGBM, XGBoost, scikit-learn) translate a model into a `TreeEnsemble`; backends
compile a `TreeEnsemble` into ONNX graphs. The IR keeps each library's thresholds and comparison
exactly as the library evaluates them (float64 thresholds with `<=`, float32 thresholds with `<`),
so that exactness is decided in one place (`Tree.float32_thresholds`) rather than in every backend.

Decision semantics of one internal node, for a float32 input value `x` after the ensemble-wide
input rules (`zero_threshold`, `zero_as_missing`):

* numerical node: NaN goes the `missing_left` way; otherwise left iff `x <op> threshold`, where the
  comparison is done in float64 (`op` is "<=" or "<").
* categorical node: the value becomes a category code by `categorical_rule` ("truncate": toward
  zero, LightGBM; "negative_invalid": negatives invalid, else floor, HistGradientBoosting;
  "exact": only non-negative integers are valid, an ordinal encoder's exact match). NaN, invalid
  values and categories in neither set go the `missing_left` way; categories in `category_left` go left; categories in `category_right`
  go right (`category_right` None: every other valid category goes right).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

TASKS = ("binary", "multiclass", "regression")
POST_TRANSFORMS = ("none", "sigmoid", "softmax", "exp", "logistic_ova", "softplus")
CATEGORICAL_RULES = ("truncate", "negative_invalid", "exact")

#: LightGBM treats |x| <= 1e-35f as exactly zero (kZeroThreshold); float32 of 1e-35.
LIGHTGBM_ZERO_THRESHOLD = float(np.float32(1e-35))


@dataclass(frozen=True, eq=False)
class Tree:
    """One tree as flat arrays indexed by node id; node 0 is the root.

    Leaves have `left == right == -1`. `leaf_values[node]` holds the values a leaf adds to the
    ensemble's raw outputs listed in `outputs` (one column per entry); internal rows are zero.
    `category_left[node]` / `category_right[node]` are sorted int64 arrays for categorical nodes
    and None elsewhere.
    """

    feature: np.ndarray  # int64 [n_nodes]; -1 for leaves
    threshold: np.ndarray  # float64 [n_nodes]; NaN for leaves and categorical nodes
    left: np.ndarray  # int64 [n_nodes]; -1 for leaves
    right: np.ndarray  # int64 [n_nodes]; -1 for leaves
    missing_left: np.ndarray  # bool [n_nodes]: where NaN (and invalid categories) go
    leaf_values: np.ndarray  # float64 [n_nodes, len(outputs)]
    outputs: tuple[int, ...] = (0,)
    op: str = "<="
    is_categorical: np.ndarray | None = None  # bool [n_nodes]; None: no categorical node
    category_left: tuple = ()
    category_right: tuple = ()

    def __post_init__(self) -> None:
        n = len(self.feature)
        for name in ("threshold", "left", "right", "missing_left"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"tree array {name} has {len(getattr(self, name))} entries, expected {n}")
        if self.leaf_values.shape != (n, len(self.outputs)):
            raise ValueError(f"leaf_values shape {self.leaf_values.shape} != {(n, len(self.outputs))}")
        if self.op not in ("<=", "<"):
            raise ValueError(f"comparison {self.op!r} is neither '<=' nor '<'")

    @property
    def n_nodes(self) -> int:
        return len(self.feature)

    @property
    def is_leaf(self) -> np.ndarray:
        return self.left < 0

    @property
    def categorical(self) -> np.ndarray:
        """Bool mask of categorical nodes (all False when the tree has none)."""
        if self.is_categorical is None:
            return np.zeros(self.n_nodes, dtype=bool)
        return self.is_categorical

    @cached_property
    def depth(self) -> int:
        """Number of edges on the longest root-to-leaf path (0 for a single leaf)."""
        return int(self.node_depths().max())

    def node_depths(self) -> np.ndarray:
        return node_depths(self.left, self.right)

    def float32_thresholds(self) -> np.ndarray:
        """Float32 thresholds `t32` such that, for every float32 `x`, `x <= t32` equals the tree's test.

        LightGBM and scikit-learn compare `double(x) <= t` with a float64 `t`: the largest float32
        not above `t` gives the same answer. XGBoost compares `x < t` in float32: the float32 just
        below `t` does. Rounding `t` to nearest instead flips branches for inputs on, or one float32
        step beside, the threshold. Leaves and categorical nodes get +inf.
        """
        t64 = np.where(np.isnan(self.threshold), np.inf, self.threshold)
        with np.errstate(over="ignore"):
            t32 = t64.astype(np.float32)
        back = t32.astype(np.float64)
        too_big = back > t64 if self.op == "<=" else back >= t64
        t32 = np.where(too_big, np.nextafter(t32, np.float32(-np.inf)), t32).astype(np.float32)
        t32[self.is_leaf | self.categorical] = np.inf
        return t32


@dataclass(frozen=True, eq=False)
class TreeEnsemble:
    """A trained tree ensemble: raw[k] = base_score[k] + sum of leaf values routed to output k.

    The public prediction is `post_transform(post_scale * raw)`:

    * "none": identity (regression, or classifiers whose trees already hold probabilities)
    * "sigmoid": binary with one raw output -> probabilities [1 - p, p]; regression -> p
    * "softmax": multiclass, one raw output per class
    * "logistic_ova": per-class sigmoid, not normalised (LightGBM multiclassova)
    * "exp": log-link regression (Poisson, gamma, Tweedie)
    * "softplus": log(1 + exp(raw)) (LightGBM cross_entropy_lambda)

    Input rules applied before any tree: values with |x| <= `zero_threshold` become 0
    (LightGBM), zeros of the features in `zero_as_missing` count as missing (NaN).

    A binary classifier predicts class 1 when `post_scale * raw > label_margin`: 0 for libraries
    that compare a float64 probability with 0.5, the margin below which a float32 sigmoid rounds
    to exactly 0.5 for those that compare a float32 probability (XGBoost).
    """

    n_features: int
    task: str
    n_outputs: int
    base_score: np.ndarray  # float64 [n_outputs]
    trees: tuple[Tree, ...]
    post_transform: str = "none"
    post_scale: float = 1.0
    classes: np.ndarray | None = None  # original class labels, for classifiers
    zero_threshold: float = 0.0
    zero_as_missing: frozenset[int] = field(default_factory=frozenset)
    categorical_rule: str = "truncate"
    label_margin: float = 0.0  # binary: class 1 iff post_scale * raw > label_margin
    sums_in_float32: bool = False  # the library itself sums leaves in float32 (XGBoost)
    source: str = ""

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task {self.task!r} not in {TASKS}")
        if self.post_transform not in POST_TRANSFORMS:
            raise ValueError(f"post_transform {self.post_transform!r} not in {POST_TRANSFORMS}")
        if self.categorical_rule not in CATEGORICAL_RULES:
            raise ValueError(f"categorical_rule {self.categorical_rule!r} not in {CATEGORICAL_RULES}")
        if len(self.base_score) != self.n_outputs:
            raise ValueError(f"base_score has {len(self.base_score)} entries for {self.n_outputs} outputs")
        for i, tree in enumerate(self.trees):
            if max(tree.outputs) >= self.n_outputs:
                raise ValueError(f"tree {i} adds to output {max(tree.outputs)} of {self.n_outputs}")
            used = tree.feature[~tree.is_leaf]
            if used.size and (used.min() < 0 or used.max() >= self.n_features):
                raise ValueError(f"tree {i} splits on a feature outside 0..{self.n_features - 1}")
        if self.task != "regression" and (self.classes is None or len(self.classes) != self.n_classes):
            raise ValueError("a classifier needs one label per class in `classes`")

    # --- shape of the prediction -------------------------------------------------------------

    @property
    def n_classes(self) -> int:
        """Number of classes (2 for binary), or 0 for regression."""
        if self.task == "regression":
            return 0
        if self.task == "binary":
            return 2
        return self.n_outputs

    @property
    def n_targets(self) -> int:
        """Columns of the public prediction: classes for classifiers, outputs for regression."""
        return self.n_classes if self.task != "regression" else self.n_outputs

    # --- size and structure ------------------------------------------------------------------

    @property
    def n_trees(self) -> int:
        return len(self.trees)

    @property
    def n_nodes(self) -> int:
        return sum(t.n_nodes for t in self.trees)

    @cached_property
    def max_depth(self) -> int:
        return max((t.depth for t in self.trees), default=0)

    @property
    def max_leaves(self) -> int:
        return max((int(t.is_leaf.sum()) for t in self.trees), default=1)

    @cached_property
    def categorical_features(self) -> frozenset[int]:
        """Features used by at least one categorical split."""
        found: set[int] = set()
        for t in self.trees:
            found.update(int(f) for f in t.feature[t.categorical])
        return frozenset(found)

    @property
    def has_categorical(self) -> bool:
        return bool(self.categorical_features)

    def thresholds_by_feature(self) -> dict[int, np.ndarray]:
        """Sorted unique float32 decision boundaries per numerical feature (for boundary rows).

        The values are the float32 `t32` with `x <= t32` equivalent to the split, so a row at
        `t32` and one at `np.nextafter(t32, inf)` sit on either side of the split.
        """
        found: dict[int, list[np.ndarray]] = {}
        for t in self.trees:
            numeric = ~t.is_leaf & ~t.categorical
            t32 = t.float32_thresholds()
            for f in np.unique(t.feature[numeric]):
                found.setdefault(int(f), []).append(t32[numeric & (t.feature == f)])
        return {f: np.unique(np.concatenate(v)) for f, v in sorted(found.items())}

    def categories_by_feature(self) -> dict[int, np.ndarray]:
        """Sorted categories named in any categorical split, per feature."""
        found: dict[int, set[int]] = {}
        for t in self.trees:
            for node in np.flatnonzero(t.categorical):
                cats = found.setdefault(int(t.feature[node]), set())
                cats.update(int(c) for c in t.category_left[node])
                if t.category_right[node] is not None:
                    cats.update(int(c) for c in t.category_right[node])
        return {f: np.array(sorted(c), dtype=np.int64) for f, c in sorted(found.items())}

    def describe(self) -> str:
        return (f"{self.source or 'tree ensemble'}: {self.task}, {self.n_trees} trees, "
                f"{self.n_features} features, max depth {self.max_depth}")


def node_depths(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Depth of every node of a tree given by child arrays (root 0, leaves -1)."""
    depths = np.zeros(len(left), dtype=np.int64)
    stack = [0]
    while stack:
        node = stack.pop()
        if left[node] >= 0:
            for child in (left[node], right[node]):
                depths[child] = depths[node] + 1
                stack.append(int(child))
    return depths


def make_tree(feature, threshold, left, right, missing_left, leaf_values, *, outputs=(0,), op="<=",
              is_categorical=None, category_left=None, category_right=None) -> Tree:
    """Build a `Tree` from lists or arrays, normalising dtypes (what frontends call)."""
    n = len(feature)
    values = np.asarray(leaf_values, dtype=np.float64)
    if values.ndim == 1:
        values = values.reshape(n, 1)
    cat = None if is_categorical is None else np.asarray(is_categorical, dtype=bool)
    if cat is not None and not cat.any():
        cat = None
    return Tree(
        feature=np.asarray(feature, dtype=np.int64),
        threshold=np.asarray(threshold, dtype=np.float64),
        left=np.asarray(left, dtype=np.int64),
        right=np.asarray(right, dtype=np.int64),
        missing_left=np.asarray(missing_left, dtype=bool),
        leaf_values=values,
        outputs=tuple(int(o) for o in outputs),
        op=op,
        is_categorical=cat,
        category_left=tuple(category_left) if cat is not None and category_left is not None else (None,) * n,
        category_right=tuple(category_right) if cat is not None and category_right is not None else (None,) * n,
    )
