"""Expressions: every expression of the user's code evaluates to an abstract value (values.py).

Constants are computed (arithmetic, f-strings, path joins), data flows through operators,
predictions stay predictions, and comprehensions run per item when their items are known.
"""

from __future__ import annotations

import ast
import operator
import posixpath

from .scope import BUILTIN_NAMES, Scope
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
    make_seq,
    seq_items,
    with_deps,
)

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_SAFE_CONST = (str, int, float, bool, type(None), bytes)
_EV_HANDLERS: dict = {}  # ast node type -> unbound ev_ method (None: evaluate the children)
MAX_CONSTANT_ITEMS = 32
"""Constant comprehensions unrolled item by item (each item costs an evaluation on the user's thread)."""
MAX_CONSTANT_NAMES = 1000
"""...except those that build names (``[f"f{i}" for i in range(100)]``: feature columns), unrolled up to this."""

_PURE_BUILTINS = frozenset({"str", "int", "float", "round", "len", "abs", "min", "max", "bool", "range"})


class ExpressionMixin:
    """Evaluation of expressions (the interpreter mixes this in)."""

    # -- expressions ------------------------------------------------------------------------------
    def ev(self, node) -> Value:
        if node is None:
            return Const(None)
        kind = type(node)
        handler = _EV_HANDLERS.get(kind, False)
        if handler is False:  # first time this node type is seen: find its method once
            handler = _EV_HANDLERS[kind] = getattr(type(self), "ev_" + kind.__name__, None)
        if handler is None:
            deps = set()
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    deps |= self.ev(child).deps
            return Unknown(node=node, deps=frozenset(deps))
        return handler(self, node)

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
        if node.id == "get_ipython":  # IPython's own global in a notebook: magics are calls on it
            return Ref("IPython.get_ipython")
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
                for k, v in zip(base.keys, base.items, strict=False):
                    if isinstance(k, Const) and k.value == index:
                        return with_deps(v, deps)
            elif isinstance(index, int) and -len(base.items) <= index < len(base.items):
                return with_deps(base.items[index], deps)
            if not isinstance(key, Const):  # models[best_name]: any of the models it holds
                choice = Choice.of(*base.items) if base.items else None
                if choice is not None:
                    return with_deps(choice, deps)
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
        for elt, item in zip(elts, items, strict=False):
            inner = seq_items(item) if isinstance(elt, ast.Starred) else None
            out.extend(inner if inner is not None else [item])
        return out

    def ev_Starred(self, node) -> Value:
        return self.ev(node.value)

    def ev_Dict(self, node) -> Value:
        keys, items = [], []
        for k, v in zip(node.keys, node.values, strict=False):
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
        for value in (left, right):  # 2 * precision * recall / (precision + recall): still that model's curve
            if isinstance(value, Metric):
                return with_deps(value, deps)
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
        if isinstance(values[0], ColumnNames) and isinstance(node.ops[0], (ast.NotEq, ast.Eq)) and \
                isinstance(values[1], Const):  # df.columns != "Class" / == "Class": a mask over the columns
            how = "drop" if isinstance(node.ops[0], ast.NotEq) else "keep"
            return Instance("column_mask", attrs={how: values[1].value, "of": values[0]})
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
        choice = Choice.of(body, orelse)  # RF() if use_rf else LR(): either model
        if isinstance(choice, Choice):
            return choice
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
        limit = MAX_CONSTANT_NAMES if _makes_names(node.key if kind == "dict" else elt) else MAX_CONSTANT_ITEMS
        if len(values) > limit:
            return None  # summarised by the general path: the analysis follows names, not data rows
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
            if isinstance(value, (Data, Pred, Model, Metric)) or (isinstance(value, Instance) and value.kind == "params"):
                return value
            if isinstance(iterable, Pred):  # [1 if p > 0.5 else 0 for p in probs]: still that model's output
                return Pred(iterable.models, value.deps | iterable.deps)
            del items
            return Unknown(node=node, deps=value.deps | iterable.deps)
        finally:
            self.scope = saved


def _makes_names(elt: ast.AST) -> bool:
    """Whether a comprehension's item is a string built from the loop variable (column or key names)."""
    if isinstance(elt, ast.JoinedStr) or isinstance(elt, ast.Constant) and isinstance(elt.value, str):
        return True
    if isinstance(elt, ast.Call) and isinstance(elt.func, ast.Name) and elt.func.id == "str":
        return True
    return isinstance(elt, ast.BinOp) and (_makes_names(elt.left) or _makes_names(elt.right))
