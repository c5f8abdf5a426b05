"""The tree ensemble as a PyTorch module (the GEMM form): "LightGBM -> NN" for GPUs or fine-tuning.

`to_torch(ensemble)` returns an `nn.Module` whose forward pass computes exactly what the ONNX
GEMM graph computes (hard decisions, same float32 thresholds, same NaN/zero/categorical rules):
probabilities [N, n_classes] for classifiers, values [N, n_outputs] for regressors. Leaf values
are parameters. With `temperature > 0` decisions become sigmoid((t - x) / temperature) and a
leaf's weight the product of its path's probabilities, so thresholds get gradients as well:
a differentiable starting point initialised from the trained trees.

Not an ONNX backend (not in the registry); torch is imported only when this is used.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir import TreeEnsemble
from .gemm import _matrices
from .lowering import NumericEnsemble, lower


def to_torch(ensemble: TreeEnsemble, *, temperature: float = 0.0) -> Any:
    import torch

    from ...errors import ConversionError
    from .gemm import applicable

    reason = applicable(ensemble)
    if reason is not None:
        raise ConversionError(f"cannot build the torch module: {reason}")
    return _module_class(torch)(lower(ensemble), temperature)


def _module_class(torch):
    nn = torch.nn

    class TreeEnsembleModule(nn.Module):
        """Trees as tensors: gather features, compare, follow paths by products, sum leaf values."""

        def __init__(self, lowered: NumericEnsemble, temperature: float) -> None:
            super().__init__()
            ens = lowered.ensemble
            self.task, self.post = ens.task, ens.post_transform
            self.temperature = float(temperature)
            trees = lowered.trees
            n_leaves = max(int(t.is_leaf.sum()) for t in trees)
            n_inner = max(n_leaves - 1, 1)
            shape = (len(trees), n_inner)
            features, thresholds = np.zeros(shape, np.int64), np.full(shape, np.inf, np.float32)
            missing = np.ones(shape, bool)
            paths = np.zeros((len(trees), n_inner, n_leaves), np.float32)
            lefts = np.zeros((len(trees), n_leaves), np.float32)
            values = np.zeros((len(trees), n_leaves, lowered.n_outputs), np.float32)
            for i, tree in enumerate(trees):
                inner, paths[i], lefts[i], v = _matrices(tree, n_inner, n_leaves)
                features[i, :len(inner)] = tree.feature[inner]
                thresholds[i, :len(inner)] = tree.threshold[inner]
                missing[i, :len(inner)] = tree.missing_left[inner]
                values[i] = v
            finite = np.where(np.isfinite(thresholds), thresholds, np.float32(3e38))
            self.thresholds = nn.Parameter(torch.from_numpy(finite), requires_grad=temperature > 0)
            self.leaf_values = nn.Parameter(torch.from_numpy(values))
            for name, array in (("features", features), ("missing_left", missing), ("paths", paths),
                                ("left_turns", lefts), ("infinite", ~np.isfinite(thresholds)),
                                ("base", lowered.base_left.astype(np.float32))):
                self.register_buffer(name, torch.from_numpy(np.ascontiguousarray(array)))
            self._rules = _InputRules(torch, lowered)

        def forward(self, X):
            x = self._rules(X.to(torch.float32))
            v = x[:, self.features]  # [N, T, I]
            nan = torch.isnan(v)
            if self.temperature > 0:
                p = torch.sigmoid((self.thresholds - torch.nan_to_num(v)) / self.temperature)
                p = torch.where(nan, self.missing_left.to(p.dtype), p)
                p = torch.where(self.infinite, torch.ones_like(p), p)
                left, right = (self.paths > 0).to(p.dtype), (self.paths < 0).to(p.dtype)
                eps = torch.finfo(p.dtype).tiny
                log_reach = (torch.einsum("nti,til->ntl", torch.log(p.clamp_min(eps)), left)
                             + torch.einsum("nti,til->ntl", torch.log((1 - p).clamp_min(eps)), right))
                reached = torch.exp(log_reach)
            else:
                t = torch.where(self.infinite, torch.full_like(self.thresholds, float("inf")), self.thresholds)
                go_left = (v <= t) | (nan & self.missing_left)
                turns = torch.einsum("nti,til->ntl", go_left.to(torch.float32), self.paths)
                reached = (turns == self.left_turns).to(torch.float32)
            raw = torch.einsum("ntl,tlo->no", reached, self.leaf_values) + self.base
            return _post(torch, raw, self.task, self.post)

    return TreeEnsembleModule


def _post(torch, z, task: str, post: str):
    if task == "binary" and z.shape[1] == 1:
        p = torch.sigmoid(z)
        return torch.cat([1 - p, p], dim=1)
    if post in ("sigmoid", "logistic_ova"):
        return torch.sigmoid(z)
    if post == "softmax":
        return torch.softmax(z, dim=1)
    if post == "exp":
        return torch.exp(z)
    if post == "softplus":
        return torch.nn.functional.softplus(z)
    return z


class _InputRules:
    """The graph's `preprocess` in torch: tiny values to zero, zeros as missing, categorical columns."""

    def __init__(self, torch, lowered: NumericEnsemble) -> None:
        ens = lowered.ensemble
        self.torch, self.rule = torch, ens.categorical_rule
        self.zero_threshold = float(ens.zero_threshold)
        self.flush = torch.tensor([f in lowered.flush_features for f in range(ens.n_features)])
        self.zero_missing = torch.tensor([f in ens.zero_as_missing for f in range(ens.n_features)])
        self.table = lowered.categorical

    def __call__(self, x):
        torch = self.torch
        if bool(self.flush.any()):
            x = torch.where((x.abs() <= self.zero_threshold) & self.flush.to(x.device), torch.zeros_like(x), x)
        if bool(self.zero_missing.any()):
            x = torch.where((x == 0) & self.zero_missing.to(x.device), torch.full_like(x, float("nan")), x)
        if self.table is None:
            return x
        g = x[:, torch.from_numpy(self.table.features).to(x.device)]
        if self.rule == "truncate":
            codes = torch.trunc(g)
        elif self.rule == "negative_invalid":
            codes = torch.floor(g)
        else:
            codes = torch.where(torch.floor(g) == g, g, torch.full_like(g, -1.0))
        sizes = torch.from_numpy(self.table.sizes.astype(np.float32)).to(x.device)
        valid = (codes >= 0) & (codes < sizes)
        idx = torch.where(valid, codes, sizes).to(torch.int64) + torch.from_numpy(self.table.offsets).to(x.device)
        virtual = torch.from_numpy(self.table.table).to(x.device)[idx]
        return torch.cat([x, virtual], dim=1)
