"""The analyzer: an abstract interpreter over one module or cell AST.

It walks statements in order, evaluates every expression to an abstract value (values.py),
keeps bindings in scopes, records data sources, models and metrics in the LineageStore, and
notes the call sites the kernel may instrument.  This module holds the entry point and the simple
statements; loops and branches are in control.py, assignment in assign.py, calls are dispatched by
knowledge-base role (calls.py), DataFrame operations live in frames.py, model methods in models.py.
"""

from __future__ import annotations

import ast

from .assign import AssignmentMixin
from .calls import CallMixin
from .control import ControlFlowMixin
from .exprs import ExpressionMixin
from .frame_methods import FrameMethodMixin
from .frames import FrameMixin
from .function_sites import function_sites
from .kb import KnowledgeBase
from .literals import LiteralMixin
from .models import ModelMixin
from .records import LineageStore
from .roles import RoleMixin
from .scope import Frame, Loop, Scope
from .training import TrainingMixin
from .values import Const, Data, Function, Instance, Klass, Ref

INLINE_BUDGET = 2000  # user-function bodies analysed per top-level statement


class Interpreter(ControlFlowMixin, AssignmentMixin, ExpressionMixin, CallMixin, LiteralMixin, RoleMixin, FrameMixin,
                  FrameMethodMixin, ModelMixin, TrainingMixin):
    """Analyse cells one after the other against shared state (scope, store)."""

    def __init__(self, kb: KnowledgeBase, store: LineageStore) -> None:
        self.kb = kb
        self.store = store
        self.scope = Scope()
        self.frames: list[Frame] = []
        self.loops: list[Loop] = []
        self.sites: list = []
        self.sites_elsewhere: list = []  # sites in functions other cells defined (see function_sites.py)
        self.function_sites: list = []  # calls in the bodies of functions this cell defines
        self.site_keys: set = set()
        self.cell_key = None
        self._assign_target: ast.expr | str | None = None  # see assign_target
        self.assign_value = None
        self.stmt_line = 0
        self.functions_called: set[int] = set()
        self.functions_defined: list[Function] = []
        self._unroll_depth = 0
        self.mutated: set[str] = set()
        self._rebinding = False  # a mutation is being written: the name keeps its aliases
        self.saved_models: dict = {}  # path -> model the code saved there (joblib.dump, model.save)
        self.successors: dict[str, str] = {}  # graph node of a frame -> node of its next mutated version
        self.errors: list[tuple] = []
        self.inline_budget = INLINE_BUDGET  # (cell, line, error) of statements the analyzer failed on

    # -- entry point ----------------------------------------------------------------------------
    def run(self, tree: ast.Module, cell_key) -> None:
        self.cell_key = cell_key
        self.sites = []
        self.sites_elsewhere = []
        self.function_sites = []
        self.site_keys: set = set()
        self.loops = []
        for stmt in tree.body:
            self.frames = [Frame(cell=cell_key, own_cell=True)]
            self.loops = []
            self.inline_budget = INLINE_BUDGET
            try:
                self.exec_stmt(stmt)
            except RecursionError:
                raise
            except Exception as exc:  # an analyzer bug costs one statement, not the cell
                self.errors.append((cell_key, getattr(stmt, "lineno", 0), f"{type(exc).__name__}: {exc}"))
        self.frames = [Frame(cell=cell_key, own_cell=True)]

    @property
    def assign_target(self) -> str | None:
        """The text of what the current statement assigns to (`X_train, X_test`), made when first asked."""
        target = self._assign_target
        if target is None or isinstance(target, str):
            return target
        self._assign_target = text = self.text(target)
        return text

    @assign_target.setter
    def assign_target(self, target) -> None:
        self._assign_target = target

    @property
    def frame(self) -> Frame:
        return self.frames[-1]

    def pos(self, node) -> tuple:
        """Where an item is reported: inside a user function, the top-level call of that function."""
        for frame in self.frames:
            if frame.call_pos is not None:
                return frame.call_pos
        return (self.frame.cell, getattr(node, "lineno", self.stmt_line))

    def text(self, node) -> str:
        if isinstance(node, ast.Name):  # the common cases, without unparse
            return node.id
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return f"{node.value.id}.{node.attr}"
        try:
            return ast.unparse(node)
        except Exception:  # unparse of odd nodes from other tools
            return "<expr>"

    # -- statements -----------------------------------------------------------------------------
    def exec_block(self, body) -> bool:
        """Run statements in order; True when the block certainly ends in ``return``/``raise``
        (what follows is not reached, so ``if k == "rf": return RF()`` then ``return LR()`` is one model)."""
        for stmt in body:
            if self.exec_stmt(stmt):
                return True
        return False

    def exec_stmt(self, stmt) -> bool:
        self.stmt_line = getattr(stmt, "lineno", self.stmt_line)
        handler = getattr(self, "stmt_" + type(stmt).__name__, None)
        self.assign_target = None
        self.assign_value = None
        if handler is not None:
            return bool(handler(stmt))
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.expr):
                self.ev(child)
        return False

    def stmt_Expr(self, stmt) -> None:
        self.ev(stmt.value)

    def stmt_Assign(self, stmt) -> None:
        if len(stmt.targets) == 1:
            self.assign_target = stmt.targets[0]  # its text is made only if a call asks for it
            self.assign_value = stmt.value
        value = self.ev(stmt.value)
        self.assign_target = self.assign_value = None
        for target in stmt.targets:
            self.assign(target, value, stmt)
            if isinstance(target, ast.Name) and isinstance(stmt.value, ast.Name) and isinstance(value, Data):
                self.scope.alias(target.id, stmt.value.id)  # X = df: the same frame under two names

    def stmt_AnnAssign(self, stmt) -> None:
        if stmt.value is not None:
            self.assign_target = stmt.target
            self.assign_value = stmt.value
            value = self.ev(stmt.value)
            self.assign_target = self.assign_value = None
            self.assign(stmt.target, value, stmt)

    def stmt_AugAssign(self, stmt) -> None:
        current = self.ev(stmt.target)
        value = self.binop(stmt.op, current, self.ev(stmt.value), stmt)
        self.assign(stmt.target, value, stmt)

    def stmt_Import(self, stmt) -> None:
        for alias in stmt.names:
            if alias.asname:
                self.scope.bind(alias.asname, Ref(alias.name), None)
            else:
                top = alias.name.split(".", 1)[0]
                self.scope.bind(top, Ref(top), None)

    def stmt_ImportFrom(self, stmt) -> None:
        module = ("." * stmt.level) + (stmt.module or "")
        for alias in stmt.names:
            if alias.name == "*":
                self.scope.star_imports.append(module)
            else:
                self.scope.bind(alias.asname or alias.name, Ref(f"{module}.{alias.name}"), None)

    def note_function_sites(self, definition) -> None:
        """A def or class of the cell itself: the calls in its bodies that later cells may run."""
        if len(self.frames) == 1 and self.frame.own_cell:
            self.function_sites.extend(function_sites(definition, self.scope, self.kb))

    def stmt_FunctionDef(self, stmt) -> None:
        self.note_function_sites(stmt)
        func = Function(stmt, self.scope, self.frame.cell)
        self.functions_defined.append(func)
        self.scope.bind(stmt.name, func, None)

    stmt_AsyncFunctionDef = stmt_FunctionDef

    def stmt_ClassDef(self, stmt) -> None:
        self.note_function_sites(stmt)
        bases = []
        for base in stmt.bases:
            value = self.ev(base)
            if isinstance(value, Ref):
                bases.append(self.kb.canonical(value.qualname))
            elif isinstance(value, Klass):
                bases.extend(value.bases)
        klass = Klass(stmt, self.scope, tuple(bases), self.frame.cell)
        body_scope = Scope(self.scope)
        saved = self.scope
        self.scope = body_scope
        try:
            for item in stmt.body:  # class-level constants only; methods are analysed when called
                if isinstance(item, (ast.Assign, ast.AnnAssign)):
                    self.exec_stmt(item)
        finally:
            self.scope = saved
        klass.attrs.update({k: b.value for k, b in body_scope.vars.items()})
        self.scope.bind(stmt.name, klass, None)

    def stmt_Return(self, stmt) -> bool:
        value = self.ev(stmt.value) if stmt.value is not None else Const(None)
        self.frame.returns.append(value)
        return True

    def stmt_Raise(self, stmt) -> bool:
        for child in (stmt.exc, stmt.cause):
            if child is not None:
                self.ev(child)
        return True

    def stmt_With(self, stmt) -> None:
        for item in stmt.items:
            value = self.ev(item.context_expr)
            if item.optional_vars is not None:
                if isinstance(value, Instance) and value.kind == "file":
                    value = value
                self.assign(item.optional_vars, value, stmt)
        self.exec_block(stmt.body)

    stmt_AsyncWith = stmt_With

    def stmt_Try(self, stmt) -> None:
        # handlers first: what the body binds (``import lightgbm as lgb``) wins over the fallback
        # (``except ImportError: lgb = None``), the path the code is written for
        for handler in stmt.handlers:
            self.exec_block(handler.body)
        self.exec_block(stmt.body)
        self.exec_block(stmt.orelse)
        self.exec_block(stmt.finalbody)

    stmt_TryStar = stmt_Try

    def stmt_Global(self, stmt) -> None:
        self.scope.globals_declared.update(stmt.names)

    def stmt_Delete(self, stmt) -> None:
        for target in stmt.targets:
            if isinstance(target, ast.Subscript):
                base = self.ev(target.value)
                key = self.ev(target.slice)
                if isinstance(base, Data) and isinstance(key, Const):
                    names = key.value if isinstance(key.value, (list, tuple)) else [key.value]
                    self.rebind(target.value, base.with_cols(base.cols.drop(names)), stmt)

    def stmt_Match(self, stmt) -> None:
        self.ev(stmt.subject)
        for case in stmt.cases:
            self.exec_block(case.body)
