"""Name bindings: one Scope per module or analysed function call, chained to the enclosing one."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field

from .values import Value

BUILTIN_NAMES = frozenset(dir(builtins))


@dataclass
class Binding:
    value: Value
    node: str | None  # graph node of this version of the variable


class Scope:
    """Variables of one module or function activation; lookups fall through to ``parent``."""

    def __init__(self, parent: Scope | None = None, *, function: bool = False) -> None:
        self.vars: dict[str, Binding] = {}
        self.parent = parent
        self.function = function
        self.star_imports: list[str] = []
        self.globals_declared: set[str] = set()
        self.aliases: dict[str, set[str]] = {}  # names bound to the same mutable frame (df2 = df)
        self.param_callers: dict[str, str] = {}  # parameter -> the caller's variable it was given
        self.mutated_params: set[str] = set()  # parameters whose frame the function mutated

    def module(self) -> Scope:
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def lookup(self, name: str) -> Binding | None:
        scope = self
        while scope is not None:
            found = scope.vars.get(name)
            if found is not None:
                return found
            scope = scope.parent
        return None

    def bind(self, name: str, value: Value, node: str | None) -> None:
        target = self.module() if name in self.globals_declared else self
        target.vars[name] = Binding(value, node)

    def alias(self, name: str, other: str) -> None:
        """``name = other``: both names now refer to one object; mutating one changes the other."""
        self.unalias(name)
        group = self.aliases.setdefault(other, {other})
        group.add(name)
        self.aliases[name] = group

    def unalias(self, name: str) -> None:
        group = self.aliases.pop(name, None)
        if group is not None:
            group.discard(name)

    def aliases_of(self, name: str) -> list[str]:
        return sorted(n for n in self.aliases.get(name, ()) if n != name)

    def star_modules(self) -> list[str]:
        out: list[str] = []
        scope = self
        while scope is not None:
            out.extend(scope.star_imports)
            scope = scope.parent
        return out


@dataclass
class Frame:
    """One activation being analysed: the cell its code lives in, its returns, its loops."""

    cell: object
    own_cell: bool
    returns: list = field(default_factory=list)
    function: object = None
    call_pos: tuple | None = None


@dataclass
class Loop:
    """An enclosing ``for``: what it iterates (``range(n)`` count, batches of a DataLoader)."""

    target: str
    count: object = None
    batches: object = None
    line: int = 0

