"""DataFrame, Series and array values: how rows and columns flow through attributes, subscripts,
column writes, arithmetic and side-by-side combinations in pandas/numpy code.

Methods called on these values are in frame_methods.py.
"""

from __future__ import annotations

import ast
from dataclasses import replace

from .columns import ALL_EXCEPT, COLUMNS, ColumnSet
from .values import (
    Bound,
    ColumnNames,
    Const,
    Data,
    Instance,
    Pred,
    Seq,
    Unknown,
    Value,
    evolve,
    with_deps,
)

AXIS_COLUMNS = (1, "columns")
ACCESSORS = frozenset({"str", "dt", "cat", "sparse"})
SERIES_ONLY = frozenset({"name", "dtype"})  # Series attributes; on a DataFrame these names are columns


def _names(value: Value):
    """Column names a selector value gives, or None when not a constant list/str."""
    if isinstance(value, Const):
        if isinstance(value.value, str):
            return [value.value]
        if isinstance(value.value, (list, tuple, set)) and all(isinstance(v, (str, int)) for v in value.value):
            return [str(v) for v in value.value]
        if isinstance(value.value, int) and not isinstance(value.value, bool):
            return None
    if isinstance(value, ColumnNames) and value.cols.kind == COLUMNS:
        return list(value.cols.names)
    return None


def _masked(cols: ColumnSet, mask: Instance) -> ColumnSet:
    """The columns a ``df.columns != name`` (drop) or ``== name`` (keep) mask selects."""
    if "keep" in mask.attrs:
        return cols.select([mask.attrs["keep"]])
    return cols.drop([mask.attrs["drop"]])


def _is_full_slice(node) -> bool:
    return isinstance(node, ast.Slice) and node.lower is None and node.upper is None and node.step is None


def _is_int_index(node) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, int)


class FrameMixin:
    """Operations on Data values (the interpreter mixes this in)."""

    # -- attributes -------------------------------------------------------------------------------
    def frame_attribute(self, data: Data, attr: str, node) -> Value:
        role = self.kb.frame_attributes.get(attr)
        if attr in ACCESSORS:
            return evolve(data, accessor=True)
        if attr in ("values", "array"):
            return replace(data, array=True)
        if role == "rows":
            return data
        if role == "columns":
            return ColumnNames(data.cols, data.deps)
        if role in ("loc", "iloc"):
            return Bound(data, attr, self.text(node.value), data.deps)
        if role == "unknown_columns":
            return data.with_cols(ColumnSet.unknown(f"{attr} of the data"))
        if attr in SERIES_ONLY and not data.series:  # df.name is the column "name"; s.name is not
            return data.with_cols(data.cols.select([attr]), series=True)
        if role == "opaque" or attr.startswith("_") or attr in self.kb.frame_methods:
            return Unknown(node=node, deps=data.deps)
        if data.series:  # df.date.dt.month, s.str.len: a property of the same column
            return data
        return data.with_cols(data.cols.select([attr]), series=True)  # df.Age

    # -- subscripts -------------------------------------------------------------------------------
    def frame_subscript(self, data: Data, key: Value, node: ast.Subscript, indexer: str | None) -> Value:
        deps = data.deps | key.deps
        slice_node = node.slice
        if indexer == "iloc":
            if isinstance(slice_node, ast.Tuple) and len(slice_node.elts) == 2:
                cols_node = slice_node.elts[1]
                if _is_full_slice(cols_node):
                    return with_deps(data, deps)
                mask = key.items[1] if isinstance(key, Seq) and len(key.items) == 2 else None
                if isinstance(mask, Instance) and mask.kind == "column_mask":  # iloc[:, df.columns != "y"]
                    return self.select_columns(data, mask, cols_node, node, deps)
                return data.with_cols(data.cols.positional_within(self.text(node)), series=_is_int_index(cols_node),
                                      deps=deps)
            return with_deps(data, deps)
        if indexer == "loc":
            if isinstance(slice_node, ast.Tuple) and len(slice_node.elts) == 2:
                cols_node = slice_node.elts[1]
                if _is_full_slice(cols_node):
                    return with_deps(data, deps)
                cols_key = key.items[1] if isinstance(key, Seq) else self.ev(cols_node)
                if isinstance(cols_key, Const) and isinstance(cols_key.value, tuple):
                    cols_key = Const(list(cols_key.value))
                if isinstance(key, Const) and isinstance(key.value, tuple):
                    cols_key = Const(key.value[1])
                return self.select_columns(data, cols_key, cols_node, node, deps)
            return with_deps(data, deps)
        # plain [] on a DataFrame/Series/array
        if data.accessor:  # s.str[0]: a part of each value of the same column
            return Data(data.sources, data.cols, data.series, deps, data.array, data.preds)
        if (data.array or data.series) and not isinstance(slice_node, ast.Tuple):
            return with_deps(data, deps)  # X[idx], s[0], s[mask]: rows of an array, tensor or Series
        if isinstance(slice_node, ast.Tuple):
            elts = slice_node.elts
            if len(elts) == 2 and _is_full_slice(elts[1]):
                return with_deps(data, deps)
            if len(elts) >= 2:
                return data.with_cols(data.cols.positional_within(self.text(node)), series=_is_int_index(elts[1]),
                                      deps=deps)
        return self.select_columns(data, key, slice_node, node, deps)

    def select_columns(self, data: Data, key: Value, key_node, node, deps) -> Value:
        if isinstance(key, Const) and isinstance(key.value, slice) and \
                any(isinstance(b, str) for b in (key.value.start, key.value.stop)):  # df.loc[:, "a":"d"]
            return data.with_cols(ColumnSet.positional(self.text(node)), deps=deps)
        if isinstance(key, Const) and isinstance(key.value, str):
            return data.with_cols(data.cols.select([key.value]), series=True, deps=deps)
        names = _names(key)
        if names is not None:
            return data.with_cols(data.cols.select(names), series=False, deps=deps)
        if isinstance(key, ColumnNames):
            cols = key.cols
            if cols.kind == "positional":
                cols = ColumnSet.positional(self.text(node))
            return data.with_cols(cols, series=False, deps=deps)
        if isinstance(key, Instance) and key.kind == "column_mask":
            return data.with_cols(_masked(key.attrs["of"].cols, key), series=False, deps=deps)
        if isinstance(key, (Data, Pred)) or isinstance(key_node, ast.Compare) or \
                (isinstance(key, Instance) and key.kind == "rows"):
            return with_deps(data, deps)  # boolean mask or row indices: rows only
        if isinstance(key, Const) and isinstance(key.value, slice):
            return with_deps(data, deps)
        if isinstance(key_node, ast.Slice):
            if key_node.lower is None and key_node.upper is None:
                return with_deps(data, deps)
            lower = key_node.lower
            if isinstance(lower, ast.Constant) and isinstance(lower.value, str):  # df.loc[:, "a":"d"]
                return data.with_cols(ColumnSet.positional(self.text(node)), deps=deps)
            return with_deps(data, deps)
        if isinstance(key, Const) and isinstance(key.value, int):
            return data.with_cols(ColumnSet.positional(self.text(node)), series=True, deps=deps)
        return data.with_cols(ColumnSet.unknown(f"columns chosen by {self.text(key_node)}"), deps=deps)

    def columns_subscript(self, names: ColumnNames, key: Value, node) -> Value:
        if isinstance(key, Instance) and key.kind == "column_mask":
            return ColumnNames(_masked(names.cols, key), names.deps)
        if isinstance(key, Const) and isinstance(key.value, int) and names.cols.kind == COLUMNS:
            try:
                return Const(names.cols.names[key.value], names.deps)
            except IndexError:
                return Unknown(node=node, deps=names.deps)
        if isinstance(key, Const) and isinstance(key.value, slice) and names.cols.kind == COLUMNS:
            return ColumnNames(ColumnSet.of(names.cols.names[key.value]), names.deps)
        return ColumnNames(ColumnSet.positional(self.text(node)), names.deps | key.deps)

    # -- writes -------------------------------------------------------------------------------------
    def origins_of(self, value: Value) -> list[str]:
        """Source columns a new column made from ``value`` derives from.

        For predictions of a model (``df["score"] = -iso.score_samples(df[cols])``) those of the model's
        input, or when the input does not name them, of the data the model was trained on.
        """
        if isinstance(value, Data):
            return value.cols.origin_names()
        if isinstance(value, Pred):
            if isinstance(value.inputs, Data) and value.inputs.cols.origin_names():
                return value.inputs.cols.origin_names()
            names = []
            for mid in sorted(value.models):
                rec = self.store.models.get(mid)
                features = rec["training_data"]["features"] if rec else {}
                names.extend(features.get("columns", ()))
            return list(dict.fromkeys(names))
        return []

    @staticmethod
    def sources_of(value: Value) -> frozenset:
        if isinstance(value, Data):
            return value.sources
        if isinstance(value, Pred) and isinstance(value.inputs, Data):
            return value.inputs.sources
        return frozenset()

    def set_column(self, frame_node, data: Data, key: Value, value: Value, stmt, slice_node=None) -> None:
        """``df["new"] = expr``: the frame gains a column derived from ``expr``'s columns."""
        from_cols = self.origins_of(value)
        sources = data.sources | self.sources_of(value)
        names = _names(key)
        cols = data.cols
        if names is not None and not (isinstance(key, Const) and isinstance(key.value, int)):
            pairwise = isinstance(value, Data) and value.cols.known and len(value.cols.names) == len(names) > 1
            for i, name in enumerate(names):  # df[["a", "b"]] = df[["a", "b"]].fillna(0): column by column
                cols = cols.add(name, value.cols.origins(value.cols.names[i]) if pairwise else from_cols)
        preds = data.preds
        if isinstance(value, Pred) and names:  # df["score"] = model.predict(...): the column holds predictions
            preds = preds + tuple((name, value.models) for name in names)
        new = Data(sources, cols, data.series, data.deps | value.deps, data.array, preds)
        self.rebind(frame_node, new, stmt)

    # -- arithmetic -----------------------------------------------------------------------------------
    def data_arith(self, datas, deps) -> Data:
        sources = frozenset().union(*(d.sources for d in datas))
        if len(datas) == 1:
            return Data(sources, datas[0].cols, datas[0].series, deps)
        cols = datas[0].cols
        if all(d.cols.kind == COLUMNS for d in datas):
            cols = ColumnSet.of([n for d in datas for n in d.cols.names])
        return Data(sources, cols, all(d.series for d in datas), deps)

    def column_arith(self, op, left: Value, right: Value):
        """``num_cols + cat_cols``, ``set(df.columns) - {"y"}`` on column-name lists."""
        lnames = left.cols if isinstance(left, ColumnNames) else None
        if isinstance(op, ast.Sub) and lnames is not None:
            names = _names(right)
            if names is not None:
                return ColumnNames(lnames.drop(names))
        if isinstance(op, ast.Add) and (isinstance(left, ColumnNames) or isinstance(right, ColumnNames)):
            lc = left.cols if isinstance(left, ColumnNames) else (ColumnSet.of(_names(left)) if _names(left) is not None else None)
            rc = right.cols if isinstance(right, ColumnNames) else (ColumnSet.of(_names(right)) if _names(right) is not None else None)
            if lc is not None and rc is not None:
                return ColumnNames(lc.union(rc))
        return None

    def column_comprehension(self, node, gen, iterable: Value):
        """``[c for c in df.columns if c not in ["id", "y"]]`` -> all columns except id, y."""
        if not isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            return None
        if not isinstance(iterable, ColumnNames) or not isinstance(node, (ast.ListComp, ast.GeneratorExp)):
            if not (isinstance(iterable, Const) and isinstance(iterable.value, list)
                    and all(isinstance(v, str) for v in iterable.value) and gen.ifs):
                return None
            iterable = ColumnNames(ColumnSet.of(iterable.value), iterable.deps)
        if not (isinstance(gen.target, ast.Name) and isinstance(node.elt, ast.Name) and node.elt.id == gen.target.id):
            return None
        cols = iterable.cols
        conditions = []
        for cond in gen.ifs:  # `if c != "id" and c != "y"` is two conditions
            conditions.extend(cond.values if isinstance(cond, ast.BoolOp) and isinstance(cond.op, ast.And) else [cond])
        for cond in conditions:
            if isinstance(cond, ast.Compare) and len(cond.ops) == 1 and isinstance(cond.left, ast.Name) \
                    and cond.left.id == gen.target.id:
                other = self.ev(cond.comparators[0])
                names = _names(other)
                if isinstance(cond.ops[0], (ast.NotIn, ast.NotEq)) and names is not None:
                    cols = cols.drop(names)
                    continue
                if isinstance(cond.ops[0], (ast.In, ast.Eq)) and names is not None:
                    if cols.kind == COLUMNS:
                        cols = ColumnSet.of([c for c in cols.names if c in names])
                    else:
                        cols = ColumnSet.of(names)
                    continue
            return ColumnNames(ColumnSet.unknown(f"columns filtered by {self.text(cond)}"), iterable.deps)
        if isinstance(iterable, ColumnNames) and cols.kind == ALL_EXCEPT and iterable.cols.kind == COLUMNS:
            cols = iterable.cols.drop(cols.names)
        return ColumnNames(cols, iterable.deps)

    def merge_preds(self, preds, deps) -> Pred:
        """Predictions of several models together (a blend, a stack): the inputs they were made from too."""
        models = frozenset().union(*(p.models for p in preds))
        inputs = [p.inputs for p in preds]
        if not all(isinstance(i, Data) for i in inputs):
            return Pred(models, deps)
        if len(inputs) == 1 or all(i is inputs[0] for i in inputs):
            return Pred(models, deps, inputs[0])
        return Pred(models, deps, self.combine_values(inputs, axis=1))

    def combine_values(self, values, axis=1, deps=frozenset()) -> Value:
        """Side by side (hstack, concat axis=1) or stacked rows (vstack, concat axis=0)."""
        datas = [v for v in values if isinstance(v, Data)]
        deps = frozenset(deps).union(*(v.deps for v in values))
        if not datas:
            preds = [v for v in values if isinstance(v, Pred)]
            if preds:
                return self.merge_preds(preds, deps)
            return Unknown("combined values", deps)
        sources = frozenset().union(*(d.sources for d in datas))
        if axis in AXIS_COLUMNS:
            cols = datas[0].cols
            for other in datas[1:]:
                cols = cols.union(other.cols)
            if len(datas) < len(values):
                cols = ColumnSet.unknown("columns combined with values not from a data source")
        else:  # rows stacked (train and test): the columns of the first
            cols = datas[0].cols
        return Data(sources, cols, False, deps)

    def bunch_attribute(self, bunch: Instance, attr: str, node) -> Value:
        """``load_iris().data`` / ``.target`` / ``.frame``."""
        source = bunch.attrs.get("_source")
        sources = frozenset([source]) if source else frozenset()
        if attr in ("data", "images"):
            return Data(sources, ColumnSet(ALL_EXCEPT, ("target",)), False, bunch.deps)
        if attr == "frame":
            return Data(sources, ColumnSet.all(), False, bunch.deps)
        if attr == "target":
            return Data(sources, ColumnSet.of(["target"]), True, bunch.deps)
        return Unknown(node=node, deps=bunch.deps)
