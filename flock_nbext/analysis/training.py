"""Training sites, predictions and metrics.

One model entry per training site: a ``fit`` call, ``lgb.train``/``xgb.train``,
``cross_val_score``/``cross_validate``, a statsmodels ``.fit()``, a torch loop's
``optimizer.step()``, a Keras ``fit``.  Fitting an already-trained estimator at another site
makes a new entry (the variable then names the new one).
"""

from __future__ import annotations

import ast
from dataclasses import replace

from .columns import ColumnSet
from .models import to_json_value
from .values import (
    Choice,
    ColumnNames,
    Const,
    Data,
    Instance,
    Metric,
    Model,
    Pred,
    Seq,
    TrainSet,
    Unknown,
    Value,
    data_in,
    with_deps,
)

FIT_METHODS = {"fit", "fit_generator", "partial_fit"}
PREDICT_METHODS = {"predict", "predict_proba", "predict_log_proba", "decision_function", "score_samples",
                   "forecast", "get_prediction", "predict_classes", "get_forecast", "kneighbors", "staged_predict",
                   "staged_predict_proba", "predict_on_batch", "transform", "apply", "inverse_transform"}
SAME_MODEL = {"train", "eval", "to", "cuda", "cpu", "double", "float", "half", "requires_grad_", "get_booster",
              "set_output"}
SAME_MODEL_ATTRS = {"booster_", "estimator_", "_final_estimator", "model", "regressor_", "classifier_",
                    "named_steps", "steps", "estimators_", "layers", "module"}
KERAS_FIT_EXCLUDED = {"x", "y", "validation_data", "callbacks"}
_TRANSFORMER_WORDS = ("Scaler", "Encoder", "Imputer", "Transformer", "Vectorizer", "Selector", "PCA", "SMOTE",
                      "Sampler", "Normalizer", "Binarizer", "Discretizer")


def _source_order(sid: str):
    head, _, num = sid.partition(":")
    digits = "".join(ch for ch in num if ch.isdigit())
    return (head, int(digits) if digits else 0, sid)


class TrainingMixin:
    """Fits, predictions and metrics (the interpreter mixes this in)."""

    # -- records ----------------------------------------------------------------------------------
    def _clone(self, rec: dict) -> dict:
        rid = self.store.add_model(var=rec["var"], cls=rec["class"], pos=rec["_pos"],
                                   hyperparameters=dict(rec["hyperparameters"]), cell_key=self.cell_key,
                                   role=rec["_role"])
        new = self.store.models[rid]
        for key in ("steps", "estimator", "estimators", "_inner_id", "_pending", "_var_top"):
            if key in rec:
                new[key] = rec[key]
        self.store.link(self.store.graph.predecessors(rec["id"]), rid)
        return new

    def record_fit(self, model: Model, X: Value | None, y: Value | None, node, deps, *, function=None,
                   receiver=None, cv=False, var=None) -> Model:
        """Training happens here: set (or, for a model trained elsewhere already, copy) its record."""
        rec = self.record(model)
        if rec is None:
            return model
        site = self.pos(node)
        if model.inner is not None and model.inner in self.store.models:
            rec = self._clone(self.store.models[model.inner])
        elif rec["_fitted"] and rec["_fit_pos"] != site:
            rec = self._clone(rec)
        if isinstance(X, TrainSet):
            X, y = X.features, (y if y is not None else X.label)
        if isinstance(X, Seq) and any(isinstance(i, Data) for i in X.items):  # model.fit([X_num, X_text], y)
            X = self.combine_values(list(X.items), axis=1, deps=X.deps)
        sources = []
        for value in (X, y):
            for item in data_in(value) if value is not None else ():
                if isinstance(item, Data):
                    sources.extend(sorted(item.sources, key=_source_order))
                elif isinstance(item, Pred):  # stacking: predictions of other models as features
                    for mid in sorted(item.models):
                        made_by = self.store.models.get(mid)
                        if made_by is not None:
                            sources.extend(made_by["training_data"]["sources"])
        if isinstance(X, Pred) and isinstance(X.inputs, Data):  # stacking: made from what the models saw
            features = X.inputs.cols.to_features()
        elif isinstance(X, Data):
            features = X.cols.to_features()
        else:
            features = {"unknown": "features are not values read from a data source" if X is not None
                        else "no features passed"}
        label = y.cols.to_label() if isinstance(y, Data) else None
        rec["training_data"] = {"sources": list(dict.fromkeys(sources)), "features": features, "label": label}
        rec["_fitted"] = True
        rec["_absorbed"] = False
        rec["_fit_pos"] = site
        top = len(self.frames) == 1
        if var is not None:
            rec["var"] = var
        elif receiver and receiver.isidentifier() and not (not top and rec.get("_var_top")):
            rec["var"] = receiver
            rec["_var_top"] = top
        elif rec["var"] is None and self.var_for(node):
            rec["var"] = self.var_for(node)
        self.store.link(deps, rec["id"])
        self.store.touch("models", rec["id"])
        if not cv:
            self.add_site("fit", node, rec["id"], function or f"{rec['class']}.fit", receiver=receiver)
        return Model(rec["id"], frozenset([rec["id"]]))

    def record_metric(self, function: str, node, args_values, deps, *, models=()) -> Metric:
        found = list(models)
        for value in args_values:
            for item in data_in(value):
                if isinstance(item, Pred):
                    found.extend(sorted(item.models))
                elif isinstance(item, Metric) and item.id in self.store.metrics:  # auc(*roc_curve(y, p)[:2])
                    found.extend(self.store.metrics[item.id]["models"])
                elif isinstance(item, Data) and item.preds and item.cols.known:
                    for column, models in item.preds:  # a frame column holding predictions
                        if column in item.cols.names:
                            found.extend(sorted(models))
                elif isinstance(item, Model) and not found:
                    found.append(item.id)
        found = list(dict.fromkeys(found))
        rid = self.store.add_metric(function=function, var=self.var_for(node) or self.assign_target,
                                    pos=self.pos(node), models=found, cell_key=self.cell_key)
        self.store.link(deps, rid)
        self.add_site("metric", node, rid, function, models=found)
        return Metric(rid, deps | {rid})

    # -- training functions ---------------------------------------------------------------------------
    def role_train(self, entry, node, args, *, cv=False) -> Value:
        params_spec, data_spec = entry.get("params"), entry.get("data")
        params = args.get(params_spec)
        hyper = {}
        if params is not None:
            value = to_json_value(params, args.node(params_spec), self.text)
            hyper.update(value if isinstance(value, dict) else {"params": value})
        positions = {int(k): v for k, v in entry.get("option_positions", {}).items()}
        for i, value in enumerate(args.positional):
            if i in positions and isinstance(value, Const):
                hyper[positions[i]] = to_json_value(value, args.pos_nodes[i], self.text)
        for name, value in args.keywords.items():
            if name in (params_spec[1], data_spec[1]):
                continue
            if isinstance(value, Const) and not isinstance(value.value, (list, dict, tuple)):
                hyper[name] = to_json_value(value, args.kw_nodes.get(name), self.text)
        model = self.new_model(entry.get("class"), node, hyper, "booster", args.deps)
        return self.record_fit(model, args.get(data_spec), None, node, args.deps, function=entry.name, cv=cv)

    def role_cv_train(self, entry, node, args) -> Value:
        """``lgb.cv`` / ``xgb.cv``: boosters trained on the folds (one model entry, ``cross_validated``);
        what they return is the metric history of that model."""
        model = self.role_train(entry, node, args, cv=True)
        self.store.models[model.id]["cross_validated"] = True
        return self.record_metric(entry.name, node, [], args.deps, models=[model.id])

    def role_cv_eval(self, entry, node, args) -> Value:
        est = args.get([0, "estimator"])
        X, y = args.get([1, "X"]), args.get([2, "y"])
        models = []
        for option in (est.options if isinstance(est, Choice) else (est,)):
            if isinstance(option, Model):
                trained = self.record_fit(option, X, y, node, args.deps, cv=True,
                                          receiver=self.text(args.node([0, "estimator"])))
                models.append(trained.id)
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
            return self.fit_method(model, rec, attr, node, args, recv_node, receiver, deps)
        if attr in PREDICT_METHODS:
            self.add_site("predict", node, model.id, f"{cls}.{attr}", receiver=receiver)
            X = args.get([0, "X"])
            return Pred(frozenset([model.id]), deps, X if isinstance(X, Data) else None)
        if attr in ("score", "evaluate", "evaluate_generator"):
            function = "keras.Model.evaluate" if rec["_role"] == "keras" and attr != "score" else f"{cls}.{attr}"
            return self.record_metric(function, node, [], deps, models=[model.id])
        if attr == "compile":
            rec["hyperparameters"].update(self.hyperparameters(args, ("optimizer", "loss", "metrics")))
            return Const(None)
        if attr in ("save", "save_model") and args.positional:  # model.save("m.keras"): loadable later
            self.remember_saved(model, args.pos(0), args.pos_nodes[0])
            return Const(None)
        if attr == "set_params":
            rec["hyperparameters"].update(self.hyperparameters(args))
            return with_deps(model, deps)
        if attr in ("parameters", "named_parameters"):
            return Instance("params", attrs={"models": [model.id], "named": attr == "named_parameters"}, deps=deps)
        if attr in SAME_MODEL:
            return with_deps(model, deps)
        return Unknown(node=node, deps=deps)

    def fit_method(self, model, rec, attr, node, args, recv_node, receiver, deps) -> Value:
        cls = rec["class"]
        if rec["_role"] == "statsmodel" and not args.positional and rec.get("_pending"):
            X, y, pending_deps = rec["_pending"]
            trained = self.record_fit(model, X, y, node, deps | pending_deps, function=f"{cls}.fit",
                                      receiver=receiver if receiver and receiver.isidentifier() else None)
            return with_deps(trained, deps)
        X = args.get([0, "X"]) or args.kw("x") or args.kw("train_data") or args.kw("train_set")
        y = args.get([1, "y"])
        trained = self.record_fit(model, X, y, node, deps, function=f"{cls}.{attr}", receiver=receiver)
        if trained.id != model.id and isinstance(recv_node, ast.Name):
            self.rebind(recv_node, trained, node)
        if rec["_role"] == "keras":
            new = self.store.models[trained.id]["hyperparameters"]
            new.update(self.hyperparameters(args, keywords_only=True, skip=KERAS_FIT_EXCLUDED))
            return Instance("history", cls, {}, deps=deps)
        inputs = X if isinstance(X, Data) else None
        if attr == "fit_transform":
            return with_deps(X, deps) if isinstance(X, Data) else Pred(frozenset([trained.id]), deps)
        if attr == "fit_predict":
            return Pred(frozenset([trained.id]), deps, inputs)
        return with_deps(trained, deps)

    def model_attribute(self, model: Model, attr: str, node) -> Value:
        if attr in ("best_estimator_", "best_estimator"):
            rec = self.record(model)
            return Model(model.id, model.deps, inner=rec.get("_inner_id") if rec else None)
        if attr in SAME_MODEL_ATTRS:
            return model
        if attr in ("labels_", "oof_prediction_", "oob_prediction_", "oob_decision_function_", "fittedvalues",
                    "resid", "predicted_labels_"):
            return Pred(frozenset([model.id]), model.deps)
        return Unknown(node=node, deps=model.deps)

    def model_call(self, model: Model, node, args) -> Value:
        """``model(xb)``: a forward pass (torch/keras); its input is what the model trains on."""
        rec = self.record(model)
        datas = [v for v in args.positional if isinstance(v, Data)]
        data = datas[0] if len(datas) == 1 else (self.combine_values(datas, axis=1) if datas else None)
        if rec is not None and data is not None and "_forward" not in rec:
            rec["_forward"] = data
        if rec is not None and data is None and args.positional and rec["_role"] == "keras":
            return with_deps(model, args.deps)  # functional API composition
        return Pred(frozenset([model.id]), model.deps | args.deps)

    def instance_call(self, inst: Instance, node, args) -> Value:
        if inst.kind == "loss":
            models, label = set(), None
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
        models = []
        for mid in opt.attrs.get("models", ()):
            rec = self.store.models.get(mid)
            if rec is None:
                continue
            X = rec.get("_forward")
            y = rec.get("_label")
            batches = next((loop.batches for loop in self.loops if loop.batches is not None), None)
            if X is None and batches is not None:
                X = batches.features
            if y is None and batches is not None:
                y = batches.label
            trained = self.record_fit(Model(mid), X, y, node, opt.deps, function=f"{opt.qualname}.step",
                                      receiver=None)
            hyper = self.store.models[trained.id]["hyperparameters"]
            hyper["optimizer"] = opt.qualname
            hyper.update(opt.attrs.get("hyper", {}))
            counts = [loop for loop in self.loops if loop.count is not None]
            epoch_loops = [loop for loop in counts if "epoch" in loop.target.lower()] or counts[:1]
            if epoch_loops:
                hyper["epochs"] = epoch_loops[0].count
            if rec.get("_loss"):
                hyper["loss"] = rec["_loss"]
            if batches is not None:
                hyper.update(dict(batches.options))
            models.append(trained.id)
        opt.attrs["models"] = models
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
                return replace(with_deps(X, deps), array=True)
            return self.generic_result(node, args)
        if attr == "get_feature_names_out":
            return ColumnNames(ColumnSet.unknown("feature names made by a transformer"), deps)
        return self.generic_result(node, args)

    def object_method(self, inst: Instance, attr: str, node, args, recv_node) -> Value:
        """A class from a library the KB does not know: ``fit(X, y)`` on data makes it a model."""
        X = args.get([0, "X"])
        if attr == "fit" and isinstance(X, Model):  # pl.Trainer(...).fit(model, loader): the trainer trains it
            data = args.get([1, "train_dataloaders"]) or args.kw("train_dataloader") or args.kw("datamodule")
            trained = self.record_fit(X, data, None, node, args.deps | inst.deps, function=f"{inst.qualname}.fit",
                                      receiver=self.text(args.pos_nodes[0]) if args.pos_nodes else None)
            ctor_args = inst.attrs.get("_args")
            if ctor_args is not None:
                self.store.models[trained.id]["hyperparameters"].update(
                    self.hyperparameters(ctor_args, keywords_only=True))
            return Const(None)
        ctor_args = inst.attrs.get("_args")
        inner = ctor_args.kw("model") if ctor_args is not None else None
        if attr == "train" and not args.positional and isinstance(inner, (Model, Instance)):
            return self.trainer_train(inst, inner, node, args)  # transformers.Trainer(model=..., ...).train()
        looks_transformer = any(w in inst.qualname for w in _TRANSFORMER_WORDS)
        supervised = args.get([1, "y"]) is not None
        if attr in FIT_METHODS and (isinstance(X, (Data, TrainSet)) or supervised) and not looks_transformer:
            model = self.promote(inst, recv_node, node)
            return self.model_method(model, attr, node, args, recv_node)
        if attr in ("fit_transform", "transform", "fit_resample"):
            inst.kind = "transformer"
            return self.transformer_method(inst, attr, node, args, recv_node)
        if attr in SAME_MODEL:  # Net(...).to(device)
            return inst
        if attr in ("parameters", "named_parameters"):  # its weights go to an optimizer: a network we train
            model = self.promote(inst, recv_node, node)
            return Instance("params", attrs={"models": [model.id], "named": attr == "named_parameters"},
                            deps=inst.deps)
        return self.generic_result(node, args, inst)

    def trainer_train(self, trainer: Instance, inner, node, args) -> Value:
        """A trainer object built around a model and a dataset trains that model where ``train()`` is called."""
        ctor_args = trainer.attrs["_args"]
        model = inner if isinstance(inner, Model) else self.promote(inner, None, node)
        data = ctor_args.kw("train_dataset") or ctor_args.kw("train_data")
        trained = self.record_fit(model, data, None, node, args.deps | trainer.deps,
                                  function=f"{trainer.qualname}.train")
        hyper = self.store.models[trained.id]["hyperparameters"]
        options = ctor_args.kw("args")
        if isinstance(options, Instance) and options.attrs.get("_args") is not None:  # TrainingArguments(...)
            hyper.update(self.hyperparameters(options.attrs["_args"], keywords_only=True, skip={"output_dir"}))
        return Unknown(node=node, deps=args.deps)

    def promote(self, inst: Instance, recv_node, node) -> Model:
        """An object of an unknown class turns out to be a model: give it a record (once)."""
        if "_model" in inst.attrs:
            return inst.attrs["_model"]
        ctor, ctor_args = inst.attrs.get("_ctor", node), inst.attrs.get("_args")
        hyper = inst.attrs.get("_hyper")
        if hyper is None:
            hyper = self.hyperparameters(ctor_args, keywords_only=True) if ctor_args is not None else {}
        rid = self.store.add_model(var=inst.attrs.get("_var"), cls=inst.qualname, pos=self.pos(ctor),
                                   hyperparameters=dict(hyper), cell_key=self.cell_key, role="model")
        model = Model(rid, frozenset([rid]))
        inst.attrs["_model"] = model
        if isinstance(recv_node, ast.Name):
            self.rebind(recv_node, model, node)
        return model
