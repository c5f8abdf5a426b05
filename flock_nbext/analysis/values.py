"""Abstract values: what the analyzer knows about each expression of the user's code.

The interpreter evaluates every expression to one of these.  They are small immutable records;
``Data`` is the heart: a value derived from data sources, with its columns (a ColumnSet).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .columns import ColumnSet


def evolve(value, **changes):
    """A copy of a (frozen dataclass) value with some fields changed; cheaper than dataclasses.replace
    on the analyzer's hot path, where values are re-stamped with new graph dependencies."""
    new = object.__new__(type(value))
    new.__dict__.update(value.__dict__)
    new.__dict__.update(changes)
    return new


class Value:
    """Base of every abstract value."""

    deps: frozenset = frozenset()  # graph nodes this value flows from


@dataclass(frozen=True, eq=False)
class Unknown(Value):
    """Nothing useful is known (an unknown library, a computed value).

    ``text`` is what the code wrote; given as ``node`` it is unparsed only when asked for.
    """

    label: str = ""
    deps: frozenset = frozenset()
    node: object = None

    @property
    def text(self) -> str:
        if self.label or self.node is None:
            return self.label
        import ast

        try:
            return ast.unparse(self.node)
        except Exception:  # odd nodes from other tools
            return "<expr>"


@dataclass(frozen=True, eq=False)
class Const(Value):
    """A Python literal the code determines (constants propagated)."""

    value: object
    deps: frozenset = frozenset()


@dataclass(frozen=True, eq=False)
class Ref(Value):
    """A module, function or class reached through imports: its fully-qualified name."""

    qualname: str
    deps: frozenset = frozenset()


@dataclass(frozen=True, eq=False)
class Data(Value):
    """Rows and columns derived from data sources: a DataFrame, Series, array or tensor."""

    sources: frozenset = frozenset()
    cols: ColumnSet = field(default_factory=ColumnSet.all)
    series: bool = False
    deps: frozenset = frozenset()
    array: bool = False  # a numpy array or tensor: [i] selects rows, not a column
    preds: tuple = ()  # (column, model ids) for columns holding predictions
    accessor: bool = False  # s.str / s.dt / s.cat: methods work element-wise on the same column

    def with_cols(self, cols: ColumnSet, *, series: bool | None = None, deps=None) -> Data:
        return evolve(self, cols=cols, series=self.series if series is None else series,
                       deps=self.deps if deps is None else deps)


@dataclass(frozen=True, eq=False)
class ColumnNames(Value):
    """``df.columns`` and lists built from it: a ColumnSet used as a selector."""

    cols: ColumnSet
    deps: frozenset = frozenset()


@dataclass(frozen=True, eq=False)
class Model(Value):
    """An estimator, booster or network: the id of its lineage record.

    ``inner`` is set for ``search.best_estimator_``: predictions belong to the search, a new fit
    trains the estimator the search wraps.
    """

    id: str
    deps: frozenset = frozenset()
    inner: str | None = None


@dataclass(frozen=True, eq=False)
class Choice(Value):
    """One of several models, chosen by a condition the code does not determine
    (``if cfg.model == "rf": model = RF() else: model = LR()``): a fit trains each of them."""

    options: tuple  # Model values, distinct ids
    deps: frozenset = frozenset()

    @staticmethod
    def of(*values) -> Value | None:
        """The choice among model values, or None when they are not all models."""
        options = []
        for value in values:
            items = value.options if isinstance(value, Choice) else (value,)
            if not all(isinstance(i, Model) for i in items):
                return None
            options.extend(i for i in items if all(i.id != o.id for o in options))
        if len(options) < 2:
            return options[0] if options else None
        return Choice(tuple(options), frozenset().union(*(v.deps for v in values)))


@dataclass(frozen=True, eq=False)
class Pred(Value):
    """Predictions (or scores) made by one or more models."""

    models: frozenset
    deps: frozenset = frozenset()
    inputs: object = None  # the Data the models predicted on, when one (a column made from it keeps its origins)


@dataclass(frozen=True, eq=False)
class Metric(Value):
    """The value of a metric computation (its record id)."""

    id: str
    deps: frozenset = frozenset()


@dataclass(frozen=True, eq=False)
class Seq(Value):
    """A list, tuple or dict literal whose items are known (dict: ``keys`` parallel to ``items``)."""

    items: tuple
    kind: str = "list"
    keys: tuple | None = None
    deps: frozenset = frozenset()


@dataclass(frozen=True, eq=False)
class TrainSet(Value):
    """Features and labels bundled for training (lgb.Dataset, DMatrix, Pool, TensorDataset, DataLoader)."""

    features: Value | None
    label: Value | None
    options: tuple = ()
    deps: frozenset = frozenset()
    parts: Value | None = None  # one sample when it is more than (features, label): (cat, cont, y), a dict


@dataclass(frozen=True, eq=False)
class Function(Value):
    """A function the user defined, analysed at each call with the call's arguments."""

    node: ast.AST
    scope: object
    cell: int | None = None
    deps: frozenset = frozenset()


@dataclass(frozen=True, eq=False)
class Klass(Value):
    """A class the user defined; ``bases`` are the qualified names of its bases."""

    node: ast.ClassDef
    scope: object
    bases: tuple = ()
    cell: int | None = None
    deps: frozenset = frozenset()
    attrs: dict = field(default_factory=dict, compare=False)  # class-level constants (class CFG: lr = 0.01)


@dataclass(eq=False)
class Instance(Value):
    """An object of a user class or of a known helper (splitter, connection, cursor, optimizer)."""

    kind: str
    qualname: str = ""
    attrs: dict = field(default_factory=dict)
    klass: Klass | None = None
    deps: frozenset = frozenset()


@dataclass(frozen=True, eq=False)
class Bound(Value):
    """``obj.method`` looked up but not yet called."""

    receiver: Value
    attr: str
    text: str = ""
    deps: frozenset = frozenset()


def with_deps(value: Value, deps) -> Value:
    """The same value flowing from more graph nodes."""
    deps = frozenset(deps)
    if not deps or deps <= value.deps:
        return value
    if isinstance(value, Instance):
        return value
    return evolve(value, deps=value.deps | deps)


def data_in(value: Value):
    """Every Data, Pred and Model value inside ``value`` (through Seq and TrainSet)."""
    if isinstance(value, Seq):
        for item in value.items:
            yield from data_in(item)
    elif isinstance(value, TrainSet):
        for item in (value.features, value.label):
            if item is not None:
                yield from data_in(item)
    else:
        yield value


def const_of(value: Value, default=None):
    return value.value if isinstance(value, Const) else default


def make_seq(items, kind="list", keys=None, deps=frozenset()) -> Value:
    """A literal: Const when every item is a constant, else Seq."""
    items = tuple(items)
    if all(isinstance(i, Const) for i in items) and (keys is None or all(isinstance(k, Const) for k in keys)):
        if kind == "dict":
            try:
                return Const({k.value: v.value for k, v in zip(keys, items, strict=False)}, deps)
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
