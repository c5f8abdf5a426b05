"""The versioned JSON contracts flock ships: lineage (flock.lineage/1) and the panel comm protocol."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The parsed JSON Schema `<name>.schema.json` shipped in this package."""
    text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    return json.loads(text)
