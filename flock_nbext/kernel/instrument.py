"""Rewrite a cell's tree so the runtime hooks see the live objects at the sites the analysis named.

Only expressions are wrapped, never statements moved or added: `f(a, k=b)` at a site becomes
`__flock__.fit(S, __flock__.a(S, 0, f)(__flock__.a(S, 1, a), k=__flock__.a(S, 'k', b)))`-style
identity calls, each returning its argument unchanged. Every operand is still evaluated exactly once,
in the same order, in the same scope (no lambdas: `await`, `yield`, walrus and `super()` behave as
before), and each new node carries the wrapped node's positions, so the user's tracebacks keep their
line numbers and the cell's last expression is still displayed.

Pure: stdlib `ast` only, so it is tested without a kernel.
"""

from __future__ import annotations

import ast
import copy
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

HOOKS_NAME = "__flock__"
"""The reserved name of the runtime hooks object in the user's namespace."""

RECEIVER = "recv"
"""Key under which a method call's receiver (`clf` in `clf.fit(X, y)`) is handed to the hooks."""

# What each kind of site hands to the hooks: the call's result always; its receiver and arguments
# where the hook needs the live objects (the model and X/y of a fit, the query and connection of a
# SQL read, the path of a file read, the keyword options of a metric).
_WRAP_ARGS = {"fit": True, "sql": True, "read": True, "metric": True}
_HOOK_FOR_KIND = {"fit": "fit", "sql": "sql", "read": "read", "metric": "metric"}


@dataclass
class PlantedSite:
    """One site the rewritten tree reports to the hooks, with what is known about it statically."""

    id: int
    kind: str
    site: Any
    """The analysis' Site object (kind, positions, ref, models, var, function, receiver)."""
    method: str | None
    """The called attribute name (`fit` in `clf.fit(...)`), None for a plain function call."""
    literal_kwargs: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments written as literals in the call (e.g. {"average": "macro"})."""
    n_args: int = 0
    cell: Any = None
    """The notebook cell whose code holds the call (set by the tracker)."""
    deferred: bool = False
    """A call in a function body whose model is known only when a cell calls the function."""


def position_of(node: ast.AST) -> tuple[int, int, int | None, int | None]:
    return (node.lineno, node.col_offset, getattr(node, "end_lineno", None),
            getattr(node, "end_col_offset", None))


def site_position(site: Any) -> tuple[int, int, int | None, int | None]:
    return (site.lineno, site.col_offset, getattr(site, "end_lineno", None),
            getattr(site, "end_col_offset", None))


def instrument(tree: ast.Module, sites: Iterable[Any], next_id: int,
               in_functions: Iterable[Any] = ()) -> tuple[ast.Module, list[PlantedSite]]:
    """Wrap the calls at `sites` in hook calls; returns the rewritten tree and what was planted.

    `in_functions` are calls in the bodies of functions the cell defines that may train, evaluate or
    read once a later cell calls them (the analysis' `CellFacts.in_functions`, without a model yet):
    they get a hook too unless a site of the cell is already there, planted as `deferred`.

    Copy-on-write: the nodes on the way from the module to each wrapped call are shallow-copied and
    everything else is shared, so `tree` itself is left exactly as the analysis saw it (it keeps the
    bodies of functions defined in a cell and reads them again when a later cell calls them).
    Site ids are numbered from `next_id` so they stay unique across the cells of a session. Sites
    whose position matches no call in the tree (the analysis saw another text) are skipped.
    """
    wanted: dict[tuple, list[Any]] = {}
    for site in sites:
        kind = getattr(site, "kind", None)
        if kind in _HOOK_FOR_KIND:
            wanted.setdefault(site_position(site), []).append(site)
    for site in in_functions:
        if getattr(site, "kind", None) in _HOOK_FOR_KIND:
            wanted.setdefault(site_position(site), [site])
    if not wanted:
        return tree, []
    planter = _Planter(wanted, next_id)
    return planter.rewrite(tree), planter.planted


class _Planter:
    def __init__(self, wanted: dict[tuple, list[Any]], next_id: int) -> None:
        self.wanted = wanted
        self.lines = sorted({pos[0] for pos in wanted})
        self.next_id = next_id
        self.planted: list[PlantedSite] = []

    def _may_contain(self, node: ast.AST) -> bool:
        """False when the node's lines hold no wanted call (its subtree is skipped: the fast path)."""
        start = getattr(node, "lineno", None)
        end = getattr(node, "end_lineno", None)
        decorators = getattr(node, "decorator_list", None)
        if decorators and start is not None:  # decorators sit on lines above `def`/`class`
            start = min([start, *(d.lineno for d in decorators)])
        if start is None or end is None:
            return True  # arguments, comprehension, match_case...: no positions, look inside
        lines = self.lines
        i = bisect_left(lines, start)
        return i < len(lines) and lines[i] <= end

    def _candidates(self, items: list) -> Any:
        """Indices worth visiting: in a block of statements (in order, disjoint) only those ending at or
        after a wanted line, found by bisection instead of visiting every statement of a long cell."""
        if not items or not isinstance(items[0], ast.stmt):
            return range(len(items))
        ends = [getattr(item, "end_lineno", None) for item in items]
        if None in ends:
            return range(len(items))
        found = set()
        for line in self.lines:
            i = bisect_left(ends, line)
            while i < len(items) and items[i].lineno <= line:  # `a = f(); clf.fit(X)`: one line, two statements
                found.add(i)
                i += 1
            if i < len(items) and getattr(items[i], "decorator_list", None):  # decorators above the def line
                found.add(i)
        return sorted(found)

    def rewrite(self, node: Any) -> Any:
        """`node` itself when nothing under it changes, else a shallow copy with the rewritten children."""
        if not self.wanted or not self._may_contain(node):
            return node
        changes: dict[str, Any] = {}
        for name, value in ast.iter_fields(node):
            if isinstance(value, list):
                new_list = None
                for i in self._candidates(value):
                    item = value[i]
                    if isinstance(item, ast.AST):
                        new_item = self.rewrite(item)
                        if new_item is not item:
                            if new_list is None:
                                new_list = list(value)
                            new_list[i] = new_item
                if new_list is not None:
                    changes[name] = new_list
            elif isinstance(value, ast.AST):
                new_value = self.rewrite(value)
                if new_value is not value:
                    changes[name] = new_value
        if changes:
            node = copy.copy(node)
            for name, value in changes.items():
                setattr(node, name, value)
        if isinstance(node, ast.Call):
            return self._plant(node)
        return node

    def _plant(self, node: ast.Call) -> ast.AST:
        sites = self.wanted.pop(position_of(node), None)
        if not sites:
            return node
        # one call may be listed once per model it evaluates: plant one hook per kind, outermost last
        result: ast.AST = node
        seen: set[str] = set()
        for site in sites:
            hook = _HOOK_FOR_KIND[site.kind]
            if hook in seen:
                continue
            seen.add(hook)
            planted = PlantedSite(
                id=self.next_id + len(self.planted),
                kind=site.kind,
                site=site,
                method=node.func.attr if isinstance(node.func, ast.Attribute) else None,
                literal_kwargs=_literal_kwargs(node),
                n_args=len(node.args),
                deferred=not getattr(site, "ref", None),
            )
            self.planted.append(planted)
            if _WRAP_ARGS.get(site.kind) and result is node:
                node = result = _wrap_operands(node, planted.id)
            result = _hook_call(hook, planted.id, result, node)
        return result


def _literal_kwargs(node: ast.Call) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            continue
        try:
            out[kw.arg] = ast.literal_eval(kw.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
    return out


def _wrap_operands(call: ast.Call, site_id: int) -> ast.Call:
    """A copy of `call` handing its receiver, positional and keyword arguments to the hooks as they are evaluated."""
    call = copy.copy(call)
    if isinstance(call.func, ast.Attribute):
        call.func = copy.copy(call.func)
        call.func.value = _hook_call("a", site_id, call.func.value, call.func.value, key=RECEIVER)
    call.args = list(call.args)
    for i, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred):
            break  # positions after *args are unknown statically: stop handing them over
        call.args[i] = _hook_call("a", site_id, arg, arg, key=i)
    keywords = []
    for kw in call.keywords:
        if kw.arg is not None:
            kw = copy.copy(kw)
            kw.value = _hook_call("a", site_id, kw.value, kw.value, key=kw.arg)
        keywords.append(kw)
    call.keywords = keywords
    return call


_LOAD = ast.Load()


def _hook_call(method: str, site_id: int, value: ast.AST, where: ast.AST, key: Any = None) -> ast.Call:
    """`__flock__.<method>(site_id[, key], value)` placed exactly where `where` was."""
    at = {"lineno": where.lineno, "col_offset": where.col_offset,  # type: ignore[attr-defined]
          "end_lineno": getattr(where, "end_lineno", None), "end_col_offset": getattr(where, "end_col_offset", None)}
    func = ast.Attribute(value=ast.Name(id=HOOKS_NAME, ctx=_LOAD, **at), attr=method, ctx=_LOAD, **at)
    args: list[ast.expr] = [ast.Constant(site_id, **at)]
    if key is not None:
        args.append(ast.Constant(key, **at))
    args.append(value)  # type: ignore[arg-type]
    return ast.Call(func=func, args=args, keywords=[], **at)
