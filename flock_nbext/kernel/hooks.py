"""The runtime hooks object the instrumented cells call, bound in the user's namespace as `__flock__`.

Every method returns its last argument unchanged and never raises: a problem in flock becomes one
warning (per kind) and the user's value flows on. Operands (`a`) are kept per site only until that
site's call returns; what they become (records) is decided by the NotebookTracker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .tracker import NotebookTracker


class RuntimeHooks:
    """Identity functions with side effects: `a` (an operand), `fit`, `metric`, `read`, `sql` (a result)."""

    __slots__ = ("_tracker", "_operands")

    def __init__(self, tracker: NotebookTracker) -> None:
        self._tracker = tracker
        self._operands: dict[int, dict[Any, Any]] = {}

    def __repr__(self) -> str:
        return "<flock runtime hooks>"

    def a(self, site_id: int, key: Any, value: Any) -> Any:
        """An operand of the call at `site_id` (receiver, positional index or keyword name)."""
        operands = self._operands.get(site_id)
        if operands is None:
            operands = self._operands[site_id] = {}
        operands[key] = value
        return value

    def _event(self, kind: str, site_id: int, result: Any) -> Any:
        operands = self._operands.pop(site_id, None) or {}
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
