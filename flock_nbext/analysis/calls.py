"""Call dispatch: user functions are analysed inline, library calls by knowledge-base role."""

from __future__ import annotations

import ast
import re

from .columns import ColumnSet
from .scope import Frame, Scope
from .sql import QueryShape, parse_query
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
    data_in,
    with_deps,
)

_EXTENSION_KIND = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
                   ".xlsx": "excel", ".xls": "excel", ".json": "json", ".jsonl": "json"}
_CAMEL = re.compile(r"^_?[A-Z][A-Za-z0-9]*$")


class Args:
    """A call's evaluated arguments, by position and by keyword, with their AST nodes."""

    def __init__(self) -> None:
        self.positional: list[Value] = []
        self.pos_nodes: list = []
        self.keywords: dict[str, Value] = {}
        self.kw_nodes: dict[str, ast.AST] = {}
        self.unresolved: list[tuple[Value, ast.AST]] = []
        self.deps: frozenset = frozenset()

    def pos(self, i):
        return self.positional[i] if i is not None and 0 <= i < len(self.positional) else None

    def kw(self, name):
        return self.keywords.get(name) if name else None

    def get(self, spec):
        """Argument by ``[position, name]`` spec (either part may be None)."""
        if spec is None:
            return None
        index, name = spec
        value = self.kw(name)
        return value if value is not None else self.pos(index)

    def node(self, spec):
        if spec is None:
            return None
        index, name = spec
        if name and name in self.kw_nodes:
            return self.kw_nodes[name]
        if index is not None and 0 <= index < len(self.pos_nodes):
            return self.pos_nodes[index]
        return None

    def values(self):
        return list(self.positional) + list(self.keywords.values())


def source_text(value: Value, node) -> str | None:
    """The path, table or query a reader names, constants resolved, computed parts as ``{expr}``."""
    if isinstance(value, Const) and isinstance(value.value, (str, int)):
        return str(value.value)
    if isinstance(value, Unknown) and value.text and node is not None:
        return value.text
    if isinstance(value, Instance) and value.kind in ("file", "file_text"):
        return value.attrs.get("_path")
    if node is not None:
        return ast.unparse(node)
    return None


def file_text(path: str | None, deps) -> Value:
    """The text of a file read at run time (``open(p).read()``, ``Path(p).read_text()``): known by its path."""
    return Instance("file_text", attrs={"_path": path}, deps=deps)


def query_file_of(value: Value) -> str | None:
    """The path of the file a query was read from, when it was (``read_sql(open("q.sql").read(), con)``)."""
    if isinstance(value, Instance) and value.kind == "file_text":
        return value.attrs.get("_path") or "<file>"
    return None


class CallMixin:
    """Evaluation of calls (the interpreter mixes this in)."""

    def eval_args(self, node: ast.Call) -> Args:
        args = Args()
        deps = set()
        for arg in node.args:
            value = self.ev(arg)
            deps |= value.deps
            if isinstance(arg, ast.Starred):
                items = value.items if isinstance(value, Seq) else (
                    [Const(v) for v in value.value] if isinstance(value, Const) and isinstance(value.value, (list, tuple)) else None)
                if items is not None:
                    args.positional.extend(items)
                    args.pos_nodes.extend([arg] * len(items))
                    continue
            args.positional.append(value)
            args.pos_nodes.append(arg)
        for kw in node.keywords:
            value = self.ev(kw.value)
            deps |= value.deps
            if kw.arg is not None:
                args.keywords[kw.arg] = value
                args.kw_nodes[kw.arg] = kw.value
            elif isinstance(value, Const) and isinstance(value.value, dict):
                for k, v in value.value.items():
                    args.keywords[str(k)] = Const(v)
                    args.kw_nodes[str(k)] = kw.value
            elif isinstance(value, Seq) and value.kind == "dict" and all(isinstance(k, Const) for k in value.keys):
                for k, v in zip(value.keys, value.items, strict=False):
                    args.keywords[str(k.value)] = v  # its own text (trial.suggest_int(...)), not "params"
            else:
                args.unresolved.append((value, kw.value))
        args.deps = frozenset(deps)
        return args

    # -- dispatch -------------------------------------------------------------------------------
    def call(self, node: ast.Call) -> Value:
        func = node.func
        if isinstance(func, ast.Attribute):
            recv = self.ev(func.value)
            if isinstance(recv, Ref):
                return self.call_value(Ref(f"{recv.qualname}.{func.attr}"), node, self.eval_args(node))
            args = self.eval_args(node)
            return self.call_method(recv, func.attr, node, args, func.value)
        target = self.ev(func)
        return self.call_value(target, node, self.eval_args(node))

    def call_value(self, target: Value, node, args: Args) -> Value:
        if isinstance(target, Ref):
            name = target.qualname
            if name.startswith("builtins."):
                return self.call_builtin(name[9:], node, args)
            entry = self.kb.lookup(name)
            if entry is not None:
                return getattr(self, "role_" + entry.role)(entry, node, args)
            return self.unknown_call(name, node, args)
        if isinstance(target, Function):
            return self.call_function(target, node, args)
        if isinstance(target, Klass):
            return self.instantiate(target, node, args)
        if isinstance(target, Model):
            return self.model_call(target, node, args)
        if isinstance(target, Instance):
            return self.instance_call(target, node, args)
        if isinstance(target, Bound):
            return self.call_method(target.receiver, target.attr, node, args, None)
        return self.generic_result(node, args, target)

    def call_method(self, recv: Value, attr: str, node, args: Args, recv_node) -> Value:
        if isinstance(recv, Data):
            return self.frame_method(recv, attr, node, args, recv_node)
        if isinstance(recv, Model):
            return self.model_method(recv, attr, node, args, recv_node)
        if isinstance(recv, Choice):
            return self.choice_method(recv, attr, node, args, recv_node)
        if isinstance(recv, Instance):
            return self.instance_method(recv, attr, node, args, recv_node)
        if isinstance(recv, ColumnNames):
            return self.column_names_method(recv, attr, node, args, recv_node)
        if isinstance(recv, (Pred, Metric)):
            return with_deps(recv, args.deps)
        if isinstance(recv, Const):
            return self.const_method(recv, attr, node, args, recv_node)
        if isinstance(recv, Seq):
            return self.seq_method(recv, attr, node, args, recv_node)
        if isinstance(recv, TrainSet):
            return recv
        if isinstance(recv, Klass):
            method = self.class_function(recv, attr)
            if method is not None:
                return self.call_function(method, node, args)
        if isinstance(recv, Bound) and attr in ("parameters", "named_parameters") and \
                isinstance(recv.receiver, (Model, Instance)):  # model.backbone.parameters(): part of the model
            return self.call_method(recv.receiver, attr, node, args, None)
        return self.generic_result(node, args, recv)

    def choice_method(self, choice: Choice, attr: str, node, args: Args, recv_node) -> Value:
        """A method of one of several models: analysed for each; fits train each, predictions are any's."""
        results = [self.call_method(option, attr, node, args, recv_node) for option in choice.options]
        preds = [r for r in results if isinstance(r, Pred)]
        if len(preds) == len(results):
            return Pred(frozenset().union(*(p.models for p in preds)), choice.deps | args.deps)
        trained = Choice.of(*results)
        if trained is not None:
            if isinstance(recv_node, ast.Name) and isinstance(trained, Choice) and \
                    [o.id for o in trained.options] != [o.id for o in choice.options]:
                self.rebind(recv_node, trained, node)  # refitted elsewhere: the name holds the new entries
            return trained
        return results[-1]

    # -- fallbacks --------------------------------------------------------------------------------
    def generic_result(self, node, args: Args, receiver: Value | None = None) -> Value:
        """A call nothing knows: predictions and data flow through, columns become unknown."""
        values = args.values() + ([receiver] if receiver is not None else [])
        for value in args.values():  # study.optimize(objective): a callback the library will call
            if isinstance(value, Function) and not isinstance(value.node, ast.Lambda) \
                    and id(value.node) not in self.functions_called:
                self.call_function(value, node, Args())
        deps = args.deps | (receiver.deps if receiver is not None else frozenset())
        preds = [v for value in values for v in data_in(value) if isinstance(v, Pred)]
        if preds:
            return self.merge_preds(preds, deps)  # np.ravel(p), np.column_stack([p1, p2])
        datas = [v for value in values for v in data_in(value) if isinstance(v, Data)]
        if len(datas) == 1 and datas[0].series:  # re.search(p, s), f(s): computed from the same column
            return Data(datas[0].sources, datas[0].cols, True, deps)
        if datas:
            sources = frozenset().union(*(d.sources for d in datas))
            return Data(sources, ColumnSet.unknown(f"returned by {self.text(node.func)}()"), False, deps)
        metrics = [v for v in values if isinstance(v, Metric)]
        if metrics:
            return with_deps(metrics[0], deps)
        return Unknown(node=node, deps=deps)

    def unknown_call(self, qualname: str, node, args: Args) -> Value:
        """A library not in the knowledge base: classes become objects that may turn out to be models."""
        owner, _, short = qualname.rpartition(".")
        if short in ("from_pretrained", "from_config", "load_from_checkpoint") and \
                _CAMEL.match(owner.rpartition(".")[2]):  # AutoModel.from_pretrained(...): an object of that class
            qualname, short = owner, owner.rpartition(".")[2]
        if _CAMEL.match(short) and not qualname.startswith("."):
            return Instance("object", qualname, {"_ctor": node, "_args": args, "_var": self.var_for(node)},
                            deps=args.deps)
        return self.generic_result(node, args)

    # -- user code --------------------------------------------------------------------------------
    def call_function(self, func: Function, node, args: Args, bound_self: Value | None = None) -> Value:
        """Analyse the function body with this call's arguments bound to its parameters."""
        key = id(func.node)
        self.inline_budget -= 1
        if self.inline_budget < 0 or len(self.frames) > 8 or \
                any(f.function is not None and id(f.function.node) == key for f in self.frames):
            return self.generic_result(node, args)  # recursion, or a call tree too large to follow
        self.functions_called.add(key)
        scope = Scope(func.scope, function=True)
        fargs = func.node.args if not isinstance(func.node, ast.Lambda) else func.node.args
        params = [a.arg for a in fargs.posonlyargs + fargs.args]
        positional = list(args.positional)
        if bound_self is not None:
            positional.insert(0, bound_self)
        defaults = fargs.defaults
        default_of = dict(zip(params[len(params) - len(defaults):], defaults, strict=False))
        saved_scope, saved_target, saved_value = self.scope, self._assign_target, self.assign_value
        self.scope = scope
        try:
            offset = 1 if bound_self is not None else 0
            for i, name in enumerate(params):
                if i < len(positional):
                    value = positional[i]
                    arg_node = args.pos_nodes[i - offset] if 0 <= i - offset < len(args.pos_nodes) else None
                    if isinstance(value, Data) and isinstance(arg_node, ast.Name):
                        scope.param_callers[name] = arg_node.id  # prep(train): mutations reach train
                elif name in args.keywords:
                    value = args.keywords[name]
                elif name in default_of:
                    self.scope = func.scope
                    value = self.ev(default_of[name])
                    self.scope = scope
                else:
                    value = Unknown(name)
                scope.bind(name, value, None)
            for kwarg, default in zip(fargs.kwonlyargs, fargs.kw_defaults, strict=False):
                value = args.keywords.get(kwarg.arg)
                if value is None and default is not None:
                    self.scope = func.scope
                    value = self.ev(default)
                    self.scope = scope
                scope.bind(kwarg.arg, value if value is not None else Unknown(kwarg.arg), None)
            if fargs.vararg is not None:
                scope.bind(fargs.vararg.arg, Seq(tuple(positional[len(params):]), "tuple"), None)
            if fargs.kwarg is not None:
                extra = {k: v for k, v in args.keywords.items() if k not in params}
                scope.bind(fargs.kwarg.arg, Seq(tuple(extra.values()), "dict", tuple(Const(k) for k in extra)), None)
            call_pos = None
            if len(self.frames) == 1 and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                call_pos = (self.frame.cell, getattr(node, "lineno", self.stmt_line))
            self.frames.append(Frame(cell=func.cell, own_cell=func.cell == self.cell_key, function=func,
                                     call_pos=call_pos))
            try:
                if isinstance(func.node, ast.Lambda):
                    return self.ev(func.node.body)
                self.exec_block(func.node.body)
                returns = self.frame.returns
            finally:
                self.frames.pop()
        finally:
            self.scope, self._assign_target, self.assign_value = saved_scope, saved_target, saved_value
        for param in sorted(scope.mutated_params):  # def prep(d): d["x"] = ...; d.drop(..., inplace=True)
            caller = scope.param_callers.get(param)
            if caller is not None and param in scope.vars and self.scope.lookup(caller) is not None:
                self.rebind(ast.Name(id=caller, ctx=ast.Store()), scope.vars[param].value, node)
        if not returns:
            return Const(None)
        models = [r for r in returns if isinstance(r, (Model, Choice))]
        if len(models) > 1:  # def make(name): if name == "rf": return RF() ... return LR()
            choice = Choice.of(*models)
            if choice is not None:
                return choice
        for kind in (Model, Seq, Data, Pred, Metric, TrainSet, Instance):
            chosen = [r for r in returns if isinstance(r, kind)]
            if chosen:
                return chosen[-1]
        return returns[-1]

    def class_function(self, klass: Klass, name: str) -> Function | None:
        for stmt in klass.node.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == name:
                return Function(stmt, klass.scope, klass.cell)
        return None

    def instantiate(self, klass: Klass, node, args: Args) -> Value:
        roles = {getattr(self.kb.lookup(b), "role", None) for b in klass.bases}
        if roles & {"torch_base", "keras_model", "torch_model"} or any(
                b.endswith(("ClassifierMixin", "RegressorMixin", "BaseEstimator")) for b in klass.bases):
            return self.construct_user_model(klass, node, args)
        inst = Instance("user", klass.node.name, {}, klass, deps=args.deps)
        init = self.class_function(klass, "__init__")
        if init is not None:
            self.call_function(init, node, args, bound_self=inst)
        else:  # a dataclass / NamedTuple config: arguments set the annotated fields
            fields = [s.target.id for s in klass.node.body
                      if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
            for name, value in zip(fields, args.positional, strict=False):
                inst.attrs[name] = value
            for name, value in args.keywords.items():
                if name in fields:
                    inst.attrs[name] = value
        return inst

    # -- methods on helper objects ------------------------------------------------------------------
    def instance_method(self, inst: Instance, attr: str, node, args: Args, recv_node) -> Value:
        kind = inst.kind
        if kind in ("connection", "cursor"):
            return self.connection_method(inst, attr, node, args, recv_node)
        if kind == "groupby":
            return self.groupby_method(inst, attr, node, args)
        if kind == "ipython":
            return self.magic_method(attr, node, args)
        if kind == "splitter" and attr in ("split", "_iter_test_indices"):
            return Instance("folds", attrs={}, deps=args.deps)
        if kind == "optimizer" and attr == "step":
            return self.optimizer_step(inst, node)
        if kind == "transformer":
            return self.transformer_method(inst, attr, node, args, recv_node)
        if kind == "object":
            return self.object_method(inst, attr, node, args, recv_node)
        if kind == "user" and inst.klass is not None:
            method = self.class_function(inst.klass, attr)
            if method is not None:
                return self.call_function(method, node, args, bound_self=inst)
        if kind == "bunch":
            return Unknown(node=node, deps=inst.deps)
        if kind == "file" and attr in ("read", "read_text"):  # open("q.sql").read(): the file's text
            return file_text(inst.attrs.get("_path"), inst.deps | args.deps)
        if kind == "file_text":  # open("q.sql").read().format(day=d).strip(): still that file's query
            return file_text(inst.attrs.get("_path"), inst.deps | args.deps)
        return self.generic_result(node, args, None if kind in ("loss_value", "history") else inst)

    def connection_method(self, inst: Instance, attr: str, node, args: Args, recv_node) -> Value:
        role = self.kb.connection_methods.get(attr)
        if role in ("cursor", "connection"):
            return Instance("cursor" if role == "cursor" else "connection", inst.qualname, dict(inst.attrs),
                            deps=inst.deps)
        if role == "execute":
            query = args.pos(0) or args.kw("sql") or args.kw("statement") or args.kw("query")
            if query is None:
                return inst
            text = source_text(query, args.node([0, "sql"]))
            sid, columns = self.add_sql_source(text, node,
                                               function=f"{inst.qualname}.{attr}" if inst.qualname else attr,
                                               query_file=query_file_of(query))
            inst.attrs["_source"] = sid
            inst.attrs["_columns"] = columns
            if attr in ("sql", "query"):  # duckdb relation: a DataFrame-like result
                return Data(frozenset([sid]), ColumnSet.of(columns) if columns else ColumnSet.all(), False,
                            frozenset([sid]) | args.deps)
            return Instance("cursor", inst.qualname, dict(inst.attrs), deps=frozenset([sid]))
        if role == "fetch":
            sid = inst.attrs.get("_source")
            columns = inst.attrs.get("_columns")
            sources = frozenset([sid]) if sid else frozenset()
            return Data(sources, ColumnSet.of(columns) if columns else ColumnSet.all(), False,
                        inst.deps | (frozenset([sid]) if sid else frozenset()))
        return Unknown(node=node, deps=inst.deps | args.deps)

    def add_sql_source(self, text: str | None, node, function: str, query_file: str | None = None):
        shape = parse_query(text or "") if query_file is None else QueryShape((), None, parsed=False)
        sid = self.store.add_source(kind="sql", source=text or self.text(node), tables=shape.tables,
                                    columns=shape.columns, var=self.var_for(node), pos=self.pos(node),
                                    cell_key=self.cell_key, query_file=query_file)
        self.add_site("sql", node, sid, function)
        return sid, shape.columns

    # -- sites --------------------------------------------------------------------------------------
    def add_site(self, kind: str, node, ref: str, function: str, *, receiver=None, models=()) -> None:
        if not isinstance(node, ast.Call):
            return
        from .facts import Site

        own = self.frame.own_cell
        if not own and self.frame.cell is None:
            return
        site = Site(kind=kind, lineno=node.lineno, col_offset=node.col_offset, end_lineno=node.end_lineno,
                    end_col_offset=node.end_col_offset, ref=ref, var=self.var_for(node), function=function,
                    receiver=receiver, models=tuple(models), cell=None if own else self.frame.cell)
        key = (site.kind, site.lineno, site.col_offset, site.ref, site.cell)
        if key not in self.site_keys:
            self.site_keys.add(key)
            (self.sites if own else self.sites_elsewhere).append(site)

    def var_for(self, node) -> str | None:
        """The variable a call's result is bound to, when the call is what the statement assigns."""
        if self.assign_target is None:
            return None
        value = self.assign_value
        while value is not None:
            if value is node:
                return self.assign_target
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
                value = value.func.value
            elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.args:
                value = value.args[0]  # np.sqrt(mean_squared_error(...)), list(...)
            elif isinstance(value, (ast.Attribute, ast.Subscript)):
                value = value.value
            elif isinstance(value, ast.Await):
                value = value.value
            else:
                return None
        return None
