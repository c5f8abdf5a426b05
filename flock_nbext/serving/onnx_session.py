"""ONNX Runtime sessions for serving converted models (batch scoring, the CLI, the magics).

Tiny on purpose: `make_session(model, threads=None)` opens a CPU InferenceSession on a ModelProto,
its bytes or a file path; `run(session, X)` scores float32 rows and returns every output by name.
"""

from __future__ import annotations

from ..conversion.runtime import make_session, run

__all__ = ["make_session", "run"]
