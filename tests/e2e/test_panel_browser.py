"""The flock side panel in a real JupyterLab, driven in Debian's Chromium.

Opens a notebook, waits for its kernel, opens the flock tab, and checks the status before and
after the "Load flock" button runs `%load_ext flock` in that kernel.
"""

from __future__ import annotations

import re
import time
import urllib.error
from pathlib import Path

import pytest

from flock_nbext import __version__

pytestmark = pytest.mark.browser

UI_TIMEOUT_MS = 60_000
REPO_ROOT = Path(__file__).resolve().parents[2]

# An ipykernel whose Python cannot import flock, as if flock were not installed in its environment.
KERNEL_WITHOUT_FLOCK = """
import sys

class NoFlock:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("flock", "flock_nbext"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoFlock())
from ipykernel import kernelapp
kernelapp.launch_new_instance()
"""


def wait_for_idle_kernel(server, timeout_s: float = 60) -> dict:
    """Poll the server's REST API until the notebook's kernel is started and idle.

    A kernel that is still starting can make `GET /api/kernels` answer 500 for a moment; poll on.
    """
    deadline = time.monotonic() + timeout_s
    seen: object = None
    while time.monotonic() < deadline:
        try:
            kernels = seen = server.api("kernels")
        except urllib.error.HTTPError as error:
            seen = error
        else:
            if kernels and all(kernel["execution_state"] == "idle" for kernel in kernels):
                return kernels[0]
        time.sleep(0.25)
    raise AssertionError(f"no idle kernel after {timeout_s} s: {seen}\n{server.log_tail()}")


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
    assert page.errors == []


def run_cell(page, index: int) -> None:
    """Put the cursor in cell `index` of the open notebook and run it (Shift+Enter)."""
    page.locator(".jp-NotebookPanel .jp-Cell").nth(index).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")


def test_panel_follows_the_notebook_and_its_kernel(lab_server, page):
    from playwright.sync_api import expect

    from .conftest import write_notebook

    write_notebook(
        lab_server.root_dir / "cells.ipynb", [("code", "%load_ext flock"), ("code", "%unload_ext flock")]
    )
    page.goto(f"{lab_server.url}/lab")
    page.locator('.jp-SideBar li[data-id="flock-panel"]').click()
    panel = page.locator("#flock-panel")
    status = panel.get_by_test_id("flock-status")
    expect(status).to_have_text("No notebook open", timeout=UI_TIMEOUT_MS)
    expect(panel.get_by_test_id("flock-load-button")).to_be_hidden()

    page.locator('.jp-SideBar li[data-id="filebrowser"]').click()
    page.locator(".jp-DirListing-itemText", has_text="cells.ipynb").dblclick()
    wait_for_idle_kernel(lab_server)
    page.locator('.jp-SideBar li[data-id="flock-panel"]').click()
    expect(panel.get_by_test_id("flock-notebook")).to_have_text("cells.ipynb")
    expect(status).to_have_text("flock is not loaded in this kernel", timeout=UI_TIMEOUT_MS)

    run_cell(page, 0)  # %load_ext flock typed by the user, not the button
    expect(status).to_have_text(f"flock {__version__} is loaded", timeout=UI_TIMEOUT_MS)

    page.locator(".lm-MenuBar-itemLabel", has_text="Kernel").click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Restart Kernel…$")).click()
    page.locator(".jp-Dialog-button", has_text="Restart").click()
    expect(status).to_have_text("flock is not loaded in this kernel", timeout=UI_TIMEOUT_MS)

    run_cell(page, 0)
    expect(status).to_have_text(f"flock {__version__} is loaded", timeout=UI_TIMEOUT_MS)
    run_cell(page, 1)  # %unload_ext flock closes the comm from the kernel side
    expect(status).to_have_text("flock is not loaded in this kernel", timeout=UI_TIMEOUT_MS)

    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="cells.ipynb")
    page.keyboard.press("Control+s")  # saved, so closing asks nothing
    expect(tab).not_to_have_class(re.compile(r"\bjp-mod-dirty\b"))
    tab.locator(".lm-TabBar-tabCloseIcon").click()
    expect(status).to_have_text("No notebook open", timeout=UI_TIMEOUT_MS)
    assert page.errors == []


def test_panel_shows_the_active_notebook_kernel(lab_server, page):
    """Two notebooks, flock loaded in one: the panel answers for whichever tab is active."""
    from playwright.sync_api import expect

    from .conftest import write_notebook

    write_notebook(lab_server.root_dir / "other.ipynb", [("code", "1 + 1")])
    page.goto(f"{lab_server.url}/lab/tree/test.ipynb")
    wait_for_idle_kernel(lab_server)
    page.locator('.jp-SideBar li[data-id="flock-panel"]').click()
    panel = page.locator("#flock-panel")
    status = panel.get_by_test_id("flock-status")
    notebook = panel.get_by_test_id("flock-notebook")
    expect(status).to_have_text("flock is not loaded in this kernel", timeout=UI_TIMEOUT_MS)
    panel.get_by_test_id("flock-load-button").click()
    expect(status).to_have_text(f"flock {__version__} is loaded", timeout=UI_TIMEOUT_MS)

    page.locator('.jp-SideBar li[data-id="filebrowser"]').click()
    page.locator(".jp-DirListing-itemText", has_text="other.ipynb").dblclick()
    page.locator('.jp-SideBar li[data-id="flock-panel"]').click()
    expect(notebook).to_have_text("other.ipynb", timeout=UI_TIMEOUT_MS)
    expect(status).to_have_text("flock is not loaded in this kernel", timeout=UI_TIMEOUT_MS)

    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="test.ipynb").click()
    expect(notebook).to_have_text("test.ipynb")
    expect(status).to_have_text(f"flock {__version__} is loaded", timeout=UI_TIMEOUT_MS)
    assert page.errors == []


def test_panel_reports_a_kernel_that_cannot_load_flock(lab_server, page):
    """A kernel whose Python has no flock: the failure is shown and the button stays."""
    import json
    import sys

    from playwright.sync_api import expect

    from .conftest import write_notebook

    spec_dir = lab_server.data_dir / "kernels" / "noflock"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-c", KERNEL_WITHOUT_FLOCK, "-f", "{connection_file}"],
        "display_name": "Python without flock",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    write_notebook(
        lab_server.root_dir / "noflock.ipynb",
        [("code", "import sys; sys.modules['flock'] = None")],
        kernel="noflock",
    )

    page.goto(f"{lab_server.url}/lab/tree/noflock.ipynb")
    wait_for_idle_kernel(lab_server)
    page.locator('.jp-SideBar li[data-id="flock-panel"]').click()
    panel = page.locator("#flock-panel")
    status = panel.get_by_test_id("flock-status")
    load_button = panel.get_by_test_id("flock-load-button")
    expect(status).to_have_text("flock is not loaded in this kernel", timeout=UI_TIMEOUT_MS)

    load_button.click()
    expect(status).to_have_text(
        "Could not load flock: ModuleNotFoundError: No module named 'flock'", timeout=UI_TIMEOUT_MS
    )
    expect(load_button).to_be_visible()

    run_cell(page, 0)  # now `import flock` gives None: %load_ext runs without error but loads nothing
    load_button.click()
    expect(status).to_have_text(
        "flock did not load: The flock module is not an IPython extension.", timeout=UI_TIMEOUT_MS
    )
    assert page.errors == []
