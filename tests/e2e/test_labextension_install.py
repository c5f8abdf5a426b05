"""The prebuilt JupyterLab extension ships in the wheel and JupyterLab accepts it.

Users get the panel from `pip install flock-nbext` alone (no Node.js): the wheel must carry the
federated bundle under share/jupyter/labextensions/flock-nbext, and `jupyter labextension list`
must report it enabled and OK (JupyterLab checks its shared-package versions against its own).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_PREFIX = "share/jupyter/labextensions/flock-nbext/"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def jupyter_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def labextension_list(env: dict[str, str]) -> dict[str, list[str]]:
    """`jupyter labextension list`, as {labextensions folder: [extension lines]}."""
    result = subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    sections: dict[str, list[str]] = {}
    current = None
    for line in ANSI.sub("", result.stdout + result.stderr).splitlines():
        if line.startswith("/"):
            current = line.strip()
            sections[current] = []
        elif current and line.startswith((" ", "\t")) and line.strip():
            sections[current].append(" ".join(line.split()))
    return sections


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """flock-nbext's wheel, built once with pip from this checkout (runs the TypeScript build when needed)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(REPO_ROOT),
        ],
        env=jupyter_env(),
        check=True,
        capture_output=True,
        timeout=600,
    )
    (built,) = out.glob("flock_nbext-*.whl")
    return built


@pytest.mark.slow
def test_wheel_carries_the_prebuilt_extension(wheel):
    with zipfile.ZipFile(wheel) as archive:
        shared = {
            name.split(".data/data/", 1)[1]: name for name in archive.namelist() if ".data/data/" in name
        }
        package = json.loads(archive.read(shared[DATA_PREFIX + "package.json"]))

    assert package["name"] == "flock-nbext"
    remote_entry = package["jupyterlab"]["_build"]["load"]
    assert re.fullmatch(r"static/remoteEntry\.[0-9a-f]+\.js", remote_entry)
    assert DATA_PREFIX + remote_entry in shared
    assert DATA_PREFIX + "static/style.js" in shared


@pytest.mark.slow
def test_jupyterlab_accepts_the_extension_installed_from_the_wheel(wheel, tmp_path):
    prefix = tmp_path / "prefix"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-compile",
            "--ignore-installed",
            "--prefix",
            str(prefix),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    labextensions = prefix / "share" / "jupyter" / "labextensions"
    env = jupyter_env(JUPYTER_PATH=str(labextensions.parent), JUPYTER_CONFIG_DIR=str(tmp_path / "config"))

    sections = labextension_list(env)

    assert any(
        re.match(r"flock-nbext v\S+ enabled OK( \(python, flock-nbext\))?$", line)
        for line in sections[str(labextensions)]
    ), sections


def test_flock_panel_is_enabled_in_this_environment():
    """After `pip install .` or `pip install -e .` (+ `jupyter labextension develop`), as `make lab` does."""
    from flock_nbext import __version__

    sections = labextension_list(jupyter_env())

    lines = [line for found in sections.values() for line in found if line.startswith("flock-nbext ")]
    assert lines, sections
    assert lines[0].startswith(f"flock-nbext v{__version__} enabled OK"), lines


def interface_bodies(source: str) -> dict[str, str]:
    """{interface name: body} of the `export interface` blocks of a TypeScript file."""
    return dict(re.findall(r"export interface (\w+) \{\n(.*?)\n\}", source, flags=re.S))


def test_panel_message_types_mirror_the_comm_schema():
    """labextension/src/tokens.ts declares every comm message of flock_nbext/schemas/comm.schema.json."""
    schema = json.loads((REPO_ROOT / "flock_nbext" / "schemas" / "comm.schema.json").read_text())
    tokens = (REPO_ROOT / "labextension" / "src" / "tokens.ts").read_text()
    interfaces = interface_bodies(tokens)

    request_types = re.search(r"export type RequestType = ([^;]+);", tokens).group(1)
    assert re.findall(r"'(\w+)'", request_types) == schema["$defs"]["request"]["properties"]["type"]["enum"]
    for name, definition in schema["$defs"].items():
        kind = definition.get("properties", {}).get("type", {}).get("const")
        if name == "request":
            body = interfaces["IFlockRequest"]
        elif kind is None:
            body = interfaces[f"I{name.title().replace('_', '')}"]
        else:
            (body,) = [body for body in interfaces.values() if re.search(rf"\btype: '{kind}';", body)]
        fields = set(re.findall(r"^\s*(\w+)\??:", body, flags=re.M))
        assert set(definition["properties"]) <= fields, (name, set(definition["properties"]) - fields)
