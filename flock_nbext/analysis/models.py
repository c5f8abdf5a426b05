"""Models: construction (hyperparameters as written), training sites, predictions and metrics.

The model class reported for a Pipeline or a search (GridSearchCV, ...) is the wrapper, the
object the user fits and predicts with; the inner estimators are recorded under ``estimator`` /
``steps`` and their hyperparameters are reported with sklearn's ``name__param`` prefixes.
"""

from __future__ import annotations

import ast
import re

from .columns import ColumnSet
from .values import (ColumnNames, Const, Data, Instance, Klass, Metric, Model, Pred, Seq, TrainSet, Unknown, Value,
                     data_in, with_deps)

MODEL_TYPES = {"classifier", "regressor", "cluster", "outlier_detector", "search", "statsmodel"}
FIT_METHODS = {"fit", "fit_generator", "partial_fit"}
PREDICT_METHODS = {"predict", "predict_proba", "predict_log_proba", "decision_function", "score_samples",
                   "forecast", "get_prediction", "predict_classes", "get_forecast", "kneighbors", "staged_predict",
                   "staged_predict_proba", "predict_on_batch"}
SAME_MODEL = {"train", "eval", "to", "cuda", "cpu", "double", "float", "half", "requires_grad_", "get_booster",
              "set_output", "compile_model"}
SAME_MODEL_ATTRS = {"best_estimator_", "booster_", "estimator_", "_final_estimator", "model", "best_estimator",
                    "regressor_", "classifier_"}
KERAS_FIT_DATA = {"x", "y", "validation_data", "callbacks", "verbose", "sample_weight"}
_FORMULA_TERM = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_FORMULA_FUNCS = {"C", "np", "log", "exp", "sqrt", "I", "Q", "center", "standardize", "scale", "bs", "cr", "poly"}


def to_json_value(value: Value, node, text):
    """A hyperparameter as reported: the resolved literal, or the source text when computed."""
    if isinstance(value, Const):
        return _jsonable(value.value, text)
    if isinstance(value, Seq) and value.kind == "dict" and value.keys and all(isinstance(k, Const) for k in value.keys):
        return {str(k.value): to_json_value(v, None, "") or "<computed>" for k, v in zip(value.keys, value.items)}
    if node is not None:
        return text(node)
    return getattr(value, "text", None) or "<computed>"


def _jsonable(value, text):
    if isinstance(value, (str, int, float, bool)) or value is None:
        if isinstance(value, float) and value != value:
            return "nan"
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v, text) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v, text) for k, v in value.items()}
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


class ModelMixin:
    """Model construction, training and evaluation (the interpreter mixes this in)."""

    # -- records ----------------------------------------------------------------------------------
    def hyperparameters(self, args, param_names=(), skip=()) -> dict:
        out = {}
        for i, value in enumerate(args.positional):
            name = param_names[i] if i < len(param_names) else f"arg{i}"
            if name in skip:
                continue
            out[name] = to_json_value(value, args.pos_nodes[i], self.text)
        for name, value in args.keywords.items():
            if name in skip:
                continue
            out[name] = to_json_value(value, args.kw_nodes.get(name), self.text)
        for value, node in args.unresolved:
            out["**" + self.text(node)] = getattr(value, "text", "") or self.text(node)
        return out

    def new_model(self, cls: str, node, hyper: dict, role: str, deps=frozenset()) -> Model:
        rid = self.store.add_model(var=self.var_for(node), cls=cls, pos=self.pos(node), hyperparameters=hyper,
                                   cell_key=self.cell_key, role=role)
        self.store.link(deps, rid)
        return Model(rid, frozenset([rid]))

    def record(self, model: Model):
        return self.store.models.get(model.id)

    def name_model(self, rid: str, name: str) -> None:
        rec = self.store.models.get(rid)
        if rec is not None and (rec["var"] is None or (not self.scope.function and rec.get("_var_in_function"))):
            rec["var"] = name
            rec["_var_in_function"] = self.scope.function

    def record_fit(self, model: Model, X: Value | None, y: Value | None, node, deps, *, site=True,
                   function=None, receiver=None, cv=False) -> None:
        rec = self.record(model)
        if rec is None:
            return
        if isinstance(X, TrainSet):
            X, y = X.features, (y if y is not None else X.label)
        if isinstance(X, Seq) and len(X.items) == 2 and y is None and isinstance(X.items[0], Data):
            X, y = X.items
        if cv and rec["_fitted"]:
            return
        sources = []
        for value in (X, y):
            for item in data_in(value) if value is not None else ():
                if isinstance(item, Data):
                    sources.extend(sorted(item.sources, key=_source_order))
        features = X.cols.to_features() if isinstance(X, Data) else (
            {"unknown": "features are not values read from a data source"} if X is not None else
            {"unknown": "no features passed"})
        if isinstance(X, Data) and rec.get("_input_columns") and X.cols.kind != "columns":
            features = {"columns": list(rec["_input_columns"])}
        label = y.cols.to_label() if isinstance(y, Data) else None
        rec["training_data"] = {"sources": list(dict.fromkeys(sources)), "features": features, "label": label}
        if not cv:
            rec["_fitted"] = True
            rec["_fit_pos"] = self.pos(node)
        self.store.link(deps, rec["id"])
        self.store.touch("models", rec["id"])
        if site and not cv:
            self.add_site("fit", node, rec["id"], function or f"{rec['class']}.fit", receiver=receiver)

    def record_metric(self, function: str, node, args_values, deps, *, models=()) -> Metric:
        found = list(models)
        for value in args_values:
            for item in data_in(value):
                if isinstance(item, Pred):
                    found.extend(sorted(item.models))
                elif isinstance(item, Model):
                    found.append(item.id)
        found = list(dict.fromkeys(found))
        rid = self.store.add_metric(function=function, var=self.var_for(node) or self.assign_target,
                                    pos=self.pos(node), models=found, cell_key=self.cell_key)
        self.store.link(deps, rid)
        self.add_site("metric", node, rid, function, models=found)
        return Metric(rid, deps | {rid})

    # -- constructors -------------------------------------------------------------------------------
    def role_estimator(self, entry, node, args) -> Value:
        kind = entry.get("type")
        cls = entry.get("class") or entry.name
        wrapper = entry.get("wrapper")
        hyper = self.hyperparameters(args, entry.get("params", ()),
                                     skip={"steps", "estimators", "transformers", "transformer_list"})
        inner_models, inner_all = [], []
        if wrapper:
            inner_all = self.wrapped_estimators(entry, wrapper, args)
            inner_models = [(name, v) for name, v in inner_all if isinstance(v, Model)]
        if kind == "statsmodel":
            return self.construct_statsmodel(entry, node, args)
        is_model = kind in MODEL_TYPES or bool(inner_models)
        if wrapper in ("steps", "make_pipeline") and inner_all and not isinstance(inner_all[-1][1], Model):
            is_model = False
        if not is_model:
            inst = Instance("transformer", cls, {}, deps=args.deps)
            cols = self.transformer_columns(inner_all, wrapper)
            if cols:
                inst.attrs["_columns"] = cols
            inst.attrs["_inner"] = inner_all
            return inst
        for name, inner in inner_all:
            if isinstance(inner, Model):
                rec = self.record(inner)
                if rec is None:
                    continue
                if not rec["_fitted"]:
                    rec["_absorbed"] = True
                prefix = name if wrapper in ("steps", "make_pipeline", "estimators") else wrapper
                for k, v in rec["hyperparameters"].items():
                    hyper.setdefault(f"{prefix}__{k}", v)
                hyper_key = "steps" if wrapper in ("steps", "make_pipeline") else wrapper
                if hyper_key not in ("steps", "estimators"):
                    hyper.pop(hyper_key, None)
        model = self.new_model(cls, node, hyper, kind or "model", args.deps)
        rec = self.record(model)
        if inner_all:
            key = "steps" if wrapper in ("steps", "make_pipeline") else ("estimators" if wrapper == "estimators" else "estimator")
            described = [{"name": n, "class": self.value_class(v)} for n, v in inner_all]
            rec[key] = described if key != "estimator" else (described[0]["class"] if described else None)
            columns = []
            for _, v in inner_all:
                if isinstance(v, Instance) and v.attrs.get("_columns"):
                    columns.extend(v.attrs["_columns"])
                if isinstance(v, Model):
                    inner_rec = self.record(v)
                    if inner_rec and inner_rec.get("_input_columns"):
                        columns.extend(inner_rec["_input_columns"])
            if columns:
                rec["_input_columns"] = list(dict.fromkeys(columns))
        return model

    def value_class(self, value: Value) -> str | None:
        if isinstance(value, _ColumnsOf):
            return self.value_class(value.estimator)
        if isinstance(value, Model):
            rec = self.record(value)
            return rec["class"] if rec else None
        if isinstance(value, Instance):
            return value.qualname or value.kind
        if isinstance(value, Const):
            return repr(value.value)
        return getattr(value, "text", None)

    def wrapped_estimators(self, entry, wrapper, args):
        """(name, value) of the estimators a Pipeline/search/ensemble wraps, in order."""
        if wrapper == "make_pipeline":
            values = list(args.positional)
            return [(self.value_class(v).rsplit(".", 1)[-1].lower() if self.value_class(v) else f"step{i}", v)
                    for i, v in enumerate(values)]
        if wrapper == "make_column_transformer":
            out = []
            for i, v in enumerate(args.positional):
                items = self.seq_of(v)
                if items and len(items) >= 2:
                    out.append((f"t{i}", items[0], items[1]))
            return [(n, _ColumnsOf(est, cols)) for n, est, cols in out]
        params = list(entry.get("params", ()))
        index = params.index(wrapper) if wrapper in params else 0
        value = args.get([index, wrapper])
        if wrapper in ("estimator", "base_estimator"):
            return [(wrapper, value)] if value is not None else []
        items = self.seq_of(value) if value is not None else None
        out = []
        for i, item in enumerate(items or ()):
            parts = self.seq_of(item)
            if parts and len(parts) >= 2:
                name = parts[0].value if isinstance(parts[0], Const) else f"step{i}"
                if wrapper == "transformers" and len(parts) >= 3:
                    out.append((str(name), _ColumnsOf(parts[1], parts[2])))
                else:
                    out.append((str(name), parts[1]))
            else:
                out.append((f"step{i}", item))
        return out

    def transformer_columns(self, inner_all, wrapper):
        if wrapper not in ("transformers", "make_column_transformer"):
            return None
        from .frames import _names

        columns = []
        for _, value in inner_all:
            if not isinstance(value, _ColumnsOf):
                return None
            names = _names(value.columns) if not isinstance(value.columns, ColumnNames) else (
                list(value.columns.cols.names) if value.columns.cols.known else None)
            if names is None:
                return None
            columns.extend(names)
        return columns

    def construct_statsmodel(self, entry, node, args) -> Value:
        endog, exog = args.get(entry.get("endog")), args.get(entry.get("exog"))
        hyper = self.hyperparameters(args, ("endog", "exog"), skip={"endog", "exog"})
        model = self.new_model(entry.name, node, hyper, "statsmodel", args.deps)
        self.record(model)["_pending"] = (exog, endog, args.deps)
        return model

    def role_formula_model(self, entry, node, args) -> Value:
        formula = args.get(entry.get("formula"))
        data = args.get(entry.get("data"))
        hyper = self.hyperparameters(args, ("formula",), skip={"data"})
        model = self.new_model(entry.name, node, hyper, "statsmodel", args.deps)
        if isinstance(formula, Const) and isinstance(formula.value, str) and isinstance(data, Data):
            label, features = formula_terms(formula.value)
            X = data.with_cols(data.cols.drop([label]) if features is None else data.cols.select(features))
            y = data.with_cols(data.cols.select([label]), series=True) if label else None
            self.record(model)["_pending"] = (X, y, args.deps)
        elif isinstance(data, Data):
            self.record(model)["_pending"] = (data.with_cols(ColumnSet.unknown("formula not a constant")), None, args.deps)
        return model

    def role_torch_model(self, entry, node, args) -> Value:
        return self.new_model(entry.name, node, {}, "torch", args.deps)

    def role_keras_model(self, entry, node, args) -> Value:
        hyper = self.hyperparameters(args, (), skip={"inputs", "outputs", "layers"})
        hyper = {k: v for k, v in hyper.items() if not k.startswith("arg")}
        return self.new_model(entry.name, node, hyper, "keras", args.deps)

    def construct_user_model(self, klass: Klass, node, args) -> Value:
        init = self.class_function(klass, "__init__")
        names = [a.arg for a in init.node.args.args[1:]] if init is not None else []
        hyper = self.hyperparameters(args, names)
        roles = {getattr(self.kb.lookup(b), "role", None) for b in klass.bases}
        kind = "keras" if "keras_model" in roles else ("torch" if roles & {"torch_base", "torch_model"} else "model")
        return self.new_model(f"__main__.{klass.node.name}", node, hyper, kind, args.deps)

    def role_optimizer(self, entry, node, args) -> Value:
        models = []
        for value in args.values():
            for item in data_in(value):
                if isinstance(item, Instance) and item.kind == "params":
                    models.extend(item.attrs.get("models", ()))
                elif isinstance(item, Model):
                    models.append(item.id)
        hyper = self.hyperparameters(args, entry.get("params", ()), skip={"params"})
        return Instance("optimizer", entry.name, {"models": models, "hyper": hyper}, deps=args.deps)

    def role_loss(self, entry, node, args) -> Value:
        return Instance("loss", entry.name, {}, deps=args.deps)

    # -- training functions ---------------------------------------------------------------------------
    def role_train(self, entry, node, args) -> Value:
        params = args.get(entry.get("params"))
        hyper = {}
        if params is not None:
            value = to_json_value(params, args.node(entry.get("params")), self.text)
            hyper.update(value if isinstance(value, dict) else {"params": value})
        data_spec = entry.get("data")
        train = args.get(data_spec)
        positions = {int(k): v for k, v in entry.get("option_positions", {}).items()}
        for i, value in enumerate(args.positional):
            if i in positions:
                hyper[positions[i]] = to_json_value(value, args.pos_nodes[i], self.text)
        for name, value in args.keywords.items():
            if name in (entry.get("params")[1], data_spec[1]):
                continue
            if name in entry.get("options", ()) or isinstance(value, Const) and not isinstance(value.value, (list, dict)):
                hyper[name] = to_json_value(value, args.kw_nodes.get(name), self.text)
        model = self.new_model(entry.get("class"), node, hyper, "booster", args.deps)
        self.record_fit(model, train, None, node, args.deps, function=entry.name)
        return model

    def role_cv_eval(self, entry, node, args) -> Value:
        est = args.get([0, "estimator"])
        X, y = args.get([1, "X"]), args.get([2, "y"])
        models = []
        if isinstance(est, Model):
            models.append(est.id)
            self.record_fit(est, X, y, node, args.deps, cv=True)
            rec = self.record(est)
            if rec is not None:
                rec["_absorbed"] = False
        if entry.get("produces") == "predict":
            return Pred(frozenset(models), args.deps)
        return self.record_metric(entry.name, node, [], args.deps, models=models)

    def role_metric(self, entry, node, args) -> Value:
        return self.record_metric(entry.name, node, args.values(), args.deps)

    # -- methods on models ------------------------------------------------------------------------------
    def model_method(self, model: Model, attr: str, node, args, recv_node) -> Value:
        rec = self.record(model)
        deps = model.deps | args.deps
        if rec is None:
            return self.generic_result(node, args, model)
        receiver = self.text(recv_node) if recv_node is not None else None
        cls = rec["class"]
        if attr in FIT_METHODS or attr in ("fit_transform", "fit_predict", "fit_resample"):
            if rec["_role"] == "statsmodel" and not args.positional and rec.get("_pending"):
                X, y, pdeps = rec["_pending"]
                self.record_fit(model, X, y, node, deps | pdeps, function=f"{cls}.fit", receiver=receiver)
                return with_deps(model, deps)
            X = args.get([0, "X"]) or args.kw("x") or args.kw("train_data") or args.kw("train_set")
            y = args.get([1, "y"]) if args.get([1, "y"]) is not None else args.kw("Y")
            if y is not None and not isinstance(y, (Data, TrainSet, Seq, Pred)) and rec["_role"] == "keras":
                y = y if isinstance(y, Data) else None
            self.record_fit(model, X, y, node, deps, function=f"{cls}.{attr}", receiver=receiver)
            if rec["_role"] == "keras":
                for k, v in self.hyperparameters(args, ("x", "y", "batch_size", "epochs"), skip=KERAS_FIT_DATA).items():
                    rec["hyperparameters"][k] = v
                return Instance("history", cls, {}, deps=deps)
            if attr == "fit_transform":
                return X.with_cols(X.cols, deps=deps) if isinstance(X, Data) else Pred(frozenset([model.id]), deps)
            if attr in ("fit_predict",):
                return Pred(frozenset([model.id]), deps)
            return with_deps(model, deps)
        if attr in PREDICT_METHODS or attr == "transform" or attr == "apply":
            self.add_site("predict", node, model.id, f"{cls}.{attr}", receiver=receiver)
            return Pred(frozenset([model.id]), deps)
        if attr in ("score", "evaluate", "evaluate_generator"):
            metric = self.record_metric(f"{cls}.{attr}", node, [], deps, models=[model.id])
            return metric
        if attr == "compile":
            rec["hyperparameters"].update(self.hyperparameters(args, ("optimizer", "loss", "metrics")))
            return Const(None)
        if attr == "set_params":
            rec["hyperparameters"].update(self.hyperparameters(args))
            return with_deps(model, deps)
        if attr in ("parameters", "named_parameters"):
            return Instance("params", attrs={"models": [model.id]}, deps=deps)
        if attr in SAME_MODEL:
            return with_deps(model, deps)
        if attr in ("add",):
            return Const(None)
        return Unknown(self.text(node), deps)

    def model_attribute(self, model: Model, attr: str, node) -> Value:
        if attr in SAME_MODEL_ATTRS:
            return model
        if attr in ("named_steps", "steps", "estimators_", "layers"):
            return model
        return Unknown(self.text(node), model.deps)

    def model_call(self, model: Model, node, args) -> Value:
        """``model(xb)``: a forward pass (torch/keras); the input is what the model trains on."""
        rec = self.record(model)
        data = next((v for v in args.positional if isinstance(v, Data)), None)
        if rec is not None and data is not None:
            if "_forward" not in rec:
                rec["_forward"] = (data, self.loops[-1].batches if self.loops else None)
        if rec is not None and not isinstance(data, Data) and args.positional and rec["_role"] == "keras":
            return with_deps(model, args.deps)  # functional API layer composition
        return Pred(frozenset([model.id]), model.deps | args.deps)

    def instance_call(self, inst: Instance, node, args) -> Value:
        if inst.kind == "loss":
            models = set()
            label = None
            for value in args.positional:
                if isinstance(value, Pred):
                    models |= value.models
                elif isinstance(value, Data):
                    label = value
            for mid in models:
                rec = self.store.models.get(mid)
                if rec is not None:
                    rec.setdefault("_loss", inst.qualname)
                    if label is not None:
                        rec.setdefault("_label", label)
            return Instance("loss_value", attrs={"models": sorted(models)}, deps=args.deps)
        if inst.kind == "transformer":
            return self.transformer_method(inst, "transform", node, args, None)
        return self.generic_result(node, args)

    def optimizer_step(self, opt: Instance, node) -> Value:
        """``optimizer.step()`` inside a loop: the models it optimizes are trained here."""
        for mid in opt.attrs.get("models", ()):
            rec = self.store.models.get(mid)
            if rec is None:
                continue
            forward = rec.get("_forward")
            X, batches = forward if forward else (None, None)
            y = rec.get("_label")
            if y is None and batches is not None:
                y = batches.label
            hyper = rec["hyperparameters"]
            hyper["optimizer"] = opt.qualname
            for k, v in opt.attrs.get("hyper", {}).items():
                hyper[k] = v
            loss = rec.get("_loss")
            if loss:
                hyper["loss"] = loss
            counts = [loop for loop in self.loops if loop.count is not None]
            epoch_loops = [loop for loop in counts if "epoch" in loop.target.lower()] or counts[:1]
            if epoch_loops:
                hyper["epochs"] = epoch_loops[0].count
            elif self.loops and self.loops[0].target:
                hyper.setdefault("epochs", None)
            for loop in self.loops:
                if loop.batches is not None:
                    for k, v in loop.batches.options:
                        hyper[k] = v
            self.record_fit(Model(mid), X, y, node, opt.deps, function=f"{opt.qualname}.step",
                            receiver=self.text(node.func.value) if isinstance(node.func, ast.Attribute) else None)
        return Const(None)

    # -- transformers and unknown objects ------------------------------------------------------------------
    def transformer_method(self, inst: Instance, attr: str, node, args, recv_node) -> Value:
        X = args.get([0, "X"])
        deps = inst.deps | args.deps
        if attr in ("fit", "partial_fit"):
            return inst
        if attr in ("fit_transform", "transform", "fit_resample", "inverse_transform"):
            if isinstance(X, Pred):
                return with_deps(X, deps)
            if attr == "fit_resample" and isinstance(X, Data):
                y = args.get([1, "y"])
                return Seq((with_deps(X, deps), with_deps(y, deps) if y is not None else Unknown()), "tuple")
            if isinstance(X, Data):
                cols = inst.attrs.get("_columns")
                new = X.with_cols(ColumnSet.of(cols) if cols else X.cols, deps=deps)
                return new
            return self.generic_result(node, args)
        if attr == "get_feature_names_out":
            return ColumnNames(ColumnSet.unknown("feature names made by a transformer"), deps)
        return self.generic_result(node, args)

    def object_method(self, inst: Instance, attr: str, node, args, recv_node) -> Value:
        """A class from a library the KB does not know: ``fit(X, y)`` on data makes it a model."""
        X = args.get([0, "X"])
        looks_transformer = any(w in inst.qualname for w in ("Scaler", "Encoder", "Imputer", "Transformer",
                                                             "Vectorizer", "Selector", "PCA", "SMOTE", "Sampler"))
        if attr in FIT_METHODS and isinstance(X, (Data, TrainSet)) and not looks_transformer:
            ctor, cargs = inst.attrs["_ctor"], inst.attrs["_args"]
            saved_target = self.assign_target
            model = Model(self.store.add_model(var=inst.attrs.get("_var"), cls=inst.qualname, pos=self.pos(ctor),
                                               hyperparameters=self.hyperparameters(cargs), cell_key=self.cell_key,
                                               role="model"))
            self.assign_target = saved_target
            if isinstance(recv_node, ast.Name):
                self.rebind(recv_node, model, node)
            return self.model_method(model, attr, node, args, recv_node)
        if attr in ("fit_transform", "transform", "fit_resample"):
            inst.kind = "transformer"
            return self.transformer_method(inst, attr, node, args, recv_node)
        return self.generic_result(node, args, inst)


class _ColumnsOf(Value):
    """A (transformer, columns) entry of a ColumnTransformer."""

    def __init__(self, estimator, columns) -> None:
        self.estimator = estimator
        self.columns = columns
        self.deps = frozenset()


def _source_order(sid: str):
    head, _, num = sid.partition(":")
    digits = "".join(ch for ch in num if ch.isdigit())
    return (head, int(digits) if digits else 0, sid)
