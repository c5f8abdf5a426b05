"""The flock side panel in a real JupyterLab, driven in Debian's Chromium.

Opens a notebook, waits for its kernel, opens the flock tab, and checks the status before and
after the "Load flock" button runs `%load_ext flock` in that kernel.
"""

from __future__ import annotations

import re
import time

import pytest

from flock_nbext import __version__

from .conftest import copy_if_requested

pytestmark = pytest.mark.browser

UI_TIMEOUT_MS = 60_000
REPO_ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def wait_for_idle_kernel(server, timeout_s: float = 60) -> dict:
    """Poll the server's REST API until the notebook's kernel is started and idle."""
    deadline = time.monotonic() + timeout_s
    kernels: list = []
    while time.monotonic() < deadline:
        kernels = server.api("kernels")
        if kernels and all(kernel["execution_state"] == "idle" for kernel in kernels):
            return kernels[0]
        time.sleep(0.25)
    raise AssertionError(f"no idle kernel after {timeout_s} s: {kernels}\n{server.log_tail()}")


def test_panel_loads_flock_in_the_notebook_kernel(lab_server, page, artifacts_dir):
    from playwright.sync_api import expect

    page.goto(f"{lab_server.url}/lab/tree/test.ipynb")
    expect(page.locator(".jp-NotebookPanel")).to_be_visible(timeout=UI_TIMEOUT_MS)
    wait_for_idle_kernel(lab_server)

    page.locator('.jp-SideBar li[data-id="flock-panel"]').click()
    panel = page.locator("#flock-panel")
    expect(panel).to_be_visible()
    status = panel.get_by_test_id("flock-status")
    load_button = panel.get_by_test_id("flock-load-button")

    expect(panel.get_by_test_id("flock-notebook")).to_have_text("test.ipynb")
    expect(status).to_have_text("flock is not loaded in this kernel", timeout=UI_TIMEOUT_MS)
    expect(load_button).to_be_visible()

    load_button.click()

    expect(status).to_have_text(f"flock {__version__} is loaded", timeout=UI_TIMEOUT_MS)
    expect(panel.get_by_test_id("flock-detail")).to_have_text(re.compile(r"^tracking (on|off)"))
    expect(load_button).to_be_hidden()

    screenshot = artifacts_dir / "panel.png"
    page.screenshot(path=str(screenshot))
    copy_if_requested(screenshot, REPO_ROOT / "docs" / "panel.png")
    assert page.errors == []
