"""Control flow: loops unrolled over the items the code determines, and if/else branches.

A loop over a known list of models, frames or functions runs its body once per item (so a fit in
``for name, model in models.items()`` is one model entry per element); other loops run once with an
abstract element.  An ``if`` whose test is not determined runs both branches and merges what they
bind (a model chosen in either branch becomes a Choice of both).
"""

from __future__ import annotations

import ast

from .scope import Binding, Loop
from .values import (
    Choice,
    ColumnNames,
    Const,
    Data,
    Function,
    Instance,
    Klass,
    Model,
    Pred,
    Ref,
    Seq,
    TrainSet,
    Unknown,
    Value,
    evolve,
    seq_items,
    with_deps,
)

MAX_UNROLL = 24


class ControlFlowMixin:
    """``if``/``while``/``for`` statements and loop iteration (the interpreter mixes this in)."""

    def stmt_If(self, stmt) -> bool:
        test = self.ev(stmt.test)
        if isinstance(test, Const) and not isinstance(test.value, (list, dict)):
            return self.exec_block(stmt.body if test.value else stmt.orelse)
        if not stmt.orelse:
            self.exec_block(stmt.body)
            return False
        scope = self.scope
        before = dict(scope.vars)
        body_ends = self.exec_block(stmt.body)
        after_body, scope.vars = scope.vars, dict(before)
        else_ends = self.exec_block(stmt.orelse)
        if body_ends != else_ends:  # only the branch that goes on reaches what follows
            if else_ends:
                scope.vars = after_body
            return False
        scope.vars = self.merge_branches(before, after_body, scope.vars)
        return body_ends

    @staticmethod
    def merge_branches(before: dict, body: dict, orelse: dict) -> dict:
        """Bindings after ``if/else`` with an undetermined test.  A name bound to a model in each branch
        holds either (a Choice, so a later fit trains both); otherwise the else branch's binding wins,
        and a name only the body binds keeps the body's, as when the branches ran one after the other."""
        merged = dict(orelse)
        for name, binding in body.items():
            other = orelse.get(name)
            previous = before.get(name)
            if other is None or other is previous:
                if binding is not previous:
                    merged[name] = binding
                continue
            if binding is other:
                continue
            choice = Choice.of(binding.value, other.value)
            if isinstance(choice, Choice):
                merged[name] = Binding(choice, other.node)
            elif isinstance(binding.value, Data) and isinstance(other.value, Data) and \
                    binding.value.cols == other.value.cols and binding.value.sources != other.value.sources:
                # if cached: df = read_parquet(a) else: df = read_csv(b): rows from either source
                merged[name] = Binding(evolve(other.value, sources=other.value.sources | binding.value.sources),
                                       other.node)
        return merged

    def stmt_While(self, stmt) -> None:
        self.ev(stmt.test)
        self.loops.append(Loop(target="", line=stmt.lineno))
        try:
            self.exec_block(stmt.body)
        finally:
            self.loops.pop()
        self.exec_block(stmt.orelse)

    def stmt_For(self, stmt) -> None:
        iterable = self.ev(stmt.iter)
        loop = Loop(target=self.text(stmt.target), line=stmt.lineno)
        items = self.iteration(iterable, stmt.iter, loop)
        self.loops.append(loop)
        try:
            if items is not None and self._unroll_depth < 2 and len(items) <= MAX_UNROLL:
                self._unroll_depth += 1
                try:
                    for item in items:
                        alias = self.alias_of(item)
                        if alias:  # the variable's current version (mutated by an earlier loop)
                            item = self.scope.lookup(alias).value
                        self.assign(stmt.target, item, stmt)
                        self.mutated.clear()
                        self.exec_block(stmt.body)
                        target = stmt.target.id if isinstance(stmt.target, ast.Name) else None
                        if alias and target in self.mutated:  # for df in [train, test]: df["x"] = ...
                            found = self.scope.lookup(target)
                            if found is not None:
                                saved, self._rebinding = self._rebinding, True
                                try:
                                    self.bind_name(alias, found.value, stmt)
                                finally:
                                    self._rebinding = saved
                finally:
                    self._unroll_depth -= 1
            else:
                element = self.element_of(iterable, stmt.iter)
                self.assign(stmt.target, element, stmt)
                self.exec_block(stmt.body)
        finally:
            self.loops.pop()
        self.exec_block(stmt.orelse)

    stmt_AsyncFor = stmt_For

    # -- iteration --------------------------------------------------------------------------------
    def iteration(self, iterable: Value, node, loop: Loop | None = None):
        """Items to unroll a loop over (lists of models, estimator classes, functions), else None."""
        if isinstance(iterable, Instance) and iterable.kind == "range" and loop is not None:
            loop.count = iterable.attrs.get("count")
        batches = iterable
        while isinstance(batches, Instance) and batches.kind == "enumerate":  # enumerate(loader, 0)
            batches = batches.attrs["of"]
        if isinstance(batches, TrainSet) and loop is not None:
            loop.batches = batches
        items = seq_items(iterable)
        if items is None:
            return None
        worth = (Model, Instance, Klass, Function, Ref, Seq, Data)
        if isinstance(iterable, Seq) and iterable.kind == "dict" and any(isinstance(v, worth) for v in iterable.items):
            return items  # for name in models: models[name].fit(...)
        if any(isinstance(i, worth) for i in items):
            return items
        return None

    def alias_of(self, item: Value) -> str | None:
        """The variable a list item still is (``combine = [train, test]``), so mutations reach it."""
        if not isinstance(item, Data) or len(item.deps) != 1:
            return None
        (node,) = item.deps
        for _ in range(10_000):  # follow in-place mutations to the latest version of the object
            if node not in self.successors:
                break
            node = self.successors[node]
        name = self.store.graph.nodes[node].get("label") if node in self.store.graph else None
        found = self.scope.lookup(name) if name else None
        return name if found is not None and found.node == node else None

    def element_of(self, iterable: Value, node) -> Value:
        """What a loop variable holds when the loop is analysed once."""
        if isinstance(iterable, Pred):  # [round(p) for p in probs]: each item is a prediction
            return iterable
        if isinstance(iterable, TrainSet):
            if iterable.parts is not None:  # for cat, cont, yb in loader / batch["x"]
                return with_deps(iterable.parts, iterable.deps)
            return Seq((iterable.features or Unknown(), iterable.label or Unknown()), "tuple", deps=iterable.deps)
        if isinstance(iterable, Instance) and iterable.kind == "folds":
            rows = Instance("rows", attrs={}, deps=iterable.deps)
            return Seq((rows, rows), "tuple")
        if isinstance(iterable, Instance) and iterable.kind == "enumerate":
            inner = iterable.attrs["of"]
            return Seq((Unknown("index"), self.element_of(inner, node)), "tuple")
        if isinstance(iterable, Instance) and iterable.kind == "zip":
            return Seq(tuple(self.element_of(v, node) for v in iterable.attrs["of"]), "tuple")
        if isinstance(iterable, ColumnNames):
            return Unknown("column name", iterable.deps)
        if isinstance(iterable, Instance) and iterable.kind == "params":
            return Seq((Unknown("name"), iterable), "tuple") if iterable.attrs.get("named") else iterable
        if isinstance(iterable, Data):
            return with_deps(Unknown("row"), iterable.deps)
        items = seq_items(iterable)
        if items:
            if all(isinstance(i, Const) for i in items):
                return Unknown(self.text(node) + " item", iterable.deps)
            return items[0]
        return Unknown("", iterable.deps)
