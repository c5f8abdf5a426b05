"""Model construction: which calls make models, and their hyperparameters as written.

The class reported for a Pipeline or a search (GridSearchCV, ...) is the wrapper, the object the
user fits and predicts with.  What is written inside a wrapper is reported with scikit-learn's
``get_params()`` names (``clf__C``, ``estimator__max_depth``,
``preprocessor__cat__onehot__handle_unknown``); the wrapped estimators are listed under
``steps`` / ``estimator`` / ``estimators`` and are not models of their own unless fitted alone.
"""

from __future__ import annotations

import ast
import re

from .values import Const, Data, Instance, Klass, Model, Seq, Unknown, Value, data_in

MODEL_TYPES = {"classifier", "regressor", "cluster", "outlier_detector", "search", "statsmodel"}
_FORMULA_TERM = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_FORMULA_FUNCS = {"C", "np", "log", "exp", "sqrt", "I", "Q", "center", "standardize", "scale", "bs", "cr", "poly",
                  "Treatment", "Sum", "Poly"}
_WRAPPER_ARGS = {"steps", "estimators", "transformers", "transformer_list", "estimator", "base_estimator"}


def _element_nodes(value: Seq, node) -> list:
    """The AST node of each item of a list/tuple/dict literal (None where the literal does not say)."""
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and len(node.elts) == len(value.items) and \
            not any(isinstance(e, ast.Starred) for e in node.elts):
        return list(node.elts)
    if isinstance(node, ast.Dict) and None not in node.keys and len(node.values) == len(value.items):
        return list(node.values)
    return [None] * len(value.items)


def to_json_value(value: Value, node, text):
    """A hyperparameter as reported: the resolved literal, or the source text when computed.

    Inside a list or dict literal only the computed items become text
    (``metrics=["accuracy", AUC(name="auc")]`` stays a list of two).
    """
    if node is None and isinstance(value, Unknown) and value.text:
        return value.text
    if isinstance(value, Const):
        return _jsonable(value.value)
    if isinstance(value, Seq) and value.kind == "dict" and value.keys and \
            all(isinstance(k, Const) for k in value.keys):
        nodes = _element_nodes(value, node)
        return {str(k.value): to_json_value(v, n, text) for k, v, n in zip(value.keys, value.items, nodes, strict=False)}
    if isinstance(value, Seq) and value.kind in ("list", "tuple"):
        nodes = _element_nodes(value, node)
        return [to_json_value(v, n, text) for v, n in zip(value.items, nodes, strict=False)]
    if node is not None:
        return text(node)
    if isinstance(value, Instance) and isinstance(value.attrs.get("_ctor"), ast.AST):
        return text(value.attrs["_ctor"])  # an object built inside a literal: its constructor call
    return getattr(value, "text", None) or "<computed>"


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        if isinstance(value, float) and value != value:
            return "nan"
        return value
    if isinstance(value, (set, frozenset)):  # sorted: output must not depend on hash seeds
        return [_jsonable(v) for v in sorted(value, key=repr)]
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


def formula_terms(formula: str):
    """``"y ~ a + np.log(b) + C(c)"`` -> ("y", ["a", "b", "c"]); ``"y ~ ."`` -> ("y", None)."""
    if "~" not in formula:
        return None, []
    left, right = formula.split("~", 1)
    label_terms = [t for t in _FORMULA_TERM.findall(left) if t not in _FORMULA_FUNCS and not t.startswith("np.")]
    if right.strip() == ".":
        return (label_terms[0] if label_terms else None), None
    names = []
    for term in _FORMULA_TERM.findall(right):
        if term in _FORMULA_FUNCS or term.startswith("np.") or term.isdigit():
            continue
        if term not in names:
            names.append(term)
    return (label_terms[0] if label_terms else None), names


class ColumnsOf(Value):
    """A (transformer, columns) entry of a ColumnTransformer."""

    def __init__(self, estimator, columns) -> None:
        self.estimator = estimator
        self.columns = columns
        self.deps = frozenset()


class ModelMixin:
    """Model constructors by KB role (the interpreter mixes this in)."""

    def hyperparameters(self, args, param_names=(), skip=(), keywords_only=False) -> dict:
        out = {}
        if not keywords_only:
            for i, value in enumerate(args.positional):
                name = param_names[i] if i < len(param_names) else f"arg{i}"
                if name in skip:
                    continue
                out[name] = to_json_value(value, args.pos_nodes[i], self.text)
        for name, value in args.keywords.items():
            if name in skip:
                continue
            if isinstance(value, Model) or (isinstance(value, Instance) and value.kind == "transformer"):
                for key, val in self.estimator_params(value).items():  # final_estimator__C
                    out[f"{name}__{key}"] = val
                if isinstance(value, Model) and self.record(value) and not self.record(value)["_fitted"]:
                    self.record(value)["_absorbed"] = True
                continue
            out[name] = to_json_value(value, args.kw_nodes.get(name), self.text)
        for value, node in args.unresolved:
            out["**" + self.text(node)] = getattr(value, "text", "") or self.text(node)
        return out

    def new_model(self, cls: str, node, hyper: dict, role: str, deps=frozenset()) -> Model:
        var = self.var_for(node)
        rid = self.store.add_model(var=var, cls=cls, pos=self.pos(node), hyperparameters=hyper,
                                   cell_key=self.cell_key, role=role)
        self.store.models[rid]["_var_top"] = var is not None and len(self.frames) == 1
        self.store.link(deps, rid)
        return Model(rid, frozenset([rid]))

    def record(self, model: Model):
        return self.store.models.get(model.id)

    def name_model(self, rid: str, name: str) -> None:
        rec = self.store.models.get(rid)
        if rec is None:
            return
        top = len(self.frames) == 1
        if rec["var"] is None or (top and not rec.get("_var_top")):
            rec["var"] = name
            rec["_var_top"] = top

    def estimator_params(self, value) -> dict:
        if isinstance(value, ColumnsOf):
            return self.estimator_params(value.estimator)
        if isinstance(value, Model):
            rec = self.record(value)
            return dict(rec["hyperparameters"]) if rec else {}
        if isinstance(value, Instance):
            return dict(value.attrs.get("_hyper", {}))
        return {}

    # -- constructors -------------------------------------------------------------------------------
    def role_estimator(self, entry, node, args) -> Value:
        kind = entry.get("type")
        if kind == "statsmodel":
            return self.construct_statsmodel(entry, node, args)
        cls = entry.get("class") or entry.name
        wrapper = entry.get("wrapper")
        hyper = self.hyperparameters(args, entry.get("params", ()), skip=_WRAPPER_ARGS,
                                     keywords_only=wrapper in ("make_pipeline", "make_column_transformer"))
        inner = self.wrapped_estimators(entry, wrapper, args) if wrapper else []
        for name, value in inner:
            for key, val in self.estimator_params(value).items():
                hyper.setdefault(f"{name}__{key}", val)
        is_model = kind in MODEL_TYPES or any(isinstance(v, Model) for _, v in inner)
        if wrapper in ("steps", "make_pipeline") and inner and not isinstance(inner[-1][1], Model):
            is_model = False
        if wrapper in ("transformers", "make_column_transformer"):
            is_model = False
        if not is_model:
            last = inner[-1][1] if inner else None
            if wrapper in ("steps", "make_pipeline") and not isinstance(last, Instance):
                # the final step comes from code we cannot see (make_clf()): a model once it is fitted on labels
                return Instance("object", cls, {"_hyper": hyper, "_inner": inner, "_ctor": node, "_args": args,
                                                "_var": self.var_for(node)}, deps=args.deps)
            return Instance("transformer", cls, {"_hyper": hyper, "_inner": inner}, deps=args.deps)
        for _, value in inner:
            rec = self.record(value) if isinstance(value, Model) else None
            if rec is not None and not rec["_fitted"]:
                rec["_absorbed"] = True
        model = self.new_model(cls, node, hyper, kind or "model", args.deps)
        rec = self.record(model)
        if inner:
            described = [{"name": n, "class": self.value_class(v)} for n, v in inner]
            if wrapper in ("steps", "make_pipeline"):
                rec["steps"] = described
            elif wrapper == "estimators":
                rec["estimators"] = described
            else:
                rec["estimator"] = described[0]["class"]
                if isinstance(inner[0][1], Model):
                    rec["_inner_id"] = inner[0][1].id
        return model

    def value_class(self, value: Value) -> str | None:
        if isinstance(value, ColumnsOf):
            return self.value_class(value.estimator)
        if isinstance(value, Model):
            rec = self.record(value)
            return rec["class"] if rec else None
        if isinstance(value, Instance):
            return value.qualname or value.kind
        if isinstance(value, Const):
            return repr(value.value)
        return getattr(value, "text", None)

    def _step_name(self, value, i) -> str:
        cls = self.value_class(value)
        return cls.rsplit(".", 1)[-1].lower() if cls else f"step{i}"

    def wrapped_estimators(self, entry, wrapper, args):
        """(name, value) of the estimators a Pipeline/search/ensemble wraps, in order."""
        if wrapper == "make_pipeline":
            return [(self._step_name(v, i), v) for i, v in enumerate(args.positional)]
        if wrapper == "make_column_transformer":
            out = []
            for i, v in enumerate(args.positional):
                items = self.seq_of(v)
                if items and len(items) >= 2:
                    out.append((self._step_name(items[0], i), ColumnsOf(items[0], items[1])))
            return out
        params = list(entry.get("params", ()))
        index = params.index(wrapper) if wrapper in params else 0
        value = args.get([index, wrapper])
        if value is None:
            return []
        if wrapper in ("estimator", "base_estimator"):
            return [(wrapper, value)]
        out = []
        for i, item in enumerate(self.seq_of(value) or ()):
            parts = self.seq_of(item)
            if parts and len(parts) >= 2:
                name = str(parts[0].value) if isinstance(parts[0], Const) else f"step{i}"
                if wrapper == "transformers" and len(parts) >= 3:
                    out.append((name, ColumnsOf(parts[1], parts[2])))
                else:
                    out.append((name, parts[1]))
            else:
                out.append((self._step_name(item, i), item))
        return out

    def construct_statsmodel(self, entry, node, args) -> Value:
        endog, exog = args.get(entry.get("endog")), args.get(entry.get("exog"))
        model = self.new_model(entry.name, node, {}, "statsmodel", args.deps)
        self.record(model)["_pending"] = (exog, endog, args.deps)
        return model

    def role_formula_model(self, entry, node, args) -> Value:
        from .columns import ColumnSet

        formula = args.get(entry.get("formula"))
        data = args.get(entry.get("data"))
        model = self.new_model(entry.name, node, {}, "statsmodel", args.deps)
        if isinstance(formula, Const) and isinstance(formula.value, str) and isinstance(data, Data):
            label, features = formula_terms(formula.value)
            X = data.with_cols(data.cols.drop([label]) if features is None else data.cols.select(features))
            y = data.with_cols(data.cols.select([label]), series=True) if label else None
            self.record(model)["_pending"] = (X, y, args.deps)
        elif isinstance(data, Data):
            unknown = data.with_cols(ColumnSet.unknown("formula is not a constant"))
            self.record(model)["_pending"] = (unknown, None, args.deps)
        return model

    def role_torch_model(self, entry, node, args) -> Value:
        return self.new_model(entry.name, node, {}, "torch", args.deps)

    def role_keras_model(self, entry, node, args) -> Value:
        return self.new_model(entry.name, node, {}, "keras", args.deps)

    def construct_user_model(self, klass: Klass, node, args) -> Value:
        roles = {getattr(self.kb.lookup(b), "role", None) for b in klass.bases}
        kind = "keras" if "keras_model" in roles else ("torch" if roles & {"torch_base", "torch_model"} else "model")
        init = self.class_function(klass, "__init__")
        names = [a.arg for a in init.node.args.args[1:]] if init is not None else []
        hyper = self.hyperparameters(args, names)
        if kind == "keras":
            hyper = {}
        return self.new_model(f"__main__.{klass.node.name}", node, hyper, kind, args.deps)

    def role_optimizer(self, entry, node, args) -> Value:
        models = []
        for value in args.values():
            for item in data_in(value):
                if isinstance(item, Instance) and item.kind == "params":
                    models.extend(item.attrs.get("models", ()))
                elif isinstance(item, Model):
                    models.append(item.id)
        hyper = self.hyperparameters(args, keywords_only=True, skip={"params"})
        return Instance("optimizer", entry.name, {"models": models, "hyper": hyper}, deps=args.deps)

    def role_loss(self, entry, node, args) -> Value:
        loss = Instance("loss", entry.name, {}, deps=args.deps)
        if entry.get("functional"):  # F.cross_entropy(out, y): a loss computed on the spot
            return self.instance_call(loss, node, args)
        return loss
