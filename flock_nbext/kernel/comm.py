"""The `flock` comm target: the side panel asks, the kernel answers (schema: schemas/comm.schema.json).

Malformed or unknown messages get an error reply naming the problem; nothing here raises into
the kernel. In a terminal IPython there is no kernel, so the panel parts stay inactive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .extension import FlockExtension

TARGET = "flock"
Handler = Callable[[dict[str, Any]], dict[str, Any]]


class PanelComm:
    """Owns the comm target registration and the open comms of one extension."""

    def __init__(self, extension: FlockExtension) -> None:
        self.extension = extension
        self.comms: list[Any] = []
        self.handlers: dict[str, Handler] = {"status": lambda _msg: extension.status()}

    def register_handler(self, kind: str, handler: Handler) -> None:
        """Answer requests of `kind` with `handler(request) -> payload` (added by later features)."""
        if kind in self.handlers and kind != "status":
            raise ValueError(f"a comm handler for {kind!r} is already registered")
        self.handlers[kind] = handler

    @property
    def _manager(self) -> Any:
        kernel = getattr(self.extension.shell, "kernel", None)
        return getattr(kernel, "comm_manager", None)

    def register(self) -> bool:
        manager = self._manager
        if manager is None:
            return False
        manager.register_target(TARGET, self._on_open)
        return True

    def unregister(self) -> None:
        manager = self._manager
        if manager is not None:
            manager.unregister_target(TARGET, self._on_open)
        for comm in self.comms:
            try:
                comm.close()
            except Exception:  # a comm the frontend already closed
                pass
        self.comms.clear()

    def push(self, message: dict[str, Any]) -> None:
        """Send an unsolicited message (no id), e.g. {"type": "lineage_updated"}, to every open comm."""
        for comm in list(self.comms):
            try:
                comm.send(message)
            except Exception:  # a comm the frontend closed without telling us
                self.comms.remove(comm)

    def _on_open(self, comm: Any, open_msg: dict) -> None:
        self.comms.append(comm)
        comm.on_msg(lambda msg: self._on_msg(comm, msg))
        comm.on_close(lambda _msg: self.comms.remove(comm) if comm in self.comms else None)
        data = open_msg.get("content", {}).get("data") or {}
        if data:
            self._reply(comm, data)

    def _on_msg(self, comm: Any, msg: dict) -> None:
        self._reply(comm, msg.get("content", {}).get("data"))

    def _reply(self, comm: Any, data: Any) -> None:
        try:
            comm.send(self.answer(data))
        except Exception as exc:  # a closed comm or an unserialisable payload
            self.extension.warn_once("comm", f"could not answer the side panel: {exc}")

    def answer(self, data: Any) -> dict[str, Any]:
        """The reply to one request (pure apart from the handlers)."""
        request_id = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
        problem = validate_request(data)
        if problem:
            return {"id": request_id, "type": "error", "error": problem}
        handler = self.handlers.get(data["type"])
        if handler is None:
            return {"id": request_id, "type": "error",
                    "error": f"{data['type']!r} is not available in this kernel's flock"}
        try:
            payload = handler(data)
        except Exception as exc:
            from ..redaction import redact

            return {"id": request_id, "type": "error", "error": redact(f"{type(exc).__name__}: {exc}")}
        return {"type": data["type"], **payload, "id": request_id}


def validate_request(data: Any) -> str | None:
    """None when `data` is a valid request, else a one-line description of what is wrong."""
    import jsonschema

    from ..schemas import load_schema

    schema = load_schema("comm")
    request_schema = {**schema["$defs"]["request"], "$defs": schema["$defs"]}
    errors = sorted(jsonschema.Draft202012Validator(request_schema).iter_errors(data), key=lambda e: e.path)
    if not errors:
        return None
    err = errors[0]
    where = "/".join(str(p) for p in err.path) or "message"
    return f"invalid flock comm request ({where}: {err.message})"
