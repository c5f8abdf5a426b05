"""The analyzer: an abstract interpreter over one module or cell AST.

It walks statements in order, evaluates every expression to an abstract value (values.py),
keeps bindings in scopes, records data sources, models and metrics in the LineageStore, and
notes the call sites the kernel may instrument.  Calls are dispatched by knowledge-base role
(calls.py), DataFrame operations live in frames.py, model methods in models.py.
"""

from __future__ import annotations

import ast
import operator
import posixpath
from dataclasses import replace

from .calls import CallMixin
from .columns import ColumnSet
from .frames import FrameMixin
from .kb import KnowledgeBase
from .models import ModelMixin
from .records import LineageStore
from .roles import RoleMixin
from .training import TrainingMixin
from .scope import BUILTIN_NAMES, Frame, Loop, Scope
from .values import (Bound, ColumnNames, Const, Data, Function, Instance, Klass, Metric, Model, Pred, Ref,
                     Seq, TrainSet, Unknown, Value, with_deps)

MAX_CALL_DEPTH = 8
MAX_UNROLL = 24
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_SAFE_CONST = (str, int, float, bool, type(None), bytes)
_PURE_BUILTINS = frozenset({"str", "int", "float", "round", "len", "abs", "min", "max", "bool", "range"})


def const_of(value: Value, default=None):
    return value.value if isinstance(value, Const) else default


def make_seq(items, kind="list", keys=None, deps=frozenset()) -> Value:
    """A literal: Const when every item is a constant, else Seq."""
    items = tuple(items)
    if all(isinstance(i, Const) for i in items) and (keys is None or all(isinstance(k, Const) for k in keys)):
        if kind == "dict":
            try:
                return Const({k.value: v.value for k, v in zip(keys, items)}, deps)
            except TypeError:
                pass
        else:
            py = [i.value for i in items]
            return Const(tuple(py) if kind == "tuple" else py, deps)
    return Seq(items, kind, tuple(keys) if keys is not None else None, deps)


def seq_items(value: Value):
    """Items of a list/tuple/dict value (dict: keys), or None when not known."""
    if isinstance(value, Seq):
        return list(value.keys) if value.kind == "dict" and value.keys is not None else list(value.items)
    if isinstance(value, Const) and isinstance(value.value, (list, tuple, dict, set)):
        return [Const(v) for v in value.value]
    return None


class Interpreter(CallMixin, RoleMixin, FrameMixin, ModelMixin, TrainingMixin):
    """Analyse cells one after the other against shared state (scope, store)."""

    def __init__(self, kb: KnowledgeBase, store: LineageStore) -> None:
        self.kb = kb
        self.store = store
        self.scope = Scope()
        self.frames: list[Frame] = []
        self.loops: list[Loop] = []
        self.sites: list = []
        self.cell_key = None
        self.assign_target: str | None = None
        self.assign_value = None
        self.stmt_line = 0
        self.functions_called: set[int] = set()
        self.functions_defined: list[Function] = []
        self._unroll_depth = 0
        self.mutated: set[str] = set()

    # -- entry point ----------------------------------------------------------------------------
    def run(self, tree: ast.Module, cell_key) -> None:
        self.cell_key = cell_key
        self.sites = []
        self.frames = [Frame(cell=cell_key, own_cell=True)]
        self.loops = []
        self.exec_block(tree.body)

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
        self.exec_block(stmt.body)
        self.exec_block(stmt.orelse)

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
        self.exec_block(stmt.body)
        for handler in stmt.handlers:
            self.exec_block(handler.body)
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
                    cols = cols.rename(dict(zip(cols.names, names)))
                elif isinstance(names, (list, tuple)) and cols.kind == "all_except" and not cols.names:
                    cols = ColumnSet.of(names)
                self.rebind(target.value, base.with_cols(cols), stmt)

    def unpack(self, elts, value: Value, stmt) -> None:
        items = seq_items(value) if not (isinstance(value, Const) and isinstance(value.value, str)) else None
        if isinstance(value, Seq) and value.kind == "dict":
            items = list(value.keys)
        if items is not None and len(items) == len(elts) and not any(isinstance(e, ast.Starred) for e in elts):
            for elt, item in zip(elts, items):
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
        node = self.store.add_var(name, self.pos(stmt), value.deps)
        if isinstance(value, Model):
            self.name_model(value.id, name)
        if isinstance(value, Instance):
            self.scope.bind(name, value, node)
            return
        self.scope.bind(name, with_deps(replace(value, deps=frozenset()), {node}), node)

    def rebind(self, target, value: Value, stmt) -> None:
        """A method mutated its receiver (``inplace=True``, ``pop``, ``df[c] = ...``): new version."""
        if isinstance(target, ast.Name):
            self.mutated.add(target.id)
        if isinstance(target, (ast.Name, ast.Attribute, ast.Subscript)):
            self.assign(target, value, stmt)

    def assign_subscript(self, target: ast.Subscript, value: Value, stmt) -> None:
        base = self.ev(target.value)
        key = self.ev(target.slice)
        if isinstance(value, Pred) and not isinstance(base, Data):  # oof[val_idx] = model.predict(...)
            models = value.models | (base.models if isinstance(base, Pred) else frozenset())
            self.rebind(target.value, Pred(models, base.deps | value.deps), stmt)
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

    # -- expressions ------------------------------------------------------------------------------
    def ev(self, node) -> Value:
        if node is None:
            return Const(None)
        handler = getattr(self, "ev_" + type(node).__name__, None)
        if handler is None:
            deps = set()
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    deps |= self.ev(child).deps
            return Unknown(node=node, deps=frozenset(deps))
        return handler(node)

    def ev_Constant(self, node) -> Value:
        return Const(node.value)

    def ev_Name(self, node) -> Value:
        found = self.scope.lookup(node.id)
        if found is not None:
            return found.value
        for module in self.scope.star_modules():
            qual = self.kb.names_under(module).get(node.id)
            if qual:
                return Ref(qual)
        if node.id in BUILTIN_NAMES:
            return Ref(f"builtins.{node.id}")
        return Unknown(node.id)

    def ev_Attribute(self, node) -> Value:
        base = self.ev(node.value)
        if isinstance(base, Ref):
            return Ref(f"{base.qualname}.{node.attr}")
        if isinstance(base, Data):
            return self.frame_attribute(base, node.attr, node)
        if isinstance(base, ColumnNames):
            if node.attr == "values":
                return base
            return Unknown(node=node, deps=base.deps)
        if isinstance(base, Model):
            return self.model_attribute(base, node.attr, node)
        if isinstance(base, Instance) and base.kind == "groupby" and not node.attr.startswith("_"):
            return self.groupby_subscript(base, Const(node.attr))
        if isinstance(base, Instance):
            if node.attr in base.attrs:
                return base.attrs[node.attr]
            if base.klass is not None and node.attr in base.klass.attrs:  # cfg.lr from class CFG
                return base.klass.attrs[node.attr]
            if base.kind == "bunch":
                return self.bunch_attribute(base, node.attr, node)
            return Bound(base, node.attr, self.text(node.value), base.deps)
        if isinstance(base, Klass):
            if node.attr in base.attrs:
                return base.attrs[node.attr]
            return Bound(base, node.attr, self.text(node.value))
        if isinstance(base, Pred):
            return base
        if isinstance(base, Metric):
            return base
        return Unknown(node=node, deps=base.deps)

    def ev_Subscript(self, node) -> Value:
        base = self.ev(node.value)
        key = self.ev(node.slice)
        deps = base.deps | key.deps
        if isinstance(base, Data):
            return self.frame_subscript(base, key, node, None)
        if isinstance(base, Bound) and isinstance(base.receiver, Data) and base.attr in ("loc", "iloc"):
            return self.frame_subscript(base.receiver, key, node, base.attr)
        if isinstance(base, ColumnNames):
            return self.columns_subscript(base, key, node)
        if isinstance(base, Pred):
            return with_deps(base, key.deps)
        if isinstance(base, Metric):
            return base
        if isinstance(base, Seq):
            index = const_of(key)
            if base.kind == "dict" and base.keys is not None:
                for k, v in zip(base.keys, base.items):
                    if isinstance(k, Const) and k.value == index:
                        return with_deps(v, deps)
            elif isinstance(index, int) and -len(base.items) <= index < len(base.items):
                return with_deps(base.items[index], deps)
            return Unknown(node=node, deps=deps)
        if isinstance(base, Const) and isinstance(key, Const):
            try:
                value = base.value[key.value]
            except Exception:  # any lookup error of a literal: not a constant after all
                return Unknown(node=node, deps=deps)
            return Const(value, deps)
        if isinstance(base, Const) and isinstance(key, Unknown) and isinstance(base.value, (list, tuple)):
            return Unknown(node=node, deps=deps)
        if isinstance(base, Instance) and base.kind == "groupby":
            return self.groupby_subscript(base, key)
        if isinstance(base, Instance) and isinstance(key, Const) and str(key.value) in base.attrs:
            return base.attrs[str(key.value)]
        if isinstance(base, Instance) and base.kind == "bunch":
            return self.bunch_attribute(base, str(const_of(key, "")), node)
        if isinstance(base, TrainSet):
            return base
        if isinstance(base, Ref) and base.qualname in ("numpy.c_", "numpy.r_"):
            return self.combine_values(seq_items(key) or [key], axis=1 if base.qualname.endswith("c_") else 0)
        return Unknown(node=node, deps=deps)

    def ev_Slice(self, node) -> Value:
        parts = [self.ev(p) for p in (node.lower, node.upper, node.step)]
        deps = frozenset().union(*(p.deps for p in parts))
        if all(isinstance(p, Const) for p in parts):
            return Const(slice(*(p.value for p in parts)), deps)
        return Unknown(node=node, deps=deps)

    def ev_Tuple(self, node) -> Value:
        items = [self.ev(e) for e in node.elts]
        return make_seq(self.flatten_starred(node.elts, items), "tuple")

    def ev_List(self, node) -> Value:
        items = [self.ev(e) for e in node.elts]
        return make_seq(self.flatten_starred(node.elts, items), "list")

    def ev_Set(self, node) -> Value:
        return make_seq([self.ev(e) for e in node.elts], "list")

    def flatten_starred(self, elts, items):
        out = []
        for elt, item in zip(elts, items):
            inner = seq_items(item) if isinstance(elt, ast.Starred) else None
            out.extend(inner if inner is not None else [item])
        return out

    def ev_Starred(self, node) -> Value:
        return self.ev(node.value)

    def ev_Dict(self, node) -> Value:
        keys, items = [], []
        for k, v in zip(node.keys, node.values):
            value = self.ev(v)
            if k is None:  # {**other}
                if isinstance(value, Const) and isinstance(value.value, dict):
                    for kk, vv in value.value.items():
                        keys.append(Const(kk))
                        items.append(Const(vv))
                elif isinstance(value, Seq) and value.kind == "dict":
                    keys.extend(value.keys)
                    items.extend(value.items)
                continue
            keys.append(self.ev(k))
            items.append(value)
        return make_seq(items, "dict", keys)

    def ev_JoinedStr(self, node) -> Value:
        parts, known, deps = [], True, set()
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
            elif isinstance(part, ast.FormattedValue):
                value = self.ev(part.value)
                deps |= value.deps
                if isinstance(value, Const) and part.format_spec is None and part.conversion in (-1, None):
                    parts.append(str(value.value))
                else:
                    known = False
                    parts.append("{" + self.text(part.value) + "}")
        text = "".join(parts)
        return Const(text, frozenset(deps)) if known else Unknown(text, frozenset(deps))

    def ev_BinOp(self, node) -> Value:
        return self.binop(node.op, self.ev(node.left), self.ev(node.right), node)

    def binop(self, op, left: Value, right: Value, node) -> Value:
        deps = left.deps | right.deps
        if isinstance(left, Const) and isinstance(right, Const):
            if isinstance(op, ast.Div) and isinstance(left.value, str) and isinstance(right.value, str):
                return Const(posixpath.join(left.value, right.value), deps)  # pathlib.Path / "file"
            fn = _BINOPS.get(type(op))
            if fn is not None and isinstance(left.value, (*_SAFE_CONST, list, tuple)):
                try:
                    if isinstance(op, ast.Pow) and abs(right.value) > 64:
                        raise ValueError
                    if isinstance(op, ast.Mult) and isinstance(left.value, (str, list, tuple)) and right.value > 1000:
                        raise ValueError
                    return Const(fn(left.value, right.value), deps)
                except Exception:  # arithmetic errors of the user's own constants
                    return Unknown(node=node, deps=deps)
        if isinstance(op, ast.Div) and isinstance(left, Const) and isinstance(left.value, str):
            return Unknown(left.value + "/{" + self.text(getattr(node, "right", node)) + "}", deps)
        if isinstance(left, (ColumnNames, Const)) and isinstance(right, (ColumnNames, Const)):
            result = self.column_arith(op, left, right)
            if result is not None:
                return with_deps(result, deps)
        for value in (left, right):
            if isinstance(value, Pred):
                models = set(value.models)
                for other in (left, right):
                    if isinstance(other, Pred):
                        models |= other.models
                return Pred(frozenset(models), deps)
        datas = [v for v in (left, right) if isinstance(v, Data)]
        if datas:
            return self.data_arith(datas, deps)
        if isinstance(left, Unknown) and isinstance(right, Const) and isinstance(right.value, str) and left.text:
            if isinstance(op, ast.Add):
                return Unknown(left.text + right.value, deps)
        if isinstance(right, Unknown) and isinstance(left, Const) and isinstance(left.value, str):
            if isinstance(op, ast.Add):
                return Unknown(left.value + "{" + self.text(getattr(node, "right", node)) + "}", deps)
        return Unknown(node=node, deps=deps)

    def ev_UnaryOp(self, node) -> Value:
        value = self.ev(node.operand)
        if isinstance(value, Const) and isinstance(value.value, (int, float)) and not isinstance(value.value, bool):
            if isinstance(node.op, ast.USub):
                return Const(-value.value, value.deps)
            if isinstance(node.op, ast.UAdd):
                return value
        if isinstance(value, Const) and isinstance(node.op, ast.Not):
            return Const(not value.value, value.deps)
        if isinstance(value, (Data, Pred)):
            return value
        return Unknown(node=node, deps=value.deps)

    def ev_Compare(self, node) -> Value:
        values = [self.ev(node.left)] + [self.ev(c) for c in node.comparators]
        deps = frozenset().union(*(v.deps for v in values))
        if len(values) == 2 and all(isinstance(v, Const) for v in values) and \
                isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            same = values[0].value == values[1].value
            return Const(same if isinstance(node.ops[0], ast.Eq) else not same, deps)
        for value in values:
            if isinstance(value, Pred):
                return Pred(value.models, deps)
        datas = [v for v in values if isinstance(v, Data)]
        if datas:
            return self.data_arith(datas, deps)
        if isinstance(values[0], ColumnNames) and isinstance(node.ops[0], ast.NotEq) and isinstance(values[1], Const):
            return Instance("column_mask", attrs={"drop": values[1].value, "of": values[0]})
        return Unknown(node=node, deps=deps)

    def ev_BoolOp(self, node) -> Value:
        values = [self.ev(v) for v in node.values]
        deps = frozenset().union(*(v.deps for v in values))
        datas = [v for v in values if isinstance(v, Data)]
        if datas:
            return self.data_arith(datas, deps)
        return Unknown(node=node, deps=deps)

    def ev_IfExp(self, node) -> Value:
        test = self.ev(node.test)
        body, orelse = self.ev(node.body), self.ev(node.orelse)
        if isinstance(test, Const):
            return body if test.value else orelse
        if isinstance(body, (Const, Unknown)) and not isinstance(orelse, (Const, Unknown)):
            return orelse
        return body

    def ev_Lambda(self, node) -> Value:
        return Function(node, self.scope, self.frame.cell)

    def ev_NamedExpr(self, node) -> Value:
        value = self.ev(node.value)
        self.assign(node.target, value, node)
        return value

    def ev_Await(self, node) -> Value:
        return self.ev(node.value)

    def ev_Call(self, node) -> Value:
        return self.call(node)

    # -- comprehensions -----------------------------------------------------------------------------
    def ev_ListComp(self, node) -> Value:
        return self.comprehension(node, node.elt, "list")

    ev_SetComp = ev_ListComp
    ev_GeneratorExp = ev_ListComp

    def ev_DictComp(self, node) -> Value:
        return self.comprehension(node, node.value, "dict")

    def constant_comprehension(self, node, gen, elt, iterable, kind):
        """``[f"f{i}" for i in range(50)]``: a constant list when every item is a constant."""
        if len(node.generators) != 1 or isinstance(node, ast.GeneratorExp) and kind != "list":
            return None
        for sub in ast.walk(node):  # only side-effect-free items: no calls except simple builtins
            if isinstance(sub, ast.Call) and not (isinstance(sub.func, ast.Name) and sub.func.id in _PURE_BUILTINS):
                if not (isinstance(sub.func, ast.Name) and sub.func.id == "range" and sub is gen.iter):
                    return None
        if isinstance(iterable, Instance) and iterable.kind == "range" and iterable.attrs.get("count") is not None:
            text = iterable.attrs["_text"]
            try:
                values = list(eval(compile(ast.parse(text, mode="eval"), "<range>", "eval"), {"range": range}))
            except Exception:  # not a literal range after all
                return None
        elif isinstance(iterable, Const) and isinstance(iterable.value, (list, tuple, set)):
            values = list(iterable.value)
        else:
            return None
        if len(values) > 1000:
            return None
        results, keys = [], []
        for value in values:
            self.assign(gen.target, Const(value), node)
            if not all(isinstance(self.ev(cond), Const) and self.ev(cond).value for cond in gen.ifs):
                continue
            if kind == "dict":
                key = self.ev(node.key)
                if not isinstance(key, Const):
                    return None
                keys.append(key)
            item = self.ev(elt)
            if not isinstance(item, Const):
                return None
            results.append(item)
        return make_seq(results, kind, keys if kind == "dict" else None)

    def comprehension(self, node, elt, kind) -> Value:
        """``[f(m) for m in models]`` evaluated per item when the items are known."""
        gen = node.generators[0]
        iterable = self.ev(gen.iter)
        special = self.column_comprehension(node, gen, iterable)
        if special is not None:
            return special
        saved = self.scope
        self.scope = Scope(saved)
        try:
            constant = self.constant_comprehension(node, gen, elt, iterable, kind)
            if constant is not None:
                return constant
            items = seq_items(iterable)
            unroll = self.iteration(iterable, gen.iter)
            results = []
            if unroll is not None and len(node.generators) == 1:
                for item in unroll:
                    self.assign(gen.target, item, node)
                    results.append(self.ev(elt))
                return make_seq(results, "list")
            self.assign(gen.target, self.element_of(iterable, gen.iter), node)
            for extra in node.generators[1:]:
                self.assign(extra.target, self.element_of(self.ev(extra.iter), extra.iter), node)
            for cond in gen.ifs:
                self.ev(cond)
            value = self.ev(elt)
            if isinstance(value, (Data, Pred, Model, Metric)):
                return value
            del items
            return Unknown(node=node, deps=value.deps | iterable.deps)
        finally:
            self.scope = saved
