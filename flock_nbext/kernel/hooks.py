"""The runtime hooks object the instrumented cells call, bound in the user's namespace as `__flock__`.

Every method returns its last argument unchanged and never raises: a problem in flock becomes one
warning (per kind) and the user's value flows on. Operands (`a`) are kept per site only until that
site's call returns; what they become (records) is decided by the NotebookTracker.
"""

from __future__ import annotations

from threading import get_ident
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .tracker import NotebookTracker


class RuntimeHooks:
    """Identity functions with side effects: `a` (an operand), `fit`, `metric`, `read`, `sql` (a result)."""

    __slots__ = ("_tracker", "_operands")

    def __init__(self, tracker: NotebookTracker) -> None:
        self._tracker = tracker
        self._operands: dict[tuple[int, int], dict[Any, Any]] = {}

    def __repr__(self) -> str:
        return "<flock runtime hooks>"

    def __reduce__(self) -> tuple:
        """Pickled along with a cell's function (joblib/loky, multiprocessing): an inert stand-in."""
        return (DetachedHooks, ())

    def a(self, site_id: int, key: Any, value: Any) -> Any:
        """An operand of the call at `site_id` (receiver, positional index or keyword name)."""
        slot = (site_id, get_ident())  # per thread: the same site may run in several threads at once
        operands = self._operands.get(slot)
        if operands is None:
            operands = self._operands[slot] = {}
        operands[key] = value
        return value

    def _event(self, kind: str, site_id: int, result: Any) -> Any:
        operands = self._operands.pop((site_id, get_ident()), None) or {}
        try:
            self._tracker.on_site(kind, site_id, operands, result)
        except Exception as exc:  # the user's value flows on whatever happens here
            self._tracker.warn_once(f"hook-{kind}", f"could not record a {kind} ({type(exc).__name__}: {exc})")
        return result

    def fit(self, site_id: int, result: Any) -> Any:
        return self._event("fit", site_id, result)

    def metric(self, site_id: int, result: Any) -> Any:
        return self._event("metric", site_id, result)

    def read(self, site_id: int, result: Any) -> Any:
        return self._event("read", site_id, result)

    def sql(self, site_id: int, result: Any) -> Any:
        return self._event("sql", site_id, result)

    def forget_operands(self) -> None:
        """Drop operands of calls that raised before their hook ran (end of each cell)."""
        self._operands.clear()


class DetachedHooks:
    """The hooks in another process (a cell's function sent to a worker): every call is the identity."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<flock runtime hooks (detached)>"

    def a(self, site_id: int, key: Any, value: Any) -> Any:
        return value

    def fit(self, site_id: int, result: Any) -> Any:
        return result

    metric = read = sql = fit

    def forget_operands(self) -> None:
        pass
