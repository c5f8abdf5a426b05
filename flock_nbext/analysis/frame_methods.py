"""DataFrame and Series methods by knowledge-base role: drop, pop, assign, rename, merge, filter,
set_index, get_dummies, groupby, eval, apply...  Methods the KB does not name keep the columns
(row operations such as fillna, dropna, astype, sort_values).
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from .columns import ALL_EXCEPT, COLUMNS, ColumnSet
from .frames import AXIS_COLUMNS, _names
from .values import Const, Data, Function, Instance, Seq, Unknown, Value, with_deps

_LOCAL_REF = re.compile(r"@[A-Za-z_][A-Za-z0-9_]*")  # @threshold in query()/eval(): a Python variable


class FrameMethodMixin:
    """Methods called on Data values (the interpreter mixes this in)."""

    def frame_method(self, data: Data, attr: str, node: ast.Call, args, receiver_node) -> Value:
        role = self.kb.frame_methods.get(attr, "rows")
        deps = data.deps | args.deps
        if data.accessor:  # s.str.count("!"), s.str.split(",", expand=True), s.dt.strftime(...): same column
            others = [v for v in args.values() if isinstance(v, Data)]
            sources = data.sources.union(*(o.sources for o in others))
            cols = data.cols
            if others and cols.kind == COLUMNS and all(o.cols.kind == COLUMNS for o in others):
                cols = ColumnSet.of(list(cols.source_names()) + [n for o in others for n in o.cols.source_names()])
            return Data(sources, cols, data.series, deps, data.array, data.preds)
        inplace = const_true(args.kw("inplace"))
        result = self._frame_method(data, attr, role, node, args, deps, receiver_node)
        if attr in ("to_numpy", "numpy", "toarray", "todense", "float", "double", "long") and isinstance(result, Data):
            result = replace(result, array=True)
        if inplace and isinstance(result, Data):
            self.rebind(receiver_node, result, node)
            return Const(None)
        return result

    def _frame_method(self, data, attr, role, node, args, deps, receiver_node):
        cols = data.cols
        if role == "drop":
            names_value = args.kw("columns")
            if names_value is None:
                axis = args.kw("axis")
                axis = axis.value if isinstance(axis, Const) else (args.pos(1).value if isinstance(args.pos(1), Const) else 0)
                if axis not in AXIS_COLUMNS:
                    return with_deps(data, deps)
                names_value = args.pos(0) or args.kw("labels")
            names = _names(names_value) if names_value is not None else None
            if names is None:
                return data.with_cols(ColumnSet.unknown(f"columns dropped: {self.text(node)}"), deps=deps)
            return data.with_cols(cols.drop(names), deps=deps)
        if role == "pop":
            name = args.pos(0)
            if isinstance(name, Const) and isinstance(name.value, str):
                self.rebind(receiver_node, data.with_cols(cols.drop([name.value])), node)
                return data.with_cols(cols.select([name.value]), series=True, deps=deps)
            return data.with_cols(ColumnSet.unknown("popped column"), series=True, deps=deps)
        if role == "select_dtypes":
            return data.with_cols(ColumnSet.unknown(f"columns chosen by dtype: {self.text(node)}"), deps=deps)
        if role == "assign":
            for name, value in args.keywords.items():
                if name is None:
                    continue
                if isinstance(value, Function):  # assign(x=lambda d: d.a / d.b)
                    value = self.call_function(value, node, _single_arg(self, data))
                cols = cols.add(name, self.origins_of(value))
            return data.with_cols(cols, deps=deps)
        if role == "insert":
            name, value = args.pos(1) or args.kw("column"), args.pos(2) or args.kw("value")
            if isinstance(name, Const):
                from_cols = value.cols.source_names() if isinstance(value, Data) and value.cols.kind == COLUMNS else ()
                self.rebind(receiver_node, data.with_cols(cols.add(str(name.value), from_cols)), node)
            return Const(None)
        if role == "rename":
            mapping = args.kw("columns")
            if mapping is None and isinstance(args.kw("axis"), Const) and args.kw("axis").value in AXIS_COLUMNS:
                mapping = args.pos(0)
            if isinstance(mapping, Const) and isinstance(mapping.value, dict):
                return data.with_cols(cols.rename(mapping.value), deps=deps)
            if mapping is None:
                return with_deps(data, deps)
            return data.with_cols(ColumnSet.unknown("columns renamed by a function"), deps=deps)
        if role == "merge":
            other = args.pos(0) or args.kw("right") or args.kw("other")
            return self.merge_values(data, other, deps)
        if role in ("filter", "reindex"):
            items = args.kw("items") if role == "filter" else args.kw("columns")
            if items is None and role == "filter":
                items = args.pos(0) if args.kw("like") is None and args.kw("regex") is None else None
            names = _names(items) if items is not None else None
            if names is not None:
                return data.with_cols(cols.select(names), deps=deps)
            if role == "reindex" and items is None:
                return with_deps(data, deps)
            return data.with_cols(ColumnSet.unknown(f"columns chosen by {self.text(node)}"), deps=deps)
        if role == "set_index":
            names = _names(args.pos(0) or args.kw("keys") or Const(None))
            if names is not None and const_true(args.kw("drop"), default=True) is not False:
                return data.with_cols(cols.drop(names), deps=deps)
            return with_deps(data, deps)
        if role == "eval":
            return self.eval_expression(data, args.pos(0) or args.kw("expr"), deps)
        if role == "dropna":
            axis = args.kw("axis")
            if isinstance(axis, Const) and axis.value in AXIS_COLUMNS:
                return data.with_cols(ColumnSet.unknown("columns with missing values dropped"), deps=deps)
            return with_deps(data, deps)
        if role == "get_dummies":
            return self.dummies(data, args, deps)
        if role == "groupby":
            keys = _names(args.pos(0) or args.kw("by") or Const(None))
            as_index = args.kw("as_index")
            return Instance("groupby", attrs={"data": data, "keys": keys or [], "selected": None,
                                              "as_index": not (isinstance(as_index, Const) and not as_index.value)},
                            deps=deps)
        if role in ("aggregate", "unknown_columns"):
            return data.with_cols(ColumnSet.unknown(f"columns made by {attr}()"), deps=deps)
        if role == "reduce":
            return data.with_cols(ColumnSet.unknown(f"{attr}() of the data"), deps=deps)
        if role == "sink":
            return Unknown(node=node, deps=deps)
        if role == "apply":
            func = args.pos(0) or args.kw("func")
            if isinstance(func, Function):
                result = self.call_function(func, node, _single_arg(self, data))
                if isinstance(result, Data):
                    cols = result.cols if result.cols.kind in (COLUMNS, ALL_EXCEPT) else data.cols
                    return Data(data.sources | result.sources, cols, result.series or data.series, deps)
            return with_deps(data, deps)
        others = [v for v in args.values() if isinstance(v, Data)]
        if others:  # s.isin(other["day"]), s.fillna(other_s), s.map(lookup): values from elsewhere
            sources = data.sources.union(*(o.sources for o in others))
            if data.series and cols.kind == COLUMNS and all(o.cols.kind == COLUMNS for o in others):
                cols = ColumnSet.of(list(cols.source_names()) + [n for o in others for n in o.cols.source_names()])
            return Data(sources, cols, data.series, deps)
        return with_deps(data, deps)

    def eval_expression(self, data: Data, expr: Value | None, deps) -> Value:
        """``df.eval("ratio = a / b")`` adds ratio made from a and b; ``df.eval("a + b")`` is computed from them."""
        if not (isinstance(expr, Const) and isinstance(expr.value, str)):
            return data.with_cols(ColumnSet.unknown("columns made by eval() of a computed expression"), deps=deps)
        try:
            tree = ast.parse(_LOCAL_REF.sub("_local_", expr.value.strip()))
        except SyntaxError:
            return data.with_cols(ColumnSet.unknown(f"columns made by eval({expr.value!r})"), deps=deps)
        cols, assigned = data.cols, False
        for stmt in tree.body:
            names = [n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and n.id != "_local_"
                     and isinstance(n.ctx, ast.Load)]
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                cols, assigned = cols.add(stmt.targets[0].id, names), True
            elif not assigned and len(tree.body) == 1:
                return data.with_cols(data.cols.select(names), series=True, deps=deps)
        return data.with_cols(cols, deps=deps)

    def merge_values(self, left: Data, right: Value | None, deps) -> Value:
        if isinstance(right, Seq):
            values = [left, *right.items]
        else:
            values = [left] + ([right] if right is not None else [])
        datas = [v for v in values if isinstance(v, Data)]
        sources = frozenset().union(*(d.sources for d in datas))
        cols = datas[0].cols
        for other in datas[1:]:
            cols = cols.union(other.cols)
        return Data(sources, cols, False, deps, False, tuple(p for d in datas for p in d.preds))

    def dummies(self, data: Data, args, deps) -> Value:
        """``get_dummies``: encoded columns become ``col_*`` derived from ``col``."""
        which = args.kw("columns")
        names = _names(which) if which is not None else None
        cols = data.cols
        if names is None and data.series and cols.known and len(cols.names) == 1:  # get_dummies(s, prefix="p")
            prefix = args.kw("prefix")
            prefix = prefix.value if isinstance(prefix, Const) and isinstance(prefix.value, str) else cols.names[0]
            return data.with_cols(cols.select([]).add(f"{prefix}_*", cols.origins(cols.names[0])), series=False,
                                  deps=deps)
        if names is None:  # every categorical column encoded: the same source columns
            return data.with_cols(cols, series=False, deps=deps)
        for name in names:
            origins = cols.origins(name)
            if cols.kind == COLUMNS:
                cols = cols.drop([name])
            cols = cols.add(f"{name}_*", origins)
        return data.with_cols(cols, series=False, deps=deps)

    def groupby_subscript(self, group: Instance, key: Value) -> Value:
        names = _names(key)
        attrs = dict(group.attrs)
        attrs["selected"] = names
        attrs["series"] = isinstance(key, Const) and isinstance(key.value, str)
        return Instance("groupby", attrs=attrs, deps=group.deps | key.deps)

    def groupby_method(self, group: Instance, attr: str, node, args) -> Value:
        """``df.groupby(keys)[cols].agg(...)``: keys (unless the index) plus the aggregated columns."""
        data, keys, selected = group.attrs["data"], group.attrs["keys"], group.attrs["selected"]
        deps = group.deps | args.deps
        same_shape = attr in ("transform", "shift", "cumsum", "cumcount", "rank", "diff", "fillna", "ffill",
                              "bfill", "pct_change", "cummax", "cummin", "rolling", "expanding", "apply")
        if attr in ("agg", "aggregate") and args.keywords:  # named aggregation: total=("amount", "sum")
            cols = ColumnSet.of([] if group.attrs["as_index"] else keys)
            for name, spec in args.keywords.items():
                items = self.seq_of(spec)
                source = items[0].value if items and isinstance(items[0], Const) else None
                cols = cols.add(name, [source] if source else ())
            return Data(data.sources, cols, False, deps)
        if attr in ("agg", "aggregate") and isinstance(args.pos(0), Const) and isinstance(args.pos(0).value, dict):
            selected = [str(k) for k in args.pos(0).value]
        if selected is not None:
            names = list(selected) if same_shape or group.attrs["as_index"] else list(keys) + list(selected)
            series = bool(group.attrs.get("series")) and (same_shape or group.attrs["as_index"])
            return Data(data.sources, data.cols.select(names), series, deps)
        if data.cols.known:
            rest = [n for n in data.cols.names if n not in keys]
            names = rest if same_shape or group.attrs["as_index"] else list(keys) + rest
            return Data(data.sources, data.cols.select(names), False, deps)
        return Data(data.sources, ColumnSet.unknown(f"columns made by groupby().{attr}()"), False, deps)


def _single_arg(interp, value):
    from .calls import Args

    args = Args()
    args.positional.append(value)
    args.pos_nodes.append(None)
    return args


def const_true(value, default=False) -> bool:
    if isinstance(value, Const):
        return bool(value.value)
    return default
