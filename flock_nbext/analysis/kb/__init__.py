"""The knowledge base of ML library APIs: one JSON data file per library, loaded into a registry.

Each entry says what a call means (its *role*: a data source, a model constructor, a metric, a
split carrying rows through, ...) and where its arguments are.  Adding a library is adding a
file; the analyzer only knows roles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ...errors import AnalysisError

ROLES = frozenset({
    "read", "frame", "concat", "merge", "get_dummies", "passthrough", "combine", "estimator", "metric",
    "loader", "split", "splitter", "cv_eval", "train", "cv_train", "dataset", "batches", "model_load",
    "formula_model", "torch_base", "torch_model", "optimizer", "loss", "keras_model", "connect",
    "sql_text", "opaque", "path_join", "path", "dataset_loader", "ipython", "iter_wrapper", "same_object",
    "model_save",
})


class KnowledgeBaseError(AnalysisError):
    """A knowledge-base file is inconsistent (duplicate entry, unknown role)."""


@dataclass(frozen=True)
class Entry:
    """What one fully-qualified API name means."""

    name: str
    library: str
    role: str
    spec: dict = field(compare=False, repr=False)

    def get(self, key, default=None):
        return self.spec.get(key, default)


class KnowledgeBase:
    """Registry of entries by canonical qualified name, with module aliases and short-name fallback."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._aliases: dict[str, str] = {}
        self._short: dict[tuple[str, str], str | None] = {}
        self._short_libraries: set[str] = set()
        self.frame_methods: dict[str, str] = {}
        self.frame_attributes: dict[str, str] = {}
        self.connection_methods: dict[str, str] = {}

    def register(self, name: str, library: str, spec: dict) -> Entry:
        if name in self._entries:
            raise KnowledgeBaseError(f"knowledge base: {name} is declared twice "
                                     f"({self._entries[name].library} and {library})")
        role = spec.get("role")
        if role not in ROLES:
            raise KnowledgeBaseError(f"knowledge base: {name} has unknown role {role!r}; known: {sorted(ROLES)}")
        entry = Entry(name, library, role, spec)
        self._entries[name] = entry
        key = (name.split(".", 1)[0], name.rsplit(".", 1)[-1])
        self._short[key] = None if key in self._short and self._short[key] != name else name
        return entry

    def register_alias(self, prefix: str, target: str) -> None:
        if self._aliases.get(prefix, target) != target:
            raise KnowledgeBaseError(f"knowledge base: alias {prefix} declared twice")
        self._aliases[prefix] = target

    def load_file(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        library = data["library"]
        for prefix, target in data.get("aliases", {}).items():
            self.register_alias(prefix, target)
        for name, spec in data["entries"].items():
            self.register(name, library, spec)
        if data.get("short_names"):
            self._short_libraries.add(data["short_names"])
        for table in ("frame_methods", "frame_attributes", "connection_methods"):
            getattr(self, table).update(data.get(table, {}))

    def canonical(self, qualname: str) -> str:
        """Rewrite aliased module prefixes (``tensorflow.keras.`` -> ``keras.``), longest first."""
        for _ in range(4):
            parts = qualname.split(".")
            for i in range(len(parts) - 1, 0, -1):
                target = self._aliases.get(".".join(parts[:i]))
                if target is not None:
                    qualname = ".".join([target, *parts[i:]])
                    break
            else:
                return qualname
        return qualname

    def lookup(self, qualname: str) -> Entry | None:
        name = self.canonical(qualname)
        entry = self._entries.get(name)
        if entry is not None:
            return entry
        top, _, rest = name.partition(".")
        if rest and top in self._short_libraries:  # sklearn.linear_model.logistic.LogisticRegression
            full = self._short.get((top, name.rsplit(".", 1)[-1]))
            return self._entries.get(full) if full else None
        return None

    def names_under(self, module: str) -> dict[str, str]:
        """Short name -> qualified name of every entry directly in ``module`` (for ``import *``)."""
        module = self.canonical(module)
        return {n[len(module) + 1:]: n for n in self._entries
                if n.startswith(module + ".") and "." not in n[len(module) + 1:]}

    def names(self) -> list[str]:
        """Every registered qualified name."""
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


@lru_cache(maxsize=1)
def default_kb() -> KnowledgeBase:
    """The knowledge base built from every data file shipped in this folder (loaded once)."""
    kb = KnowledgeBase()
    for path in sorted(Path(__file__).parent.glob("*.json")):
        kb.load_file(path)
    return kb
