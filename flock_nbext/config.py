"""One frozen settings object, built from defaults < config file < environment < `%flock` magic.

Config file: TOML at `$FLOCK_CONFIG`, else `~/.config/flock/config.toml`, with a `[flock]` table
whose keys are the field names below. Environment variables are `FLOCK_<FIELD>` in upper case
(e.g. `FLOCK_EXPERIMENT`, `FLOCK_INPUT_EXAMPLE=0`). A bad value is a ConfigError naming it.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclasses.dataclass(frozen=True)
class Settings:
    """What flock does in this kernel; replace() makes a changed copy."""

    enabled: bool = True
    """Instrument cells and log runs (`%flock on|off`)."""
    tracking_uri: str | None = None
    """MLflow tracking URI; None keeps MLflow's own default (MLFLOW_TRACKING_URI or ./mlflow.db)."""
    experiment: str | None = None
    """Experiment name; None means the notebook's path, else `default_experiment`."""
    default_experiment: str = "flock"
    log_models: bool = True
    """Log each trained model in its native MLflow flavor."""
    input_example: bool = True
    """Log a small input example and signature with models (off for confidential data)."""
    input_example_rows: int = 5
    spool_dir: str = str(Path("~/.cache/flock/spool").expanduser())
    """Where events wait (JSON lines) while the tracking store is unreachable."""
    flush_interval_ms: int = 200
    """How long the recorder gathers events before one batched write."""

    def replace(self, **changes: Any) -> Settings:
        return _validated(dataclasses.replace(self, **changes))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_FIELDS = {f.name: f for f in dataclasses.fields(Settings)}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def coerce(name: str, raw: Any) -> Any:
    """Turn a raw setting (string from env/magic, or TOML value) into the field's type."""
    if name not in _FIELDS:
        raise ConfigError(f"unknown flock setting {name!r}; known: {', '.join(sorted(_FIELDS))}")
    default = _FIELDS[name].default
    if isinstance(default, bool):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ConfigError(f"flock setting {name} expects on/off, got {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigError(f"flock setting {name} expects an integer, got {raw!r}") from None
    if raw is None or (isinstance(raw, str) and raw.strip() == "" and default is None):
        return None
    return str(raw)


def _validated(settings: Settings) -> Settings:
    if settings.input_example_rows < 1:
        raise ConfigError("flock setting input_example_rows must be at least 1")
    if settings.flush_interval_ms < 0:
        raise ConfigError("flock setting flush_interval_ms must not be negative")
    return settings


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("FLOCK_CONFIG"):
        return Path(env["FLOCK_CONFIG"]).expanduser()
    return Path("~/.config/flock/config.toml").expanduser()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Defaults, then the config file, then FLOCK_* environment variables."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    path = config_path(env)
    if path.is_file():
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8")).get("flock", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"flock config file {path} is not valid TOML: {exc}") from None
        if not isinstance(table, dict):
            raise ConfigError(f"flock config file {path}: [flock] must be a table")
        for key, raw in table.items():
            values[key] = coerce(key, raw)
    for name in _FIELDS:
        key = f"FLOCK_{name.upper()}"
        if key in env:
            values[name] = coerce(name, env[key])
    return _validated(Settings(**values))
