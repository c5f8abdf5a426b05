"""MLflow artifact repository that keeps artifacts in a relational database.

Registered (pyproject entry points, group `mlflow.artifact_repository`) for the schemes `mssql`,
`postgresql`, `mysql` and `sqlite` with their `+driver` forms, so an experiment created with
`artifact_location="postgresql://ml@db:5432/mlflow"` logs and loads models, and `mlflow artifacts
download`, `mlflow models serve` and the tracking server's artifact proxy read them back. The bytes
live in flock's tables (see `db_schema`), written and read by `db_store.ArtifactStore`.

Give the location without a password: MLflow stores it with the experiment. The password comes from
FLOCK_DB_PASSWORD, the driver's own mechanisms (PGPASSWORD, ~/.pgpass) or an ODBC DSN.
"""

from __future__ import annotations

import os
import re
import warnings


def __getattr__(name: str):
    """While MLflow builds its artifact registry from entry points, this module may be half imported
    (it imported mlflow first): hand the registry a factory that builds the real class on first use,
    so MLflow registers us without its "Failure attempting to register" warning. Replaced by the
    class itself at the end of the module (`_register_late`)."""
    if name == "DatabaseArtifactRepository":
        return _late_repository
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _late_repository(*args, **kwargs):
    return globals()["DatabaseArtifactRepository"](*args, **kwargs)


from mlflow.entities import FileInfo  # noqa: E402  (after __getattr__: see its docstring)
from mlflow.exceptions import MlflowException  # noqa: E402
from mlflow.protos.databricks_pb2 import RESOURCE_DOES_NOT_EXIST  # noqa: E402
from mlflow.store.artifact import artifact_repository_registry  # noqa: E402
from mlflow.store.artifact.artifact_repo import ArtifactRepository  # noqa: E402

from ..redaction import redact_uri  # noqa: E402
from .db_store import ArtifactStore, connect  # noqa: E402
from .db_urls import join, normalize_path  # noqa: E402

_RUN = re.compile(r"(?:^|/)([0-9a-f]{32})/artifacts(?:/|$)")
_MODEL = re.compile(r"(?:^|/)models/(m-[0-9a-f]{32})/artifacts(?:/|$)")
_warned_passwords: set[str] = set()


class DatabaseArtifactRepository(ArtifactRepository):
    """Artifacts of one MLflow run, logged model or experiment, stored as chunked rows in a database."""

    def __init__(self, artifact_uri: str, tracking_uri: str | None = None,
                 registry_uri: str | None = None) -> None:
        super().__init__(artifact_uri, tracking_uri, registry_uri)
        self.store: ArtifactStore = connect(artifact_uri, check_schema=False)
        self.root = self.store.location.root
        if _has_password(artifact_uri):
            _warn_password_in_uri(artifact_uri)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({redact_uri(self.artifact_uri)!r} in {self.store.display})"

    # ------------------------------------------------------------------ writing
    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        name = os.path.basename(local_file)
        key = self._key(join(normalize_path(artifact_path, allow_empty=True), name))
        self.store.put(local_file, key, **_owners(key))

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        base = normalize_path(artifact_path, allow_empty=True)
        for dirpath, _dirnames, filenames in os.walk(local_dir):
            rel_dir = os.path.relpath(dirpath, local_dir)
            rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/")
            for filename in sorted(filenames):
                key = self._key(join(base, rel_dir, filename))
                self.store.put(os.path.join(dirpath, filename), key, **_owners(key))

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        self.store.delete(self._key(normalize_path(artifact_path, allow_empty=True)))

    # ------------------------------------------------------------------ reading
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        rel = normalize_path(path, allow_empty=True)
        listing = self.store.list(self._key(rel))
        infos = [FileInfo(join(rel, name), True, None) for name in listing.folders]
        infos += [FileInfo(join(rel, f.path.rsplit("/", 1)[-1]), False, f.size) for f in listing.files]
        return sorted(infos, key=lambda info: info.path)

    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        if self.store.get(self._key(normalize_path(remote_file_path)), local_path) is None:
            raise MlflowException(f"no artifact {remote_file_path!r} under {redact_uri(self.artifact_uri)}",
                                  error_code=RESOURCE_DOES_NOT_EXIST)

    def _is_directory(self, artifact_path: str) -> bool:
        return bool(self.list_artifacts(artifact_path))

    def _key(self, rel: str) -> str:
        return join(self.root, rel)


def _owners(key: str) -> dict[str, str | None]:
    """The MLflow run and logged model a stored file belongs to, read from its path."""
    run = _RUN.search(key)
    model = _MODEL.search(key)
    run_id = run.group(1) if run else None
    if run_id is None and model is not None:
        import mlflow

        active = mlflow.active_run()
        run_id = active.info.run_id if active else None
    return {"run_id": run_id, "model_id": model.group(1) if model else None}


def _has_password(uri: str) -> bool:
    from urllib.parse import urlsplit

    try:
        return urlsplit(uri).password is not None
    except ValueError:
        return False


def _warn_password_in_uri(uri: str) -> None:
    shown = redact_uri(uri.split("/", 3)[0] + "//" + uri.split("/", 3)[2]) if uri.count("/") >= 2 else "?"
    if shown not in _warned_passwords:
        _warned_passwords.add(shown)
        warnings.warn(f"the artifact location {shown} carries a password, which MLflow stores with the "
                      "experiment; give it through FLOCK_DB_PASSWORD, PGPASSWORD or an ODBC DSN instead",
                      stacklevel=3)


def _register_late() -> None:
    """Register our entry points when MLflow could not (it was first imported by this very module).

    When MLflow imports us from its own entry-point loop, the registry module is still half
    initialised; its registry object already exists then, and registering twice is harmless.
    """
    registry = getattr(artifact_repository_registry, "_artifact_repository_registry", None)
    if registry is None:
        return
    from importlib.metadata import entry_points

    registered = registry.get_registered_artifact_repositories()
    target = f"{__name__}:{DatabaseArtifactRepository.__name__}"
    for ep in entry_points(group="mlflow.artifact_repository"):
        if ep.value == target and registered.get(ep.name) is not DatabaseArtifactRepository:
            registry.register(ep.name, DatabaseArtifactRepository)  # also replaces `_late_repository`


_register_late()
