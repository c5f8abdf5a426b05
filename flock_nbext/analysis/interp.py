"""The analyzer: an abstract interpreter over one module or cell AST.

It walks statements in order, evaluates every expression to an abstract value (values.py),
keeps bindings in scopes, records data sources, models and metrics in the LineageStore, and
notes the call sites the kernel may instrument.  Calls are dispatched by knowledge-base role
(calls.py), DataFrame operations live in frames.py, model methods in models.py.
"""

from __future__ import annotations

import ast

from .calls import CallMixin
from .columns import ColumnSet
from .exprs import ExpressionMixin
from .frames import FrameMixin
from .kb import KnowledgeBase
from .literals import LiteralMixin
from .models import ModelMixin
from .records import LineageStore
from .roles import RoleMixin
from .scope import Binding, Frame, Loop, Scope
from .training import TrainingMixin
from .values import (
    Bound,
    Choice,
    ColumnNames,
    Const,
    Data,
    Function,
    Instance,
    Klass,
    Metric,
    Model,
    Pred,
    Ref,
    Seq,
    TrainSet,
    Unknown,
    Value,
    const_of,
    evolve,
    seq_items,
    with_deps,
)

MAX_UNROLL = 24
INLINE_BUDGET = 2000  # user-function bodies analysed per top-level statement


class Interpreter(ExpressionMixin, CallMixin, LiteralMixin, RoleMixin, FrameMixin, ModelMixin, TrainingMixin):
    """Analyse cells one after the other against shared state (scope, store)."""

    def __init__(self, kb: KnowledgeBase, store: LineageStore) -> None:
        self.kb = kb
        self.store = store
        self.scope = Scope()
        self.frames: list[Frame] = []
        self.loops: list[Loop] = []
        self.sites: list = []
        self.site_keys: set = set()
        self.cell_key = None
        self.assign_target: str | None = None
        self.assign_value = None
        self.stmt_line = 0
        self.functions_called: set[int] = set()
        self.functions_defined: list[Function] = []
        self._unroll_depth = 0
        self.mutated: set[str] = set()
        self._rebinding = False  # a mutation is being written: the name keeps its aliases
        self.saved_models: dict = {}  # path -> model the code saved there (joblib.dump, model.save)
        self.errors: list[tuple] = []
        self.inline_budget = INLINE_BUDGET  # (cell, line, error) of statements the analyzer failed on

    # -- entry point ----------------------------------------------------------------------------
    def run(self, tree: ast.Module, cell_key) -> None:
        self.cell_key = cell_key
        self.sites = []
        self.site_keys: set = set()
        self.loops = []
        for stmt in tree.body:
            self.frames = [Frame(cell=cell_key, own_cell=True)]
            self.loops = []
            self.inline_budget = INLINE_BUDGET
            try:
                self.exec_stmt(stmt)
            except RecursionError:
                raise
            except Exception as exc:  # an analyzer bug costs one statement, not the cell
                self.errors.append((cell_key, getattr(stmt, "lineno", 0), f"{type(exc).__name__}: {exc}"))
        self.frames = [Frame(cell=cell_key, own_cell=True)]

    @property
    def frame(self) -> Frame:
        return self.frames[-1]

    def pos(self, node) -> tuple:
        """Where an item is reported: inside a user function, the top-level call of that function."""
        for frame in self.frames:
            if frame.call_pos is not None:
                return frame.call_pos
        return (self.frame.cell, getattr(node, "lineno", self.stmt_line))

    def text(self, node) -> str:
        if isinstance(node, ast.Name):  # the common cases, without unparse
            return node.id
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return f"{node.value.id}.{node.attr}"
        try:
            return ast.unparse(node)
        except Exception:  # unparse of odd nodes from other tools
            return "<expr>"

    # -- statements -----------------------------------------------------------------------------
    def exec_block(self, body) -> None:
        for stmt in body:
            self.exec_stmt(stmt)

    def exec_stmt(self, stmt) -> None:
        self.stmt_line = getattr(stmt, "lineno", self.stmt_line)
        handler = getattr(self, "stmt_" + type(stmt).__name__, None)
        self.assign_target = None
        self.assign_value = None
        if handler is not None:
            handler(stmt)
        else:
            for child in ast.iter_child_nodes(stmt):
                if isinstance(child, ast.expr):
                    self.ev(child)

    def stmt_Expr(self, stmt) -> None:
        self.ev(stmt.value)

    def stmt_Assign(self, stmt) -> None:
        if len(stmt.targets) == 1:
            self.assign_target = self.text(stmt.targets[0])
            self.assign_value = stmt.value
        value = self.ev(stmt.value)
        self.assign_target = self.assign_value = None
        for target in stmt.targets:
            self.assign(target, value, stmt)
            if isinstance(target, ast.Name) and isinstance(stmt.value, ast.Name) and isinstance(value, Data):
                self.scope.alias(target.id, stmt.value.id)  # X = df: the same frame under two names

    def stmt_AnnAssign(self, stmt) -> None:
        if stmt.value is not None:
            self.assign_target = self.text(stmt.target)
            self.assign_value = stmt.value
            value = self.ev(stmt.value)
            self.assign_target = self.assign_value = None
            self.assign(stmt.target, value, stmt)

    def stmt_AugAssign(self, stmt) -> None:
        current = self.ev(stmt.target)
        value = self.binop(stmt.op, current, self.ev(stmt.value), stmt)
        self.assign(stmt.target, value, stmt)

    def stmt_Import(self, stmt) -> None:
        for alias in stmt.names:
            if alias.asname:
                self.scope.bind(alias.asname, Ref(alias.name), None)
            else:
                top = alias.name.split(".", 1)[0]
                self.scope.bind(top, Ref(top), None)

    def stmt_ImportFrom(self, stmt) -> None:
        module = ("." * stmt.level) + (stmt.module or "")
        for alias in stmt.names:
            if alias.name == "*":
                self.scope.star_imports.append(module)
            else:
                self.scope.bind(alias.asname or alias.name, Ref(f"{module}.{alias.name}"), None)

    def stmt_FunctionDef(self, stmt) -> None:
        func = Function(stmt, self.scope, self.frame.cell)
        self.functions_defined.append(func)
        self.scope.bind(stmt.name, func, None)

    stmt_AsyncFunctionDef = stmt_FunctionDef

    def stmt_ClassDef(self, stmt) -> None:
        bases = []
        for base in stmt.bases:
            value = self.ev(base)
            if isinstance(value, Ref):
                bases.append(self.kb.canonical(value.qualname))
            elif isinstance(value, Klass):
                bases.extend(value.bases)
        klass = Klass(stmt, self.scope, tuple(bases), self.frame.cell)
        body_scope = Scope(self.scope)
        saved = self.scope
        self.scope = body_scope
        try:
            for item in stmt.body:  # class-level constants only; methods are analysed when called
                if isinstance(item, (ast.Assign, ast.AnnAssign)):
                    self.exec_stmt(item)
        finally:
            self.scope = saved
        klass.attrs.update({k: b.value for k, b in body_scope.vars.items()})
        self.scope.bind(stmt.name, klass, None)

    def stmt_Return(self, stmt) -> None:
        value = self.ev(stmt.value) if stmt.value is not None else Const(None)
        self.frame.returns.append(value)

    def stmt_If(self, stmt) -> None:
        test = self.ev(stmt.test)
        if isinstance(test, Const) and not isinstance(test.value, (list, dict)):
            self.exec_block(stmt.body if test.value else stmt.orelse)
            return
        if not stmt.orelse:
            self.exec_block(stmt.body)
            return
        scope = self.scope
        before = dict(scope.vars)
        self.exec_block(stmt.body)
        after_body, scope.vars = scope.vars, dict(before)
        self.exec_block(stmt.orelse)
        scope.vars = self.merge_branches(before, after_body, scope.vars)

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
        return merged

    def stmt_While(self, stmt) -> None:
        self.ev(stmt.test)
        self.loops.append(Loop(target="", line=stmt.lineno))
        try:
            self.exec_block(stmt.body)
        finally:
            self.loops.pop()
        self.exec_block(stmt.orelse)

    def stmt_With(self, stmt) -> None:
        for item in stmt.items:
            value = self.ev(item.context_expr)
            if item.optional_vars is not None:
                if isinstance(value, Instance) and value.kind == "file":
                    value = value
                self.assign(item.optional_vars, value, stmt)
        self.exec_block(stmt.body)

    stmt_AsyncWith = stmt_With

    def stmt_Try(self, stmt) -> None:
        # handlers first: what the body binds (``import lightgbm as lgb``) wins over the fallback
        # (``except ImportError: lgb = None``), the path the code is written for
        for handler in stmt.handlers:
            self.exec_block(handler.body)
        self.exec_block(stmt.body)
        self.exec_block(stmt.orelse)
        self.exec_block(stmt.finalbody)

    stmt_TryStar = stmt_Try

    def stmt_Global(self, stmt) -> None:
        self.scope.globals_declared.update(stmt.names)

    def stmt_Delete(self, stmt) -> None:
        for target in stmt.targets:
            if isinstance(target, ast.Subscript):
                base = self.ev(target.value)
                key = self.ev(target.slice)
                if isinstance(base, Data) and isinstance(key, Const):
                    names = key.value if isinstance(key.value, (list, tuple)) else [key.value]
                    self.rebind(target.value, base.with_cols(base.cols.drop(names)), stmt)

    def stmt_Match(self, stmt) -> None:
        self.ev(stmt.subject)
        for case in stmt.cases:
            self.exec_block(case.body)

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
                        self.assign(stmt.target, item, stmt)
                        self.mutated.clear()
                        self.exec_block(stmt.body)
                        target = stmt.target.id if isinstance(stmt.target, ast.Name) else None
                        if alias and target in self.mutated:  # for df in [train, test]: df["x"] = ...
                            found = self.scope.lookup(target)
                            if found is not None:
                                self.bind_name(alias, found.value, stmt)
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
        if isinstance(iterable, TrainSet) and loop is not None:
            loop.batches = iterable
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
        name = self.store.graph.nodes[node].get("label") if node in self.store.graph else None
        found = self.scope.lookup(name) if name else None
        return name if found is not None and found.node == node else None

    def element_of(self, iterable: Value, node) -> Value:
        """What a loop variable holds when the loop is analysed once."""
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

    # -- assignment -------------------------------------------------------------------------------
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
