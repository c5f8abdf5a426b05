"""Calls on plain Python values: builtins, string/list/dict methods, lists of column names.

Constants stay constants through these (``sorted``, ``str.format``, ``list.append``), so
hyperparameters, paths, queries and column lists written this way are still resolved.
"""

from __future__ import annotations

import posixpath
import re

from .calls import Args, file_text, source_text
from .columns import ColumnSet
from .values import Choice, ColumnNames, Const, Instance, Seq, Unknown, Value, make_seq, seq_items, with_deps


class LiteralMixin:
    """Builtins and methods of literals (the interpreter mixes this in)."""

    def call_builtin(self, name: str, node, args: Args) -> Value:
        first = args.pos(0)
        if name in ("list", "tuple") and isinstance(first, Instance) and first.kind == "range" \
                and first.attrs.get("count") is not None and first.attrs["count"] <= 10_000:
            bounds = [a.value for a in first.attrs.get("_args", ())]
            if bounds:
                return Const(list(range(*bounds)), first.deps)
        if name in ("list", "tuple", "sorted", "set", "frozenset", "iter", "reversed") and first is not None:
            if isinstance(first, Const) and isinstance(first.value, (list, tuple, set, dict, str)):
                value = first.value
                if name == "sorted":
                    try:
                        value = sorted(value)
                    except TypeError:
                        pass
                return Const(list(value) if name != "tuple" else tuple(value), first.deps)
            return first
        if name == "range":
            count = None
            bounds = [a.value for a in args.positional if isinstance(a, Const)]
            if len(bounds) == len(args.positional) and bounds and all(isinstance(b, int) for b in bounds):
                count = len(range(*bounds))
            return Instance("range", attrs={"count": count, "_text": self.text(node),
                                            "_args": tuple(args.positional) if count is not None else ()},
                            deps=args.deps)
        if name == "enumerate" and first is not None:
            items = self.seq_of(first)
            if items is not None:
                return Seq(tuple(Seq((Const(i), v), "tuple") for i, v in enumerate(items)), "list", deps=args.deps)
            return Instance("enumerate", attrs={"of": first}, deps=args.deps)
        if name == "zip":
            lists = [self.seq_of(a) for a in args.positional]
            if lists and all(items is not None for items in lists):
                return Seq(tuple(Seq(tuple(group), "tuple") for group in zip(*lists, strict=False)), "list", deps=args.deps)
            return Instance("zip", attrs={"of": list(args.positional)}, deps=args.deps)
        if name == "dict":
            keys = [Const(k) for k in args.keywords]
            pairs = [self.seq_of(item) for item in self.seq_of(first) or ()] if isinstance(first, Seq) else None
            if pairs and all(p is not None and len(p) == 2 for p in pairs) and not args.keywords:
                return make_seq([p[1] for p in pairs], "dict", [p[0] for p in pairs], args.deps)  # dict(pairs)
            if isinstance(first, (Seq, Const)) and not args.keywords:
                return first
            return make_seq(list(args.keywords.values()), "dict", keys, args.deps)
        if name in ("str", "int", "float", "bool") and isinstance(first, Const):
            try:
                return Const({"str": str, "int": int, "float": float, "bool": bool}[name](first.value), first.deps)
            except (TypeError, ValueError):
                return Unknown(node=node, deps=args.deps)
        if name == "open":
            return Instance("file", attrs={"_path": source_text(first, args.node([0, "file"])) if first else None},
                            deps=args.deps)
        if name == "next" and first is not None:
            return self.element_of(first, node)
        if name in ("print", "len", "isinstance", "type", "repr", "hasattr", "id", "display"):
            return Unknown(node=node, deps=args.deps)
        if name in ("max", "min") and isinstance(first, Seq) and len(args.positional) == 1:
            choice = Choice.of(*first.items)  # max(models, key=score): the best one, any of them
            if choice is not None:
                return with_deps(choice, args.deps)
        if name in ("max", "min", "sum", "abs", "round", "float", "int"):
            return self.generic_result(node, args)
        if name == "super":
            return Unknown("super", args.deps)
        return self.generic_result(node, args)

    def seq_of(self, value):
        return seq_items(value)

    def column_names_method(self, names: ColumnNames, attr, node, args: Args, recv_node) -> Value:
        from .frames import _names

        if attr in ("drop", "difference"):
            dropped = _names(args.pos(0) or Const(None))
            if dropped is not None:
                return ColumnNames(names.cols.drop(dropped), names.deps)
        if attr in ("tolist", "to_list", "copy", "to_numpy", "unique"):
            return names
        if attr == "remove" and recv_node is not None:
            dropped = _names(args.pos(0) or Const(None))
            if dropped is not None:
                self.rebind(recv_node, ColumnNames(names.cols.drop(dropped), names.deps), node)
            return Const(None)
        if attr in ("append", "extend", "union") :
            added = _names(args.pos(0) or Const(None))
            if added is not None:
                new = ColumnNames(names.cols.union(ColumnSet.of(added)), names.deps)
                if attr == "union":
                    return new
                self.rebind(recv_node, new, node)
            return Const(None)
        return ColumnNames(ColumnSet.unknown(f"columns chosen by {self.text(node)}"), names.deps)

    def const_method(self, recv: Const, attr, node, args: Args, recv_node) -> Value:
        value = recv.value
        if isinstance(value, str):
            if attr in ("format", "join", "replace", "strip", "lower", "upper", "rstrip", "lstrip") and \
                    all(isinstance(a, Const) for a in args.values()):
                try:
                    result = getattr(value, attr)(*[a.value for a in args.positional],
                                                  **{k: v.value for k, v in args.keywords.items()})
                    return Const(result, recv.deps | args.deps)
                except Exception:  # the user's own format string does not fit its arguments
                    return Unknown(node=node, deps=args.deps)
            if attr == "format":
                return Unknown(re.sub(r"\{[^{}]*\}", "{?}", value), recv.deps | args.deps)
            if attr == "read_text":  # Path("q.sql").read_text(): the file's text
                return file_text(value, recv.deps | args.deps)
            if attr in ("joinpath",) and all(isinstance(a, Const) for a in args.positional):
                return Const(posixpath.join(value, *[str(a.value) for a in args.positional]), recv.deps)
            return Unknown(node=node, deps=recv.deps | args.deps)
        if isinstance(value, list) and recv_node is not None:
            new = list(value)
            try:
                if attr == "append" and isinstance(args.pos(0), Const):
                    new.append(args.pos(0).value)
                elif attr == "extend" and isinstance(args.pos(0), Const):
                    new.extend(args.pos(0).value)
                elif attr == "remove" and isinstance(args.pos(0), Const):
                    new.remove(args.pos(0).value)
                elif attr == "insert" and isinstance(args.pos(1), Const):
                    new.insert(args.pos(0).value, args.pos(1).value)
                elif attr in ("append", "extend", "insert"):
                    item = args.pos(1) if attr == "insert" else args.pos(0)
                    items = [Const(v) for v in value] + ([item] if attr != "extend" else list(self.seq_of(item) or []))
                    self.rebind(recv_node, Seq(tuple(items), "list"), node)
                    return Const(None)
                elif attr in ("copy",):
                    return recv
                else:
                    return Unknown(node=node, deps=recv.deps)
            except (ValueError, TypeError, AttributeError):
                return Unknown(node=node, deps=recv.deps)
            self.rebind(recv_node, Const(new), node)
            return Const(None)
        if isinstance(value, dict):
            if attr == "items":
                return Const([(k, v) for k, v in value.items()], recv.deps)
            if attr in ("keys", "values", "copy"):
                return Const(list(getattr(value, attr)()) if attr != "copy" else dict(value), recv.deps)
            if attr == "get" and isinstance(args.pos(0), Const):
                found = value.get(args.pos(0).value)
                return Const(found) if found is not None else (args.pos(1) or Const(None))
            if attr == "update" and recv_node is not None and isinstance(args.pos(0), Const) and \
                    isinstance(args.pos(0).value, dict):
                new = dict(value)
                new.update(args.pos(0).value)
                new.update({k: v.value for k, v in args.keywords.items() if isinstance(v, Const)})
                self.rebind(recv_node, Const(new), node)
                return Const(None)
            if attr == "update" and recv_node is not None and args.keywords:
                new = dict(value)
                new.update({k: v.value for k, v in args.keywords.items() if isinstance(v, Const)})
                self.rebind(recv_node, Const(new), node)
                return Const(None)
        return Unknown(node=node, deps=recv.deps | args.deps)

    def seq_method(self, recv: Seq, attr, node, args: Args, recv_node) -> Value:
        if recv.kind == "dict":
            if attr == "items":
                return Seq(tuple(Seq((k, v), "tuple") for k, v in zip(recv.keys, recv.items, strict=False)), "list", deps=recv.deps)
            if attr == "values":
                return Seq(recv.items, "list", deps=recv.deps)
            if attr == "keys":
                return Seq(recv.keys, "list", deps=recv.deps)
            if attr == "get" and isinstance(args.pos(0), Const):
                for k, v in zip(recv.keys, recv.items, strict=False):
                    if isinstance(k, Const) and k.value == args.pos(0).value:
                        return v
                return args.pos(1) or Const(None)
        if attr in ("append", "extend", "insert") and recv_node is not None:
            item = args.pos(1) if attr == "insert" else args.pos(0)
            added = list(self.seq_of(item) or []) if attr == "extend" else [item]
            self.rebind(recv_node, Seq(recv.items + tuple(added), recv.kind, deps=recv.deps), node)
            return Const(None)
        if attr == "copy":
            return recv
        return self.generic_result(node, args, recv)
