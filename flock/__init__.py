"""`%load_ext flock`: a shim that loads flock_nbext under the short name.

The library's API lives in `flock_nbext`; this module only forwards the extension entry points.
"""

import sys as _sys

from flock_nbext import __version__, load_ipython_extension, unload_ipython_extension  # noqa: F401

if "IPython" not in _sys.modules and not getattr(_sys, "ps1", None):
    _sys.stderr.write(
        "flock is an IPython extension: run `%load_ext flock` in a notebook or IPython shell; "
        "for the Python API use `import flock_nbext`.\n"
    )
