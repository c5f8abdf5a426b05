"""Call sites inside the functions and classes a cell defines, for the calls that later cells make.

A function runs the code compiled in the cell that defined it, so the kernel can only place a hook
in its body while that cell is compiled. At definition the analysis does not know yet what the body
will train (that depends on each call's arguments), so it names the calls that may train, evaluate or
read (`m.fit(...)`, a metric or reader of the knowledge base) without a model (`ref=""`). When a
later cell calls the function, the analysis follows the body with that call's arguments and reports
what it finds there as sites with ``cell`` set to the defining cell (``CellFacts.elsewhere``): the
kernel then gives the hook already in place this call's lineage.
"""

from __future__ import annotations

import ast
from functools import lru_cache

from .facts import Site
from .kb import KnowledgeBase
from .training import FIT_METHODS
from .values import Ref

FIT_LIKE_METHODS = frozenset(FIT_METHODS | {"fit_transform", "fit_predict", "fit_resample"})
METRIC_METHODS = frozenset({"score", "evaluate", "evaluate_generator"})


def site_kind(kb: KnowledgeBase, qualname: str) -> str | None:
    """The kind of site a call of `qualname` makes, from its knowledge-base role (None: not one)."""
    entry = kb.lookup(qualname)
    if entry is None:
        return None
    if entry.role in ("metric", "cv_train"):
        return "metric"
    if entry.role == "train":
        return "fit"
    if entry.role == "read":
        return "sql" if entry.get("kind") == "sql" else "read"
    if entry.role in ("loader", "dataset_loader"):
        return "read"
    return None


@lru_cache(maxsize=4)
def _kinds_by_short_name(kb: KnowledgeBase) -> dict[str, str]:
    """`precision_score` -> "metric": for names a function uses before the cell that imports them ran.

    Only distinctive names (`read_csv`, `f1_score`): `train` or `load` alone may be anything.
    """
    out: dict[str, str] = {}
    for name in kb.names():
        kind = site_kind(kb, name)
        short = name.rsplit(".", 1)[-1]
        if "_" not in short.strip("_"):
            continue
        if kind is not None and out.get(short, kind) == kind:
            out[short] = kind
        elif kind is not None:
            out[short] = ""  # the same short name means different things in two libraries
    return {k: v for k, v in out.items() if v}


def function_sites(definition: ast.AST, scope, kb: KnowledgeBase) -> list[Site]:
    """Calls in the bodies of `definition` (a def or class, nested ones included) that may train,
    evaluate or read, resolved against the module `scope` as it is at definition."""
    out = []
    for node in ast.walk(definition):
        if not isinstance(node, ast.Call):
            continue
        kind = _kind_of(node.func, scope, kb)
        if kind is not None:
            func = node.func
            receiver = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None
            out.append(Site(kind=kind, lineno=node.lineno, col_offset=node.col_offset, end_lineno=node.end_lineno,
                            end_col_offset=node.end_col_offset, ref="", receiver=receiver))
    return out


def model_class(kb: KnowledgeBase, qualname: str) -> str | None:
    """The public name of a live object's class (`sklearn.tree._classes.DecisionTreeClassifier`) when the
    knowledge base knows it as a model (an estimator that is not a transformer); else None."""
    entry = kb.lookup(qualname)
    if entry is None or entry.role != "estimator" or entry.get("type") == "transformer":
        return None
    return entry.name


def _kind_of(func: ast.expr, scope, kb: KnowledgeBase) -> str | None:
    parts = []
    base = func
    while isinstance(base, ast.Attribute):
        parts.append(base.attr)
        base = base.value
    if isinstance(base, ast.Name):
        binding = scope.lookup(base.id)
        if binding is not None and isinstance(binding.value, Ref):
            kind = site_kind(kb, ".".join([binding.value.qualname, *reversed(parts)]))
            if kind is not None:
                return kind
        elif binding is None and not parts:
            return _kinds_by_short_name(kb).get(base.id)
    if isinstance(func, ast.Attribute):
        if func.attr in FIT_LIKE_METHODS:
            return "fit"
        if func.attr in METRIC_METHODS:
            return "metric"
    return None
