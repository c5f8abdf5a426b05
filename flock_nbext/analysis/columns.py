"""ColumnSet: what the code tells us about which columns a value holds.

A value derived from data sources carries one of four shapes of knowledge about its columns:
an explicit list, "all columns of the source except ...", a positional selection recorded as
written (``df.iloc[:, :-1]``), or unknown with the reason.  Columns the code made itself
(``assign``, ``df["new"] = a + b``, ``rename``, ``get_dummies``) remember the source columns they
came from, so features and labels are reported in the sources' own column names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COLUMNS = "columns"
ALL_EXCEPT = "all_except"
POSITIONAL = "positional"
UNKNOWN = "unknown"

# derived entries: (column name, source columns it came from, made by a rename?)
Derived = tuple[tuple[str, tuple[str, ...], bool], ...]


def _uniq(items) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


@dataclass(frozen=True)
class ColumnSet:
    """Immutable knowledge of a value's columns; operations return new sets."""

    kind: str = ALL_EXCEPT
    names: tuple[str, ...] = ()
    text: str = ""
    derived: Derived = field(default=(), compare=False)

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def all(cls) -> ColumnSet:
        """Every column of the source (nothing removed yet)."""
        return cls(ALL_EXCEPT)

    @classmethod
    def of(cls, names) -> ColumnSet:
        return cls(COLUMNS, _uniq(str(n) for n in names))

    @classmethod
    def positional(cls, text: str) -> ColumnSet:
        return cls(POSITIONAL, (), text)

    def positional_within(self, text: str) -> ColumnSet:
        """A positional selection (``a[:, 0]``) of this set: which columns is not known, but when this set
        names its columns, the selection is made from (some of) them, which a column built from it keeps."""
        return ColumnSet(POSITIONAL, tuple(self.source_names()) if self.kind == COLUMNS else (), text)

    def origin_names(self) -> list[str]:
        """Source columns a value built from this set comes from: named ones, or those a positional
        selection was made within; [] when not named."""
        return self.source_names() if self.kind in (COLUMNS, POSITIONAL) else []

    @classmethod
    def unknown(cls, why: str) -> ColumnSet:
        return cls(UNKNOWN, (), why)

    # -- queries ------------------------------------------------------------------------------
    @property
    def known(self) -> bool:
        return self.kind == COLUMNS

    def _derived(self) -> dict[str, tuple[tuple[str, ...], bool]]:
        return {name: (origins, rename) for name, origins, rename in self.derived}

    def origins(self, name: str) -> tuple[str, ...]:
        """The source columns a column name stands for (itself when not made by the code)."""
        derived = self._derived()
        found = derived.get(name)
        if found is None:  # get_dummies makes "c_*": any "c_<value>" comes from c
            found = next((v for k, v in derived.items() if k.endswith("*") and name.startswith(k[:-1])), None)
        return found[0] if found else (name,)

    def _make(self, kind, names, derived: dict, text="") -> ColumnSet:
        if kind == COLUMNS:
            kept = {}
            for name in names:
                found = derived.get(name)
                if found is None:  # "ch_web" named explicitly after get_dummies(prefix="ch")
                    found = next((v for k, v in derived.items() if k.endswith("*") and name.startswith(k[:-1])), None)
                if found is not None:
                    kept[name] = found
            kept.update({k: v for k, v in derived.items() if k.endswith("*") and k not in kept})
            derived = kept
        elif kind not in (ALL_EXCEPT,):
            derived = {}
        return ColumnSet(kind, tuple(names), text, tuple((k, v[0], v[1]) for k, v in derived.items()))

    # -- operations ---------------------------------------------------------------------------
    def select(self, names) -> ColumnSet:
        """``df[[a, b]]``: exactly these columns, in the order written."""
        return self._make(COLUMNS, _uniq(str(n) for n in names), self._derived())

    def drop(self, names) -> ColumnSet:
        """``df.drop(columns=[...])``, ``del df[c]``, ``df.pop(c)``."""
        names = [str(n) for n in names]
        derived = self._derived()
        if self.kind == COLUMNS:
            return self._make(COLUMNS, [n for n in self.names if n not in names], derived)
        if self.kind == ALL_EXCEPT:
            excluded = list(self.names)
            for name in names:
                made = derived.pop(name, None)
                if made is None:
                    excluded.append(name)
                elif made[1]:  # dropping a renamed column drops its source column
                    excluded.extend(made[0])
            return self._make(ALL_EXCEPT, _uniq(excluded), derived)
        return self

    def add(self, name: str, from_columns=()) -> ColumnSet:
        """``df[name] = expr`` / ``assign(name=expr)``: a column made from ``from_columns``."""
        name = str(name)
        derived = self._derived()
        origins = _uniq(o for c in from_columns for o in self.origins(str(c)))
        if origins and origins != (name,):
            derived[name] = (origins, False)
        else:
            derived.pop(name, None)
        if self.kind == COLUMNS:
            names = self.names if name in self.names else self.names + (name,)
            return self._make(COLUMNS, names, derived)
        if self.kind == ALL_EXCEPT:
            return self._make(ALL_EXCEPT, tuple(n for n in self.names if n != name), derived)
        return self

    def rename(self, mapping: dict) -> ColumnSet:
        mapping = {str(k): str(v) for k, v in mapping.items()}
        derived = self._derived()
        for old, new in mapping.items():
            previous = derived.pop(old, None)
            derived[new] = (previous[0], previous[1]) if previous else ((old,), True)
        if self.kind == COLUMNS:
            return self._make(COLUMNS, [mapping.get(n, n) for n in self.names], derived)
        if self.kind == ALL_EXCEPT:
            return self._make(ALL_EXCEPT, self.names, derived)
        return self

    def union(self, other: ColumnSet) -> ColumnSet:
        """Columns side by side (``concat(axis=1)``, ``merge``, ``hstack``)."""
        derived = {**self._derived(), **other._derived()}
        if self.kind == COLUMNS and other.kind == COLUMNS:
            return self._make(COLUMNS, _uniq(self.names + other.names), derived)
        if self.kind == ALL_EXCEPT and other.kind in (ALL_EXCEPT, COLUMNS):
            keep = set(other.names) if other.kind == COLUMNS else set()
            excluded = [n for n in self.names if n not in keep]
            if other.kind == ALL_EXCEPT:
                excluded += list(other.names)
            return self._make(ALL_EXCEPT, _uniq(excluded), derived)
        if other.kind == ALL_EXCEPT and self.kind == COLUMNS:
            return self._make(ALL_EXCEPT, tuple(n for n in other.names if n not in self.names), derived)
        return ColumnSet.unknown("columns combined from several values")

    # -- lineage JSON -------------------------------------------------------------------------
    def source_names(self) -> list[str]:
        return list(_uniq(o for n in self.names for o in self.origins(n)))

    def to_features(self) -> dict:
        """The lineage-JSON ``features`` object, in the sources' own column names."""
        if self.kind == COLUMNS:
            return {"columns": self.source_names()}
        if self.kind == ALL_EXCEPT:
            feeding = {o for _, origins, _ in self.derived for o in origins}
            return {"all_except": [n for n in self.names if n not in feeding]}
        if self.kind == POSITIONAL:
            return {"positional": self.text}
        return {"unknown": self.text or "not determined by the code"}

    def to_label(self):
        """The lineage-JSON ``label``: one column name, a positional selection, or None."""
        if self.kind == COLUMNS and self.names:
            names = self.source_names()
            return names[0] if len(names) == 1 else {"columns": names}
        if self.kind == POSITIONAL:
            return {"positional": self.text}
        return None
