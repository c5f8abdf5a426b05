"""Handlers for the knowledge-base roles of data: readers, frames, splits, bundles, connections."""

from __future__ import annotations

import ast
import posixpath
from dataclasses import replace

from .calls import _EXTENSION_KIND, query_file_of, source_text
from .columns import ColumnSet
from .sql import parse_query
from .values import Choice, Const, Data, Instance, Model, Pred, Seq, TrainSet, Unknown, Value, with_deps

_LABEL_NAMES = frozenset({"y", "yb", "y_batch", "target", "targets", "label", "labels", "tgt", "ys"})


def _item_name(node) -> str:
    """The name an item of a returned tuple is known by: ``self.y[i]`` -> y, ``torch.tensor(lab[i])`` -> lab."""
    while node is not None:
        if isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and not node.args:  # self.y[i].float()
                node = node.func.value
            else:
                node = node.args[0] if node.args else None
        elif isinstance(node, ast.Attribute):
            return node.attr
        elif isinstance(node, ast.Name):
            return node.id
        else:
            return ""
    return ""


def _returned_names(func: ast.AST, count: int) -> list[str]:
    """Names of the items of the tuple a function returns (its last ``return a, b, c`` of that size)."""
    names: list[str] = []
    for sub in ast.walk(func):
        if isinstance(sub, ast.Return) and isinstance(sub.value, (ast.Tuple, ast.List)) \
                and len(sub.value.elts) == count:
            names = [_item_name(e) for e in sub.value.elts]
    return names


def _label_position(names, count: int) -> int:
    """Which item of a dataset's sample is the target: named y/target/label..., else the last."""
    for i, name in enumerate(n.lower() for n in names):
        if name in _LABEL_NAMES or "label" in name or "target" in name:
            return i
    return count - 1


def _named_after(source: ColumnSet, names) -> ColumnSet:
    """``DataFrame(arr, columns=names)`` over values whose columns are known: each new name comes from
    the column in the same place (same count), else from all of them (``["pc1", "pc2"]`` of a PCA)."""
    origins = source.origin_names()
    pairwise = source.kind == "columns" and len(source.names) == len(names)
    cols = ColumnSet.of(names)
    for i, name in enumerate(names):
        cols = cols.add(name, source.origins(source.names[i]) if pairwise else origins)
    return cols


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _first_data(values):
    for value in values:
        if isinstance(value, (Data, Pred, TrainSet)):
            return value
    return None


class RoleMixin:
    """One method per data role named in the KB files (the interpreter mixes this in)."""

    def role_read(self, entry, node, args) -> Value:
        spec = entry.get("source")
        value = args.get(spec) if isinstance(spec, list) else None
        if spec == "file":  # json.load(f)
            value = args.pos(0)
        if spec == "clipboard":
            text = "clipboard"
        else:
            text = source_text(value, args.node(spec)) if value is not None else None
        if text is None:
            return self.generic_result(node, args)
        kind = entry.get("kind")
        if kind == "by_extension":
            kind = _EXTENSION_KIND.get(posixpath.splitext(text.lower().split("?")[0])[1], "other")
        columns = None
        tables: tuple = ()
        site_kind = "read"
        query_file = query_file_of(value) if kind == "sql" else None
        if query_file is not None:  # the query lives in a file read at run time: tables and columns unknown
            site_kind = "sql"
        elif kind == "sql":
            site_kind = "sql"
            schema = args.kw(entry.get("schema")) if entry.get("schema") else None
            if isinstance(schema, Const) and schema.value:
                text = f"{schema.value}.{text}"
            if entry.get("table"):
                tables = (text,)
            else:
                shape = parse_query(text)
                tables, columns = shape.tables, shape.columns
        from .frames import _names

        for key in ("names", "columns"):  # usecols= wins over names=
            col_kw = entry.get(key)
            if col_kw and args.kw(col_kw) is not None:
                wanted = _names(args.kw(col_kw))
                if wanted is not None:
                    columns = tuple(wanted)
        sid = self.store.add_source(kind=kind, source=text, tables=tables, columns=columns,
                                    var=self.var_for(node), pos=self.pos(node), cell_key=self.cell_key,
                                    query_file=query_file)
        self.add_site(site_kind, node, sid, entry.name)
        cols = ColumnSet.of(columns) if columns else ColumnSet.all()
        index = _names(args.kw("index_col")) if args.kw("index_col") is not None else None
        written = _as_list(getattr(args.kw("index_col"), "value", None))
        if index and all(isinstance(v, str) for v in written):  # index_col="id": not a data column (as set_index)
            cols = cols.drop(index)
        return Data(frozenset([sid]), cols, False, frozenset([sid]) | args.deps)

    def role_frame(self, entry, node, args) -> Value:
        from .frames import _names

        data = args.get(entry.get("data"))
        columns = args.get(entry.get("columns")) if entry.get("columns") else None
        names = _names(columns) if columns is not None else None
        if isinstance(columns, Data) or (columns is not None and hasattr(columns, "cols") and names is None):
            cols = columns.cols
            if cols.kind not in ("columns", "all_except") and isinstance(data, Data) and data.cols.origin_names():
                cols = data.cols  # DataFrame(enc.transform(X[c]), columns=enc.get_feature_names_out()): X[c]'s
        else:
            cols = ColumnSet.of(names) if names is not None else None
            if names is not None and isinstance(data, Data) and data.cols.origin_names():
                cols = _named_after(data.cols, names)
        if isinstance(data, Seq) and data.kind == "dict":
            datas = [v for v in data.items if isinstance(v, (Data, Pred))]
            if datas:
                keys = [str(k.value) for k in data.keys if isinstance(k, Const)]
                base = self.combine_values(list(data.items), axis=1, deps=args.deps)
                if isinstance(base, Data):
                    derived = {}
                    for k, v in zip(keys, data.items, strict=False):
                        if isinstance(v, Data) and v.cols.known and tuple(v.cols.names) != (k,):
                            derived[k] = v.cols.names
                    cols = ColumnSet.of(keys)
                    for k, v in derived.items():
                        cols = cols.add(k, v)
                    preds = tuple((k, v.models) for k, v in zip(keys, data.items, strict=False)
                                  if isinstance(v, Pred))  # DataFrame({"y": y, "pred": p}): a column of predictions
                    return Data(base.sources, cols, bool(entry.get("series")), args.deps, False, preds)
                return base
        if isinstance(data, (Data, Pred)):
            if isinstance(data, Pred):
                return with_deps(data, args.deps)
            return Data(data.sources, cols if cols is not None else data.cols, bool(entry.get("series")), args.deps)
        return Unknown(node=node, deps=args.deps)

    def role_concat(self, entry, node, args) -> Value:
        objs = args.get(entry.get("data"))
        if isinstance(objs, Data):  # pd.concat(read_sql(..., chunksize=n)): the chunks of one source
            return with_deps(objs, args.deps)
        items = self.seq_of(objs) if objs is not None else None
        axis = args.kw("axis")
        axis = axis.value if isinstance(axis, Const) else 0
        if items is None:
            return self.generic_result(node, args)
        return self.combine_values(items, axis=axis, deps=args.deps)

    def role_combine(self, entry, node, args) -> Value:
        objs = args.get(entry.get("data")) if entry.get("data") else None
        items = self.seq_of(objs) if objs is not None else list(args.positional)
        axis = entry.get("axis")
        if axis is None:
            value = args.get(entry.get("axis_arg"))
            axis = value.value if isinstance(value, Const) else 0
        if items is None:
            return self.generic_result(node, args)
        return self.combine_values(items, axis=axis, deps=args.deps)

    def role_merge(self, entry, node, args) -> Value:
        left, right = args.get(entry.get("left")), args.get(entry.get("right"))
        if isinstance(left, Data):
            return self.merge_values(left, right, args.deps)
        return self.generic_result(node, args)

    def role_get_dummies(self, entry, node, args) -> Value:
        data = args.get(entry.get("data"))
        if isinstance(data, Data):
            return self.dummies(data, args, args.deps)
        return self.generic_result(node, args)

    def role_passthrough(self, entry, node, args) -> Value:
        value = _first_data(args.positional) or _first_data(args.keywords.values())
        if value is None:
            first = args.pos(0)
            if isinstance(first, Const):
                return first
            return Unknown(node=node, deps=args.deps)
        if isinstance(value, Data):
            if entry.library in ("numpy", "torch", "keras"):
                value = replace(value, array=True)
            if entry.get("columns") == "unknown":
                return value.with_cols(ColumnSet.unknown(f"columns made by {entry.name}"), deps=args.deps)
            if entry.get("adds_column"):
                return value.with_cols(value.cols.add(entry.get("adds_column")), deps=args.deps)
        return with_deps(value, args.deps)

    def role_loader(self, entry, node, args) -> Value:
        sid = self.store.add_source(kind="sklearn_dataset", source=entry.name, tables=(), columns=None,
                                    var=self.var_for(node), pos=self.pos(node), cell_key=self.cell_key)
        self.add_site("read", node, sid, entry.name)
        deps = frozenset([sid]) | args.deps
        ret_xy = args.kw("return_X_y")
        if isinstance(ret_xy, Const) and ret_xy.value or entry.name.startswith("sklearn.datasets.make_"):
            X = Data(frozenset([sid]), ColumnSet("all_except", ("target",)), False, deps)
            y = Data(frozenset([sid]), ColumnSet.of(["target"]), True, deps)
            return Seq((X, y), "tuple", deps=deps)
        return Instance("bunch", entry.name, {"_source": sid}, deps=deps)

    def role_split(self, entry, node, args) -> Value:
        arrays = [a for a in args.positional]
        out = []
        for value in arrays:
            if isinstance(value, TrainSet) and entry.library == "torch":
                return Seq((value, value), "list", deps=args.deps)
            out.extend([with_deps(value, args.deps), with_deps(value, args.deps)])
        if not out:
            return Unknown(node=node, deps=args.deps)
        return Seq(tuple(out), "list", deps=args.deps)

    def role_splitter(self, entry, node, args) -> Value:
        return Instance("splitter", entry.name, {}, deps=args.deps)

    def role_dataset(self, entry, node, args) -> Value:
        features = args.get(entry.get("data"))
        label = args.get(entry.get("label"))
        items = self.seq_of(features) if label is None and features is not None else None
        if items and len(items) == 2:  # from_tensor_slices((X, y))
            features, label = items
        return TrainSet(features, label, (), args.deps)

    def role_batches(self, entry, node, args) -> Value:
        inner = args.get(entry.get("data"))
        options = tuple((k, v.value) for k, v in args.keywords.items()
                        if k in entry.get("options", ()) and isinstance(v, Const))
        if isinstance(inner, Instance) and inner.kind == "user" and inner.klass is not None:
            inner = self.dataset_items(inner, node)
        if isinstance(inner, TrainSet):
            return TrainSet(inner.features, inner.label, inner.options + options, inner.deps | args.deps,
                            inner.parts)
        if isinstance(inner, Data):
            return TrainSet(inner, None, options, args.deps)
        return TrainSet(None, None, options, args.deps)

    def dataset_items(self, dataset: Instance, node) -> Value:
        """A user ``Dataset`` class: what ``__getitem__`` returns is (features, label)."""
        from .calls import Args

        getitem = self.class_function(dataset.klass, "__getitem__")
        if getitem is None:
            return dataset
        args = Args()
        args.positional.append(Unknown("index"))
        args.pos_nodes.append(None)
        item = self.call_function(getitem, node, args, bound_self=dataset)
        if isinstance(item, Seq) and item.kind == "dict" and item.keys:  # {"x": ..., "target": ...}
            names = [str(k.value) if isinstance(k, Const) else "" for k in item.keys]
            items = list(item.items)
        else:
            items = self.seq_of(item)
            names = _returned_names(getitem.node, len(items)) if items else []
        if items and len(items) >= 2:
            at = _label_position(names, len(items))
            features = [v for i, v in enumerate(items) if i != at]
            if any(isinstance(v, Data) for v in features):  # (image, label, index): the index is no feature
                features = [v for v in features if isinstance(v, Data)]
            X = features[0] if len(features) == 1 else self.combine_values(features, axis=1, deps=item.deps)
            parts = item if len(items) > 2 or item.kind == "dict" else None
            return TrainSet(X, items[at], (), item.deps, parts)
        if isinstance(item, Data):
            return TrainSet(item, None, (), item.deps)
        return dataset

    def role_iter_wrapper(self, entry, node, args) -> Value:
        """``tqdm(loader)``, ``trange(n)``: progress bars iterate what they wrap."""
        if entry.get("range"):
            return self.call_builtin("range", node, args)
        inner = args.get(entry.get("data"))
        return inner if inner is not None else Unknown(node=node, deps=args.deps)

    def role_ipython(self, entry, node, args) -> Value:
        return Instance("ipython", "IPython", {}, deps=args.deps)

    def magic_method(self, attr: str, node, args) -> Value:
        """``%sql`` / ``%%sql`` (ipython-sql, jupysql): the query is a SQL data source."""
        name = args.pos(0)
        if attr not in ("run_line_magic", "run_cell_magic") or not (isinstance(name, Const) and name.value == "sql"):
            return Unknown(node=node, deps=args.deps)
        line = args.pos(1).value if isinstance(args.pos(1), Const) and isinstance(args.pos(1).value, str) else ""
        body = args.pos(2).value if isinstance(args.pos(2), Const) and isinstance(args.pos(2).value, str) else ""
        words, target = line.split(), None
        if "<<" in words:  # %%sql result << : the result is bound to a variable
            at = words.index("<<")
            target = words[at - 1] if at else None
            words = words[at + 1:]
        words = [w for w in words if "://" not in w and not w.startswith("-")]
        query = " ".join(words + ([body.strip()] if body.strip() else [])).strip()
        if not query:
            return Unknown(node=node, deps=args.deps)
        sid, columns = self.add_sql_source(query, node, function="IPython.magic.sql")
        data = Data(frozenset([sid]), ColumnSet.of(columns) if columns else ColumnSet.all(), False,
                    frozenset([sid]) | args.deps)
        if target and target.isidentifier():
            self.bind_name(target, data, node)
        return data

    def role_model_load(self, entry, node, args) -> Value:
        """``joblib.load(p)``, ``keras.models.load_model(p)``: the model this code saved to ``p``, if it did."""
        spec = entry.get("path")
        path = source_text(args.get(spec), args.node(spec)) if spec and args.get(spec) is not None else None
        saved = self.saved_models.get(path) if path else None
        if saved is not None:
            return with_deps(saved, args.deps)
        return Unknown(node=node, deps=args.deps)

    def role_model_save(self, entry, node, args) -> Value:
        """``joblib.dump(model, p)``: remembered, so a later load of ``p`` is that model."""
        self.remember_saved(args.get(entry.get("model")), args.get(entry.get("path")), args.node(entry.get("path")))
        return Const(None)

    def remember_saved(self, model, path_value, path_node) -> None:
        path = source_text(path_value, path_node) if path_value is not None else None
        if path and isinstance(model, (Model, Choice)):
            self.saved_models[path] = model

    def role_same_object(self, entry, node, args) -> Value:
        """``clone(model)``, ``copy.deepcopy(x)``: the same model (or value) until it is fitted elsewhere."""
        first = args.pos(0)
        return with_deps(first, args.deps) if first is not None else Unknown(node=node, deps=args.deps)

    def role_dataset_loader(self, entry, node, args) -> Value:
        """Packaged datasets (keras.datasets.mnist.load_data(), torchvision MNIST): a source of X and y."""
        sid = self.store.add_source(kind=entry.get("kind", "other"), source=entry.name, tables=(), columns=None,
                                    var=self.var_for(node), pos=self.pos(node), cell_key=self.cell_key)
        self.add_site("read", node, sid, entry.name)
        deps = frozenset([sid]) | args.deps
        X = Data(frozenset([sid]), ColumnSet("all_except", ("target",)), False, deps, True)
        y = Data(frozenset([sid]), ColumnSet.of(["target"]), True, deps, True)
        if entry.get("splits"):
            pair = Seq((X, y), "tuple", deps=deps)
            return Seq((pair, pair), "tuple", deps=deps)
        return TrainSet(X, y, (), deps)

    def role_connect(self, entry, node, args) -> Value:
        return Instance("connection", entry.name.rsplit(".", 1)[0], {"dialect": entry.get("dialect")},
                        deps=args.deps)

    def role_sql_text(self, entry, node, args) -> Value:
        value = args.get(entry.get("text"))
        return value if value is not None else Unknown(node=node, deps=args.deps)

    def role_opaque(self, entry, node, args) -> Value:
        return Unknown(node=node, deps=args.deps)

    role_torch_base = role_opaque

    def role_path_join(self, entry, node, args) -> Value:
        parts = []
        known = True
        for value, arg in zip(args.positional, args.pos_nodes, strict=False):
            if isinstance(value, Const) and isinstance(value.value, str):
                parts.append(value.value)
            else:
                known = False
                parts.append(value.text if isinstance(value, Unknown) and value.text and "{" in value.text
                             else "{" + self.text(arg) + "}")
        if not parts:
            return Unknown(node=node, deps=args.deps)
        joined = posixpath.join(*parts)
        return Const(joined, args.deps) if known else Unknown(joined, args.deps)

    def role_path(self, entry, node, args) -> Value:
        if not args.positional:
            return Const(".", args.deps)
        return self.role_path_join(entry, node, args)
