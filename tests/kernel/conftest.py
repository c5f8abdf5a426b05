"""An in-process IPython shell with flock loaded, for notebook-style tests of the kernel glue."""

from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

from flock_nbext.kernel.extension import extension_of


class Notebook:
    """run_cell() like a notebook does, with the cell's error re-raised so tests fail loudly."""

    def __init__(self, shell):
        self.shell = shell

    @property
    def ext(self):
        return extension_of(self.shell)

    def run_cell(self, source: str, *, expect_error: bool = False):
        result = self.shell.run_cell(source, store_history=True)
        if not expect_error:
            error = result.error_before_exec or result.error_in_exec
            if error is not None:
                raise error
        return result

    def flush(self, timeout: float = 60.0) -> bool:
        session = self.ext.tracker.session(create=False)
        return True if session is None else session.flush(timeout)

    @property
    def ns(self):
        return self.shell.user_ns


@pytest.fixture
def notebook():
    """flock loaded in the (singleton) InteractiveShell, its namespace cleared, unloaded afterwards."""
    shell = InteractiveShell.instance()
    shell.run_line_magic("reset", "-f")
    shell.run_line_magic("load_ext", "flock")
    try:
        yield Notebook(shell)
    finally:
        shell.run_line_magic("unload_ext", "flock")
        shell.run_line_magic("reset", "-f")
