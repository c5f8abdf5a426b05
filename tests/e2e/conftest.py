"""Fixtures for end-to-end tests: a real `jupyter lab` on a free loopback port and Debian's Chromium.

The server runs from this interpreter's environment with its own config, runtime, settings and
workspace folders (so nothing from ~/.jupyter leaks in) and with the "Jupyter news" announcements
plugin disabled, so screenshots show only what the test opened. It is stopped by the PID we started.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DISABLED_LAB_PLUGINS = ["@jupyterlab/apputils-extension:announcements"]
SERVER_START_TIMEOUT_S = 60


@dataclass(frozen=True)
class LabServer:
    """A running `jupyter lab`: where to reach it and where its files live."""

    url: str
    root_dir: Path
    data_dir: Path
    log_path: Path
    pid: int

    def api(self, path: str) -> object:
        """GET `/api/<path>` as JSON."""
        with urllib.request.urlopen(f"{self.url}/api/{path}", timeout=10) as response:
            return json.loads(response.read())

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_notebook(path: Path, cells: list[tuple[str, str]], kernel: str = "python3") -> Path:
    """A v4 notebook with (cell_type, source) cells and the kernelspec named `kernel`."""
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": kernel, "display_name": kernel, "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": [
            {
                "id": f"cell-{i}",
                "cell_type": kind,
                "metadata": {},
                "source": source,
                **({"outputs": [], "execution_count": None} if kind == "code" else {}),
            }
            for i, (kind, source) in enumerate(cells)
        ],
    }
    path.write_text(json.dumps(notebook, indent=1))
    return path


def _isolated_jupyter_dirs(base: Path) -> dict[str, str]:
    config_dir = base / "config"
    (config_dir / "labconfig").mkdir(parents=True)
    page_config = {"disabledExtensions": {name: True for name in DISABLED_LAB_PLUGINS}}
    (config_dir / "labconfig" / "page_config.json").write_text(json.dumps(page_config))
    runtime_dir = base / "runtime"
    runtime_dir.mkdir()
    data_dir = base / "data"
    (data_dir / "kernels").mkdir(parents=True)
    return {
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_RUNTIME_DIR": str(runtime_dir),
        "JUPYTER_DATA_DIR": str(data_dir),
    }


def _wait_until_up(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with {process.returncode}:\n{log_path.read_text()[-4000:]}"
            )
        try:
            with urllib.request.urlopen(f"{url}/api/status", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(
        f"jupyter lab did not answer within {SERVER_START_TIMEOUT_S} s:\n{log_path.read_text()[-4000:]}"
    )


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM the server we started (it shuts its kernels down), then kill what is left by PID."""
    import psutil

    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    _, alive = psutil.wait_procs(children, timeout=5)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


@pytest.fixture
def notebook_dir(tmp_path: Path) -> Path:
    """The server's root folder, holding test.ipynb."""
    root = tmp_path / "notebooks"
    root.mkdir()
    write_notebook(
        root / "test.ipynb",
        [
            ("markdown", "# flock panel test"),
            ("code", "import math\nmath.sqrt(2)"),
        ],
    )
    return root


@pytest.fixture
def lab_server(tmp_path: Path, notebook_dir: Path) -> Iterator[LabServer]:
    """`jupyter lab` on 127.0.0.1:<free port>, no token, serving `notebook_dir`.

    The environment (MLFLOW_TRACKING_URI, FLOCK_* from the suite's autouse fixture) is passed on,
    so kernels it starts use this test's temporary tracking store.
    """
    base = tmp_path / "jupyter"
    base.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **_isolated_jupyter_dirs(base)}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ip",
        "127.0.0.1",
        f"--port={port}",
        "--ServerApp.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={notebook_dir}",
        f"--LabApp.user_settings_dir={base / 'settings'}",
        f"--LabApp.workspaces_dir={base / 'workspaces'}",
    ]
    log_path = base / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=notebook_dir, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        _wait_until_up(url, process, log_path)
        yield LabServer(
            url=url,
            root_dir=notebook_dir,
            data_dir=Path(env["JUPYTER_DATA_DIR"]),
            log_path=log_path,
            pid=process.pid,
        )
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium) -> Iterator[object]:
    """A fresh browser page (1280x800) whose uncaught errors are collected in `page.errors`."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def artifacts_dir() -> Path:
    """tests/artifacts/ (gitignored): screenshots and logs that CI keeps."""
    path = Path(__file__).resolve().parents[1] / "artifacts"
    path.mkdir(exist_ok=True)
    return path


def copy_if_requested(source: Path, target: Path) -> bool:
    """Refresh a committed copy (e.g. docs/panel.png) when missing or FLOCK_UPDATE_DOCS=1."""
    if target.exists() and os.environ.get("FLOCK_UPDATE_DOCS") != "1":
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return True
