"""Assignment: names, tuple unpacking, subscript and attribute writes, and mutations.

A method that mutates its receiver (``inplace=True``, ``pop``, ``df[c] = ...``) rebinds the variable
to a new version; the mutation also reaches every other name for the same frame (``X = df``) and,
from inside a user function, the caller's variable the frame was passed as.
"""

from __future__ import annotations

import ast

from .columns import ColumnSet
from .values import (
    Bound,
    Const,
    Data,
    Instance,
    Metric,
    Model,
    Pred,
    Seq,
    Unknown,
    Value,
    const_of,
    evolve,
    seq_items,
    with_deps,
)


class AssignmentMixin:
    """Binding values to assignment targets (the interpreter mixes this in)."""

    def assign(self, target, value: Value, stmt) -> None:
        if isinstance(target, ast.Name):
            self.bind_name(target.id, value, stmt)
        elif isinstance(target, (ast.Tuple, ast.List)):
            self.unpack(target.elts, value, stmt)
        elif isinstance(target, ast.Starred):
            self.assign(target.value, value, stmt)
        elif isinstance(target, ast.Subscript):
            self.assign_subscript(target, value, stmt)
        elif isinstance(target, ast.Attribute):
            base = self.ev(target.value)
            if isinstance(base, Instance):
                base.attrs[target.attr] = value
            elif isinstance(base, Data) and target.attr == "columns":
                names = value.value if isinstance(value, Const) else None
                cols = base.cols
                if isinstance(names, (list, tuple)) and cols.known and len(names) == len(cols.names):
                    cols = cols.rename(dict(zip(cols.names, names, strict=False)))
                elif isinstance(names, (list, tuple)) and cols.kind == "all_except" and not cols.names:
                    cols = ColumnSet.of(names)
                self.rebind(target.value, base.with_cols(cols), stmt)

    def unpack(self, elts, value: Value, stmt) -> None:
        items = seq_items(value) if not (isinstance(value, Const) and isinstance(value.value, str)) else None
        if isinstance(value, Seq) and value.kind == "dict":
            items = list(value.keys)
        if items is not None and len(items) == len(elts) and not any(isinstance(e, ast.Starred) for e in elts):
            for elt, item in zip(elts, items, strict=False):
                self.assign(elt, with_deps(item, value.deps), stmt)
            return
        for i, elt in enumerate(elts):
            if isinstance(value, (Data, Pred)):
                item = value
                if isinstance(value, Data):
                    item = value.with_cols(ColumnSet.unknown(f"item {i} of {self.text(stmt)}"))
            elif isinstance(value, Metric):
                item = value
            else:
                item = Unknown("", value.deps)
            self.assign(elt, item, stmt)

    def bind_name(self, name: str, value: Value, stmt) -> None:
        if not self._rebinding:
            if self.scope.aliases:
                self.scope.unalias(name)
            if self.scope.param_callers:  # d = d.copy(): no longer the caller's frame
                self.scope.param_callers.pop(name, None)
        node = self.store.add_var(name, self.pos(stmt), value.deps)
        if self._rebinding:  # the same object in a new version: lists holding the old one still hold it
            previous = self.scope.lookup(name)
            if previous is not None and previous.node is not None and previous.node != node:
                self.successors[previous.node] = node
        if isinstance(value, Model):
            self.name_model(value.id, name)
        if isinstance(value, Instance):
            self.scope.bind(name, value, node)
            return
        self.scope.bind(name, evolve(value, deps=frozenset((node,))), node)

    def rebind(self, target, value: Value, stmt) -> None:
        """A method mutated its receiver (``inplace=True``, ``pop``, ``df[c] = ...``): new version."""
        if isinstance(target, ast.Name):
            self.mutated.add(target.id)
            if target.id in self.scope.param_callers:
                self.scope.mutated_params.add(target.id)
        if isinstance(target, (ast.Name, ast.Attribute, ast.Subscript)):
            saved, self._rebinding = self._rebinding, True
            try:
                self.assign(target, value, stmt)
                if isinstance(target, ast.Name):  # df2["x"] = ... after df2 = df: df has the column too
                    for other in self.scope.aliases_of(target.id):
                        self.bind_name(other, value, stmt)
            finally:
                self._rebinding = saved

    def assign_subscript(self, target: ast.Subscript, value: Value, stmt) -> None:
        base = self.ev(target.value)
        key = self.ev(target.slice)
        if isinstance(value, Pred) and not isinstance(base, Data):  # oof[val_idx] = model.predict(...)
            models = value.models | (base.models if isinstance(base, Pred) else frozenset())
            self.rebind(target.value, Pred(models, base.deps | value.deps), stmt)
            return
        if isinstance(value, Metric) and not isinstance(base, (Data, Instance)) and not isinstance(key, Const):
            self.rebind(target.value, with_deps(value, base.deps), stmt)  # fpr[i], tpr[i], _ = roc_curve(...)
            return
        if isinstance(base, Bound) and isinstance(base.receiver, Data) and base.attr == "loc" \
                and isinstance(target.slice, ast.Tuple) and len(target.slice.elts) == 2:
            rows = self.ev(target.slice.elts[0])  # df.loc[df.size == 1, "alone"] = 1: made from the mask's columns
            column = self.ev(target.slice.elts[1])
            frame_node = target.value.value if isinstance(target.value, ast.Attribute) else target.value
            if isinstance(rows, Data) and rows.cols.known and not isinstance(value, Data):
                value = rows.with_cols(rows.cols, deps=rows.deps | value.deps)
            self.set_column(frame_node, base.receiver, column, value, stmt)
            return
        if isinstance(base, Data):
            self.set_column(target.value, base, key, value, stmt, slice_node=target.slice)
        elif isinstance(base, Const) and isinstance(base.value, dict) and isinstance(key, Const):
            if isinstance(value, Const):
                new = dict(base.value)
                try:
                    new[key.value] = value.value
                except TypeError:
                    return
                self.rebind(target.value, Const(new), stmt)
            else:
                keys = [Const(k) for k in base.value] + [key]
                items = [Const(v) for v in base.value.values()] + [value]
                self.rebind(target.value, Seq(tuple(items), "dict", tuple(keys)), stmt)
        elif isinstance(base, Seq) and base.kind == "dict" and isinstance(key, Const):
            keys, items = list(base.keys), list(base.items)
            keys.append(key)
            items.append(value)
            self.rebind(target.value, Seq(tuple(items), "dict", tuple(keys)), stmt)
        elif isinstance(base, Instance):
            base.attrs[str(const_of(key, self.text(target.slice)))] = value
