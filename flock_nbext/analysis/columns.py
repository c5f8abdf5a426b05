"""ColumnSet: what the code tells us about which columns a value holds.

A value derived from a data source carries one of four shapes of knowledge about its columns:
an explicit list, "all columns of the source except ...", a positional selection recorded as
written (``df.iloc[:, :-1]``), or unknown with the reason.  Columns the code made itself
(``assign``, ``df["new"] = ...``, ``get_dummies``) remember the source columns they came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COLUMNS = "columns"
ALL_EXCEPT = "all_except"
POSITIONAL = "positional"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class ColumnSet:
    """Immutable knowledge of a value's columns; operations return new sets."""

    kind: str = ALL_EXCEPT
    names: tuple[str, ...] = ()
    text: str = ""
    derived: tuple[tuple[str, tuple[str, ...]], ...] = field(default=(), compare=False)

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def all(cls) -> ColumnSet:
        """Every column of the source (nothing removed yet)."""
        return cls(ALL_EXCEPT)

    @classmethod
    def of(cls, names) -> ColumnSet:
        return cls(COLUMNS, tuple(dict.fromkeys(str(n) for n in names)))

    @classmethod
    def positional(cls, text: str) -> ColumnSet:
        return cls(POSITIONAL, (), text)

    @classmethod
    def unknown(cls, why: str) -> ColumnSet:
        return cls(UNKNOWN, (), why)

    # -- queries ------------------------------------------------------------------------------
    @property
    def known(self) -> bool:
        return self.kind == COLUMNS

    def derived_map(self) -> dict[str, tuple[str, ...]]:
        return dict(self.derived)

    def _with_derived(self, other: ColumnSet, extra=()) -> ColumnSet:
        merged = dict(self.derived)
        merged.update(dict(extra))
        keep = merged if other.kind != COLUMNS else {k: v for k, v in merged.items() if k in other.names}
        return ColumnSet(other.kind, other.names, other.text, tuple(keep.items()))

    # -- operations ---------------------------------------------------------------------------
    def select(self, names) -> ColumnSet:
        """``df[[a, b]]``: exactly these columns, in the order written."""
        return self._with_derived(ColumnSet.of(names))

    def drop(self, names) -> ColumnSet:
        """``df.drop(columns=[...])``, ``del df[c]``, ``df.pop(c)``."""
        names = [str(n) for n in names]
        if self.kind == COLUMNS:
            return self._with_derived(ColumnSet.of([n for n in self.names if n not in names]))
        if self.kind == ALL_EXCEPT:
            return self._with_derived(ColumnSet(ALL_EXCEPT, tuple(dict.fromkeys(self.names + tuple(names)))))
        return self

    def add(self, name: str, from_columns=()) -> ColumnSet:
        """``df[name] = expr`` / ``assign(name=expr)``: a column made from ``from_columns``."""
        name = str(name)
        extra = ((name, tuple(dict.fromkeys(str(c) for c in from_columns))),) if from_columns else ()
        if self.kind == COLUMNS:
            names = self.names if name in self.names else self.names + (name,)
            return self._with_derived(ColumnSet(COLUMNS, names), extra)
        if self.kind == ALL_EXCEPT:
            names = tuple(n for n in self.names if n != name)
            return self._with_derived(ColumnSet(ALL_EXCEPT, names), extra)
        return self._with_derived(self, extra)

    def rename(self, mapping: dict) -> ColumnSet:
        mapping = {str(k): str(v) for k, v in mapping.items()}
        extra = tuple((new, (old,)) for old, new in mapping.items())
        if self.kind == COLUMNS:
            return self._with_derived(ColumnSet.of([mapping.get(n, n) for n in self.names]), extra)
        if self.kind == ALL_EXCEPT:
            return self._with_derived(ColumnSet(ALL_EXCEPT, tuple(mapping.get(n, n) for n in self.names)), extra)
        return self

    def union(self, other: ColumnSet) -> ColumnSet:
        """Columns side by side (``concat(axis=1)``, ``merge``, ``hstack``)."""
        if self.kind == COLUMNS and other.kind == COLUMNS:
            out = ColumnSet.of(self.names + other.names)
        elif self.kind == ALL_EXCEPT and other.kind in (ALL_EXCEPT, COLUMNS):
            out = ColumnSet(ALL_EXCEPT, tuple(n for n in self.names if n not in other.names))
        elif other.kind == ALL_EXCEPT and self.kind == COLUMNS:
            out = ColumnSet(ALL_EXCEPT, tuple(n for n in other.names if n not in self.names))
        else:
            out = ColumnSet.unknown("columns combined from several values")
        return self._with_derived(out, other.derived)

    def to_features(self) -> dict:
        """The lineage-JSON ``features`` object."""
        if self.kind == COLUMNS:
            out: dict = {"columns": list(self.names)}
        elif self.kind == ALL_EXCEPT:
            out = {"all_except": list(self.names)}
        elif self.kind == POSITIONAL:
            out = {"positional": self.text}
        else:
            out = {"unknown": self.text or "not determined by the code"}
        if self.derived:
            out["derived_from"] = {k: list(v) for k, v in self.derived}
        return out

    def to_label(self):
        """The lineage-JSON ``label``: one column name, a positional selection, or None."""
        if self.kind == COLUMNS and len(self.names) == 1:
            return self.names[0]
        if self.kind == COLUMNS and self.names:
            return {"columns": list(self.names)}
        if self.kind == POSITIONAL:
            return {"positional": self.text}
        return None
